"""The state table is what the code does: every move the app makes is declared in cfdi/moves.py and
allowed by the table, every state change in einvoice/ goes through `transition` with one of those
moves, and nothing else writes a CFDI's status."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mexico_localization.cfdi import moves
from mexico_localization.cfdi.moves import IllegalMove, Move, move
from mexico_localization.cfdi.policy import Step, after_cancel, next_action
from mexico_localization.cfdi.states import TRANSITIONS, CfdiState, can_move
from tests.test_policy import NOW, all_errors

EINVOICE = Path(__file__).resolve().parent.parent / "mexico_localization" / "einvoice"
S = CfdiState


def sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in EINVOICE.rglob("*.py")}


def calls_of(function: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path, text in sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == function:
                found.append((path, node))
    return found


def test_every_declared_move_is_allowed_by_the_table():
    for declared in moves.ALL:
        for source in declared.sources:
            for target in declared.targets:
                assert can_move(source, target), f"{declared.name}: {source} -> {target}"


def test_every_state_change_in_the_app_applies_a_declared_move():
    """Moves reach `transition` directly, or through the record step as an `Outcome`'s move."""
    applied = [(path, call, call.args[1]) for path, call in calls_of("transition")
               if path.name not in ("rows.py", "records.py")]
    applied += [(path, call, call.args[0]) for path, call in calls_of("Outcome") if call.args]
    assert len(applied) >= 12, "the pipeline's moves were not found"
    declared = {name for name in dir(moves) if isinstance(getattr(moves, name), Move)}
    used = set()
    for path, call, argument in applied:
        assert isinstance(argument, ast.Name) and argument.id in declared, f"{path}:{call.lineno}"
        used.add(argument.id)
    assert used == {name for name in declared if getattr(moves, name) in moves.ALL}, "a declared move is unused"
    # The record step applies only the move it is given.
    [(_path, inner)] = [(p, c) for p, c in calls_of("transition") if p.name == "records.py"]
    assert ast.unparse(inner.args[1]) == "outcome.move"


def test_no_status_is_written_except_by_transition():
    patterns = [r"_cursor", r"rowcount", r"update\s+`tabCFDI`\s+set[^;]*\bstatus\s*=",
                r"set_value\(\s*\"CFDI\"[^)]*\"status\"", r"db_set\(\s*\"status\""]
    for path, text in sources().items():
        for pattern in patterns:
            assert not re.search(pattern, text, re.IGNORECASE | re.DOTALL), f"{path.name} matches {pattern}"


def test_every_outcome_the_policy_can_decide_is_a_target_of_its_record_move():
    outcomes = [*all_errors(), {"status": "valid", "uuid": "u"}, {"status": "pending"}, {"status": "failed"},
                {"status": "duplicate"}, {"status": "draft"}]
    for attempt in (1, 99):
        for outcome in outcomes:
            for step in Step:
                for reconciling, looked_up in ((False, False), (True, False), (True, True)):
                    decision = next_action(outcome, attempt, NOW, step=step, reconciling=reconciling,
                                           looked_up=looked_up)
                    assert decision.state in moves.RECORD_STAMP.targets, (outcome, step)
            assert after_cancel(outcome, attempt, NOW).state in moves.RECORD_CANCEL.targets, outcome
    for answer in ("accepted", "pending", "verifying", "rejected", "expired", "none", None):
        for status in ("valid", "canceled"):
            decision = after_cancel({"status": status, "cancellation_status": answer}, 1, NOW)
            assert decision.state in moves.RECORD_CANCEL.targets


def test_a_move_the_table_forbids_cannot_be_declared():
    with pytest.raises(IllegalMove, match="Cancelled -> Stamped"):
        move("resurrect", {S.CANCELLED}, {S.STAMPED})
    with pytest.raises(IllegalMove):
        move("nothing", set(), {S.QUEUED})


def test_a_target_outside_the_move_is_refused():
    assert moves.CLAIM_STAMP.check("Stamping") is S.STAMPING
    with pytest.raises(IllegalMove, match="cannot end in Stamped"):
        moves.CLAIM_STAMP.check(S.STAMPED)


def test_final_states_stay_final_and_every_state_is_reachable_or_a_start():
    assert not TRANSITIONS[S.CANCELLED] and not TRANSITIONS[S.NOT_APPLICABLE]
    reachable = {target for targets in TRANSITIONS.values() for target in targets}
    starts = {S.QUEUED, S.AWAITING_ORIGINAL, S.STAMPED, S.AWAITING_GLOBAL}  # where rows (or sales) begin
    assert set(CfdiState) <= reachable | starts

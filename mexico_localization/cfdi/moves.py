"""Every state change the app's code makes, declared once with the states it starts from and the
states it may end in. Declaring a move the table (states.py) forbids raises at import, so a module
that would make an illegal move cannot even load; `einvoice.pipeline.rows.transition` is the one
function that applies a move, and refuses a target outside it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mexico_localization.cfdi.states import (
    CANCEL_IN_FLIGHT,
    CANCEL_OUTCOMES,
    STAMP_OUTCOMES,
    CfdiState,
    can_move,
)


class IllegalMove(Exception):
    """A move the state table forbids: a bug in the code that asked for it, never a user error."""


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[CfdiState]
    targets: frozenset[CfdiState]

    def __post_init__(self) -> None:
        forbidden = sorted(f"{s} -> {t}" for s in self.sources for t in self.targets if not can_move(s, t))
        if forbidden or not self.sources or not self.targets:
            raise IllegalMove(f"{self.name}: the state table forbids {', '.join(forbidden) or 'an empty move'}")

    def check(self, target: CfdiState | str) -> CfdiState:
        """The target as a state, if this move may end there."""
        state = CfdiState(target)
        if state not in self.targets:
            raise IllegalMove(f"{self.name} cannot end in {state} (only {', '.join(sorted(self.targets))})")
        return state


def move(name: str, sources: Iterable[CfdiState], targets: Iterable[CfdiState]) -> Move:
    return Move(name, frozenset(sources), frozenset(targets))


S = CfdiState
CLAIM_STAMP = move("claim for stamping", {S.QUEUED, S.RETRYING, S.PENDING_AT_PAC}, {S.STAMPING})
RECORD_STAMP = move("record a stamping try", {S.STAMPING}, STAMP_OUTCOMES)
RESCUE_STAMPING = move("hand back a try whose worker died or failed", {S.STAMPING}, {S.RETRYING, S.FAILED})
REQUEUE_FAILED = move("queue a Failed CFDI again", {S.FAILED}, {S.QUEUED})
RELEASE_RETURN = move("queue a credit note whose sale's CFDI is stamped", {S.AWAITING_ORIGINAL}, {S.QUEUED})
REQUEST_CANCEL = move("request cancellation", {S.STAMPED, S.CANCEL_REJECTED}, {S.CANCEL_REQUESTED})
RECORD_CANCEL = move("record a cancellation call", CANCEL_IN_FLIGHT, CANCEL_OUTCOMES)
CANCELLED_OUTSIDE = move("a cancellation made outside the app", {S.STAMPED, S.CANCEL_REJECTED},
                         {S.CANCEL_PENDING, S.CANCELLED})
RESOLVE_REVIEW = move("a person resolves a CFDI in review", {S.NEEDS_REVIEW}, {S.STAMPED, S.QUEUED})

ALL: tuple[Move, ...] = (CLAIM_STAMP, RECORD_STAMP, RESCUE_STAMPING, REQUEUE_FAILED, RELEASE_RETURN, REQUEST_CANCEL,
                         RECORD_CANCEL, CANCELLED_OUTSIDE, RESOLVE_REVIEW)

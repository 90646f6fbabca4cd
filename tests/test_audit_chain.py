"""Tamper evidence: daily seals chained over the CFDI records, and the check that finds the first bad day."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mexico_localization.cfdi.audit_chain import GENESIS, Finding, canonical, day_digest, seal, verify

D1 = date(2026, 11, 23)
DAYS = [D1 + timedelta(days=n) for n in range(3)]


def records(day: date, n: int = 3) -> list[dict]:
    return [{"name": f"ACC-PSINV-{day:%d}-{i}-I", "uuid": f"uuid-{day:%d}-{i}", "status": "Stamped",
             "total": 185.6 + i, "attempts": [{"operation": "create_invoice", "http_status": 200}]} for i in range(n)]


def trail() -> tuple[list, dict]:
    data = {day: records(day) for day in DAYS}
    seals, previous = [], GENESIS
    for day in DAYS:
        s = seal(day, data[day], previous)
        seals.append(s)
        previous = s.chain
    return seals, data


def test_a_clean_trail_verifies():
    seals, data = trail()
    assert verify(seals, data) is None
    assert seals[0].previous == GENESIS and seals[1].previous == seals[0].chain


def test_an_edited_record_names_its_day():
    seals, data = trail()
    data[DAYS[1]][2]["total"] = 1.0
    assert verify(seals, data) == Finding(DAYS[1], "records changed")


def test_a_deleted_or_added_record_names_its_day():
    seals, data = trail()
    del data[DAYS[2]][0]
    assert verify(seals, data) == Finding(DAYS[2], "records added or removed")
    seals, data = trail()
    data[DAYS[0]].append(records(DAYS[0], 4)[3])
    assert verify(seals, data) == Finding(DAYS[0], "records added or removed")


def test_a_rewritten_seal_is_caught_even_when_its_digest_matches_the_edited_records():
    seals, data = trail()
    data[DAYS[1]][0]["status"] = "Cancelled"
    forged = seal(DAYS[1], data[DAYS[1]], seals[0].chain)  # someone re-sealed the edited day
    assert verify([seals[0], forged, seals[2]], data) == Finding(DAYS[1], "seal rewritten")
    assert verify([seals[0], replace(seals[1], digest=forged.digest), seals[2]], data) == \
        Finding(DAYS[1], "seal altered")


def test_the_digest_does_not_depend_on_reading_order_or_key_order():
    rows = records(D1)
    assert day_digest(rows) == day_digest(list(reversed(rows)))
    assert canonical({"b": 1, "a": "ñ"}) == canonical({"a": "ñ", "b": 1}) == '{"a":"ñ","b":1}'


@given(st.lists(st.dictionaries(st.sampled_from(["name", "uuid", "total", "status"]),
                                st.one_of(st.text(max_size=5), st.integers()), min_size=1), min_size=1, max_size=6),
       st.data())
def test_any_single_change_to_a_sealed_day_is_found(rows, data):
    s = seal(D1, rows)
    index = data.draw(st.integers(0, len(rows) - 1))
    changed = [dict(r) for r in rows]
    changed[index] = {**changed[index], "tampered": True}
    assert verify([s], {D1: rows}) is None
    assert verify([s], {D1: changed}) == Finding(D1, "records changed")

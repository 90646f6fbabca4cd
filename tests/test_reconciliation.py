"""Month-end reconciliation: the road each sale took to SAT and what stands between it and a valid CFDI."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mexico_localization.cfdi.reconciliation import (
    CREDIT_NOTE,
    FINDINGS,
    GLOBAL,
    NETTED,
    NOMINATIVE,
    NONE,
    SaleCfdi,
    complement_gap,
    findings,
    has_valid_cfdi,
    road,
)
from mexico_localization.cfdi.states import CfdiState

STAMPED = SaleCfdi("ACC-PSINV-1", cancelled=False, is_return=False, sale_status="Stamped", message="",
                   cfdi="ACC-PSINV-1-I", cfdi_status="Stamped")


def codes(sale: SaleCfdi, live_site: bool = True) -> list[str]:
    return [f.code for f in findings(sale, live_site=live_site)]


def test_each_road_is_named_by_what_the_sale_points_to():
    ticket = replace(STAMPED, cfdi="GLOBAL-06800-20261125", is_global=True)
    assert road(STAMPED) == NOMINATIVE
    assert road(ticket) == GLOBAL
    assert road(replace(ticket, is_return=True)) == NETTED
    assert road(replace(STAMPED, is_return=True)) == CREDIT_NOTE
    assert road(replace(STAMPED, cfdi=None, cfdi_status=None, sale_status="Awaiting Global")) == GLOBAL
    assert road(replace(STAMPED, cfdi=None, cfdi_status=None, sale_status="Awaiting Global", is_return=True)) == NETTED
    assert road(replace(STAMPED, cfdi=None, cfdi_status=None, sale_status="Not Applicable")) == NONE


def test_a_stamped_sale_is_covered_and_silent():
    assert codes(STAMPED) == []
    assert has_valid_cfdi(STAMPED, live_site=True)


@pytest.mark.parametrize(("status", "code"), [
    ("Failed", "failed"), ("Queued", "in_flight"), ("Stamping", "in_flight"), ("Retrying", "in_flight"),
    ("Pending at PAC", "in_flight"), ("Needs Review", "needs_review"), ("Cancelled", "cancelled"),
    ("Awaiting Original", "awaiting_original"), ("Not Applicable", "no_cfdi"),
])
def test_every_state_without_a_valid_cfdi_is_a_gap(status, code):
    sale = replace(STAMPED, cfdi_status=status, last_error="CFDI40147: RFC del receptor")
    assert codes(sale) == [code]
    assert not has_valid_cfdi(sale, live_site=True)


def test_a_walk_in_ticket_waiting_for_its_global_is_a_gap_until_the_global_exists():
    waiting = replace(STAMPED, cfdi=None, cfdi_status=None, sale_status="Awaiting Global")
    assert codes(waiting) == ["awaiting_global"]
    assert not has_valid_cfdi(waiting, live_site=True)


def test_a_failure_names_its_error_and_a_missing_cfdi_its_reason():
    failed = findings(replace(STAMPED, cfdi_status="Failed", last_error="CFDI40147"), live_site=True)[0]
    assert "CFDI40147" in failed.template.format(**failed.params)
    none = findings(replace(STAMPED, cfdi=None, cfdi_status=None, sale_status="Not Applicable",
                            message="E Invoice was disabled"), live_site=True)[0]
    assert none.template.format(**none.params) == "No CFDI: E Invoice was disabled"


def test_a_cancellation_made_outside_the_app_is_named_as_such():
    assert codes(replace(STAMPED, cfdi_status="Cancelled", cancelled_outside=True)) == ["cancelled_outside"]


def test_a_cancellation_in_progress_still_covers_the_sale():
    for status in ("Cancel Requested", "Cancel Pending"):
        sale = replace(STAMPED, cfdi_status=status)
        assert codes(sale) == ["cancel_in_progress"]
        assert has_valid_cfdi(sale, live_site=True)
    assert has_valid_cfdi(replace(STAMPED, cfdi_status="Cancel Rejected"), live_site=True)


def test_a_test_stamp_counts_only_on_a_live_site():
    test_stamp = replace(STAMPED, livemode=False)
    assert codes(test_stamp, live_site=True) == ["test_stamp"]
    assert not has_valid_cfdi(test_stamp, live_site=True)
    assert codes(test_stamp, live_site=False) == []


def test_a_cancelled_sale_is_a_finding_only_while_its_cfdi_is_valid():
    gone = replace(STAMPED, cancelled=True)
    assert codes(gone) == ["cancelled_sale_valid_cfdi"]
    assert codes(replace(gone, cfdi_status="Cancelled")) == []
    assert codes(replace(gone, cfdi_status="Not Applicable")) == []
    assert not has_valid_cfdi(gone, live_site=True)


@given(st.sampled_from([s.value for s in CfdiState]), st.booleans(), st.booleans(), st.booleans())
def test_every_state_gives_a_known_finding_and_validity_agrees(status, is_return, cancelled, livemode):
    sale = replace(STAMPED, cfdi_status=status, is_return=is_return, cancelled=cancelled, livemode=livemode)
    found = findings(sale, live_site=True)
    assert all(f.code in FINDINGS for f in found)
    for f in found:
        f.template.format(**f.params)  # every template gets the fields it names
    assert has_valid_cfdi(sale, live_site=True) == (not cancelled and all(f.covered for f in found)
                                                    and status in {"Stamped", "Cancel Requested", "Cancel Pending",
                                                                   "Cancel Rejected"})


def test_complements_must_declare_what_erpnext_received():
    assert complement_gap(Decimal("860"), Decimal("860")) is None
    assert complement_gap(Decimal("860"), Decimal("859.995")) is None
    gap = complement_gap(Decimal("860"), Decimal("360"))
    assert (gap.code, gap.params) == ("uncomplemented_payment", {"amount": "500.00"})
    over = complement_gap(Decimal("0"), Decimal("1160"))
    assert (over.code, over.params) == ("overcomplemented", {"amount": "1,160.00"})


def test_a_sale_whose_cfdi_record_is_gone_is_flagged():
    orphan = replace(STAMPED, cfdi=None, cfdi_status=None, sale_status="Stamped")
    [finding] = findings(orphan, live_site=False)
    assert finding.code == "record_missing" and "Stamped" in finding.template.format(**finding.params)
    assert not has_valid_cfdi(orphan, live_site=False)
    for waiting in ("Not Applicable", "Awaiting Global", ""):
        assert "record_missing" not in codes(replace(orphan, sale_status=waiting))

"""Month-end reconciliation: does every POS sale have a valid CFDI, and does every consolidated
Sales Invoice's balance match what its payment complements say was paid?

A sale reaches SAT by one road: its own CFDI (nominative ingreso, or a return's credit note) or a
global CFDI to público en general (a walk-in ticket, or a return netted into its ticket). What the
road ends in decides whether the sale is covered. Findings are English templates with named fields;
the Frappe layer passes each through `_()` before formatting (translations/es.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState

S = CfdiState
CENT = Decimal("0.01")

NOMINATIVE, GLOBAL, CREDIT_NOTE, NETTED, NONE = "Nominative", "Global", "Credit note", "Netted into global", "No CFDI"
ROADS = (NOMINATIVE, GLOBAL, CREDIT_NOTE, NETTED, NONE)
# A sale in these states has no CFDI row yet (or never will); in any other, its mirror names one.
NO_RECORD_YET = ("", S.NOT_APPLICABLE.value, S.AWAITING_GLOBAL.value)

FINDINGS = {
    "cancelled_sale_valid_cfdi": "The sale was cancelled in ERPNext but its CFDI {cfdi} is still valid at SAT: "
                                 "cancel the CFDI.",
    "test_stamp": "Stamped in FacturaAPI's Test environment: it has no fiscal value. Stamp it again with the "
                  "Live key.",
    "cancelled": "Its CFDI {cfdi} was cancelled and nothing replaces it.",
    "cancelled_outside": "Its CFDI {cfdi} was cancelled outside this system (FacturaAPI dashboard or SAT portal) "
                         "and nothing replaces it.",
    "awaiting_global": "Waiting for its global CFDI: the hourly job issues it once the period closes.",
    "awaiting_original": "Waiting for the CFDI of the sale it returns.",
    "in_flight": "Its CFDI {cfdi} is being stamped ({status}).",
    "failed": "Its CFDI {cfdi} failed: {error}",
    "needs_review": "Its CFDI {cfdi} needs review: FacturaAPI may hold two CFDIs for it.",
    "no_cfdi": "No CFDI: {reason}",
    "record_missing": "The sale says its CFDI is {status}, but no CFDI record is linked to it: the fiscal record "
                      "may have been removed. Check the CFDI Audit Trail and Verify audit trail.",
    "cancel_in_progress": "A cancellation of its CFDI {cfdi} is in progress ({status}).",
    "uncomplemented_payment": "ERPNext has received {amount} more than its payment complements declare: "
                              "a payment has no complement.",
    "overcomplemented": "Its payment complements declare {amount} more than ERPNext has received: a complement "
                        "may belong to a cancelled payment.",
}


@dataclass(frozen=True)
class Finding:
    code: str
    params: dict[str, str]
    covered: bool  # the sale still has a valid CFDI (a warning, not a gap)

    @property
    def template(self) -> str:
        return FINDINGS[self.code]


@dataclass(frozen=True)
class SaleCfdi:
    """A POS sale as ERPNext has it, and the CFDI its mirror points to (if any)."""
    sale: str
    cancelled: bool            # docstatus 2 in ERPNext
    is_return: bool
    sale_status: str           # the sale's mirrored CFDI status
    message: str               # the sale's mirrored CFDI message
    cfdi: str | None = None
    cfdi_status: str | None = None
    is_global: bool = False
    livemode: bool = True
    cancelled_outside: bool = False
    last_error: str = ""


def road(s: SaleCfdi) -> str:
    if not s.cfdi:
        if s.sale_status != S.AWAITING_GLOBAL.value:
            return NONE
        return NETTED if s.is_return else GLOBAL
    if s.is_global:
        return NETTED if s.is_return else GLOBAL
    return CREDIT_NOTE if s.is_return else NOMINATIVE


def status_of(s: SaleCfdi) -> str:
    return s.cfdi_status or s.sale_status or S.NOT_APPLICABLE.value


def findings(s: SaleCfdi, *, live_site: bool) -> list[Finding]:
    """What stands between this sale and a valid CFDI at SAT, and what deserves a look anyway."""
    status = status_of(s)
    valid = status in {v.value for v in VALID_AT_SAT}
    cfdi = {"cfdi": s.cfdi or ""}
    if s.cancelled:
        return [Finding("cancelled_sale_valid_cfdi", cfdi, False)] if valid and s.cfdi else []
    if not s.cfdi and s.sale_status not in NO_RECORD_YET:
        return [Finding("record_missing", {"status": s.sale_status}, False)]
    if valid:
        found = []
        if live_site and not s.livemode:
            found.append(Finding("test_stamp", {}, False))
        if status in (S.CANCEL_REQUESTED.value, S.CANCEL_PENDING.value):
            found.append(Finding("cancel_in_progress", {**cfdi, "status": status}, True))
        return found
    return [_gap(s, status)]


def _gap(s: SaleCfdi, status: str) -> Finding:
    cfdi = {"cfdi": s.cfdi or ""}
    if status == S.CANCELLED.value:
        return Finding("cancelled_outside" if s.cancelled_outside else "cancelled", cfdi, False)
    if status == S.AWAITING_GLOBAL.value:
        return Finding("awaiting_global", {}, False)
    if status == S.AWAITING_ORIGINAL.value:
        return Finding("awaiting_original", {}, False)
    if status in {v.value for v in IN_FLIGHT}:
        return Finding("in_flight", {**cfdi, "status": status}, False)
    if status == S.FAILED.value:
        return Finding("failed", {**cfdi, "error": s.last_error or s.message or "?"}, False)
    if status == S.NEEDS_REVIEW.value:
        return Finding("needs_review", cfdi, False)
    return Finding("no_cfdi", {"reason": s.message or status}, False)


def has_valid_cfdi(s: SaleCfdi, *, live_site: bool, found: list[Finding] | None = None) -> bool:
    """`found`: the sale's findings when the caller already has them."""
    found = findings(s, live_site=live_site) if found is None else found
    return all(f.covered for f in found) and not s.cancelled and status_of(s) in {v.value for v in VALID_AT_SAT}


def complement_gap(received_per_erpnext: Decimal, declared_by_complements: Decimal) -> Finding | None:
    """A consolidated Sales Invoice's PPD sales: what ERPNext received after the till against what the
    valid payment complements declare. A cent of rounding is not a finding."""
    diff = (received_per_erpnext - declared_by_complements).quantize(CENT)
    if abs(diff) <= CENT:
        return None
    if diff > 0:
        return Finding("uncomplemented_payment", {"amount": f"{diff:,.2f}"}, True)
    return Finding("overcomplemented", {"amount": f"{-diff:,.2f}"}, True)

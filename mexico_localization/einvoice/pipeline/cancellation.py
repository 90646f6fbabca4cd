"""Cancelling a CFDI at FacturaAPI: the request, one call (or a look at one in progress), its record.

The request only moves the row to Cancel Requested and queues the call for after the commit; the
job claims the row, calls FacturaAPI with no transaction open, and records the answer in one short
transaction. SAT's answer can take days (the receiver has three business days), so Cancel Pending
rows are polled by the sweep. Gated by Enable Cancellation.
"""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.moves import RECORD_CANCEL, REQUEST_CANCEL
from mexico_localization.cfdi.policy import after_cancel
from mexico_localization.cfdi.states import CANCEL_IN_FLIGHT, CfdiState
from mexico_localization.einvoice.pipeline.records import ExchangeLog, Outcome, record_cfdi_call
from mexico_localization.einvoice.pipeline.rows import enqueue_cancel, new_claim, transition
from mexico_localization.einvoice.settings import get_settings, make_client, retry_policy
from mexico_localization.einvoice.standing import valid_relatives
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import FacturapiError
from mexico_localization.facturapi.errors import ConflictError

STALE_CLAIM_SECONDS = 330  # a short-queue job is killed at 300 s
SAFETY_NET_SECONDS = 120
ON_ITS_WAY = (CfdiState.CANCEL_REQUESTED.value, CfdiState.CANCEL_PENDING.value, CfdiState.CANCELLED.value)


def request_cancellation(cfdi: str, motive: str, substitution: str | None = None) -> None:
    """Moves a valid CFDI to Cancel Requested and queues the call for after the caller's commit;
    asking for one already on its way changes nothing."""
    if not get_settings().enable_cancellation:
        frappe.throw(_("Cancellation is disabled: a CFDI Manager can turn on Enable Cancellation in E Invoice "
                       "Setting."), title=_("Cancellation disabled"))
    refuse_while_related(cfdi)
    # next_attempt_at is a safety net: should the job vanish (Redis flushed), the sweep asks again then.
    requested = transition(cfdi, REQUEST_CANCEL, CfdiState.CANCEL_REQUESTED, {
        "cancellation_motive": motive, "substitution_uuid": substitution, "claimed_at": None,
        "next_attempt_at": add_to_date(now_datetime(), seconds=SAFETY_NET_SECONDS), "cancellation_status": "",
        "attempt_count": 0})
    if requested:
        enqueue_cancel(cfdi, 0)
        return
    status = frappe.db.get_value("CFDI", cfdi, "status")
    if status not in ON_ITS_WAY:
        frappe.throw(_("CFDI {0} is {1}; only a stamped CFDI can be cancelled.").format(cfdi, _(status or "")))


def refuse_while_related(cfdi: str) -> None:
    """SAT does not cancel a CFDI while valid CFDIs relate to it (credit notes, payment complements):
    asked anyway, it ends Cancel Rejected with both valid. Refused here, with what to cancel first."""
    relatives = valid_relatives(cfdi)
    if relatives:
        frappe.throw(_("CFDI {0} cannot be cancelled while these CFDIs relate to it and are valid: {1}. Cancel them "
                       "first (SAT refuses the cancellation otherwise).").format(
            cfdi, ", ".join(f"{r.name} ({r.cfdi_type})" for r in relatives)), title=_("Related CFDIs"))


def claim(cfdi: str) -> str | None:
    """Takes the cancellation's next call under a claim of its own, unless another worker holds it (a
    claim older than a short job's life is stale); commits, so other workers see it at once."""
    row = frappe.db.get_value("CFDI", cfdi, ["status", "claimed_at"], as_dict=True, for_update=True)
    stale = add_to_date(now_datetime(), seconds=-STALE_CLAIM_SECONDS)
    token = None
    if row and CfdiState(row.status) in CANCEL_IN_FLIGHT and (not row.claimed_at or row.claimed_at < stale):
        token = new_claim()
        frappe.db.set_value("CFDI", cfdi, {"claimed_at": now_datetime(), "claim_token": token}, update_modified=False)
    frappe.db.commit()
    return token


def cancel_once(cfdi: str) -> CfdiState | None:
    """Asks FacturaAPI to cancel (or, once asked, how the cancellation is going) and records the
    answer, if this try still holds the claim; None when another worker had it."""
    token = claim(cfdi)
    if token is None:
        return None
    row = frappe.get_doc("CFDI", cfdi)
    frappe.db.commit()
    tries = int(row.attempt_count or 0) + 1
    log = ExchangeLog("CFDI", cfdi, tag=row.bulk_run)
    outcome: dict[str, Any] | FacturapiError
    receipt: bytes | None = None
    with make_client(row.company, on_exchange=log) as client:
        try:
            if row.status == CfdiState.CANCEL_PENDING.value:
                outcome = client.retrieve_invoice(row.facturapi_id)
            else:
                outcome = cancel_or_look(client, row)
        except FacturapiError as error:
            outcome = error
        decision = after_cancel(outcome, tries, now_datetime(), retry_policy(get_settings()))
        if decision.state is CfdiState.CANCELLED:
            try:
                receipt = client.download_cancellation_receipt(row.facturapi_id, "xml")
            except FacturapiError:
                receipt = None  # recorded; the receipt can be fetched again later
    values: dict[str, Any] = {"claimed_at": None, "attempt_count": tries,
                              "next_attempt_at": decision.at.replace(tzinfo=None) if decision.at else None,
                              "last_error_code": decision.error_code, "last_error": decision.reason[:1000]}
    if isinstance(outcome, dict):
        values["cancellation_status"] = outcome.get("cancellation_status") or ""
        if outcome.get("status") == "canceled":
            values["cancelled_at"] = to_site_time(outcome.get("canceled_at")) or now_datetime()
    if decision.state is CfdiState.CANCELLED:
        values["pending_followups"] = followups.encode(followups.after_cancel(row))
    files = {"cancellation_receipt_file": (f"{row.uuid}-acuse.xml", receipt)} if receipt else {}
    error = outcome if isinstance(outcome, FacturapiError) else None
    if not record_cfdi_call(row.name, log, Outcome(RECORD_CANCEL, decision.state, values, error, files, claim=token)):
        return None  # another try holds the CFDI now: only this try's calls are recorded
    return decision.state


def cancel_or_look(client, row) -> dict[str, Any]:
    try:
        return client.cancel_invoice(row.facturapi_id, row.cancellation_motive, row.substitution_uuid or None)
    except ConflictError as error:
        if error.status != 409:
            raise  # SAT or FacturaAPI refuses this cancellation (400): an answer, not a state to look at
        # Already cancelled, or a request is in progress (an earlier try whose answer was lost): look.
        return client.retrieve_invoice(row.facturapi_id)


def enqueue_due_cancellations(now) -> list[str]:
    """For the sweep: cancellations whose next look is due, each queued for its next try."""
    due = frappe.get_all("CFDI", fields=["name", "attempt_count"], filters={
        "status": ["in", [s.value for s in CANCEL_IN_FLIGHT]], "next_attempt_at": ["<=", now]})
    for row in due:
        enqueue_cancel(row.name, int(row.attempt_count or 0) + 1)
    return [row.name for row in due]

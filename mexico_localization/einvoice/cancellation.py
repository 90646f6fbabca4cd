"""Cancelling a CFDI at FacturaAPI: request, background call, polling, record.

Same road as stamping: the request only moves the CFDI row to Cancel Requested and queues a job
after the commit; the job claims the row, calls FacturaAPI with no transaction open, and records
the answer in one short transaction. SAT's answer can take days (the receiver has three business
days), so Cancel Pending rows are polled by the sweep. Gated by Enable Cancellation.
"""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import enqueue

from mexico_localization.cfdi.policy import RetryPolicy, after_cancel
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice import records
from mexico_localization.einvoice.settings import get_settings, make_client
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import FacturapiError
from mexico_localization.facturapi.errors import ConflictError

S = CfdiState
QUEUE = "short"
JOB = "mexico_localization.einvoice.cancellation.cancel"
CANCELLABLE = (S.STAMPED.value, S.CANCEL_REJECTED.value)
STALE_CLAIM_SECONDS = 330  # a short-queue job is killed at 300 s
SAFETY_NET_SECONDS = 120


def request_cancellation(cfdi: str, motive: str, substitution: str | None = None) -> None:
    """Moves a valid CFDI to Cancel Requested and queues the call for after the caller's commit."""
    if not get_settings().enable_cancellation:
        frappe.throw(_("Cancellation is disabled: a CFDI Manager can turn on Enable Cancellation in E Invoice "
                       "Setting."), title=_("Cancellation disabled"))
    # next_attempt_at is a safety net: should the job vanish (Redis flushed), the sweep asks again then.
    frappe.db.sql("""update `tabCFDI` set status=%s, cancellation_motive=%s, substitution_uuid=%s, claimed_at=null,
                     next_attempt_at=%s, cancellation_status='', attempt_count=0
                     where name=%s and status in %s""",
                  (S.CANCEL_REQUESTED.value, motive, substitution,
                   add_to_date(now_datetime(), seconds=SAFETY_NET_SECONDS), cfdi, CANCELLABLE))
    if frappe.db._cursor.rowcount != 1:
        status = frappe.db.get_value("CFDI", cfdi, "status")
        if status in (S.CANCEL_REQUESTED.value, S.CANCEL_PENDING.value, S.CANCELLED.value):
            return  # already on its way: asking twice changes nothing
        frappe.throw(_("CFDI {0} is {1}; only a stamped CFDI can be cancelled.").format(cfdi, _(status or "")))
    enqueue_cancel(cfdi, 0)


def enqueue_cancel(cfdi: str, attempt: int) -> None:
    enqueue(JOB, queue=QUEUE, cfdi=cfdi, job_id=f"cfdi:cancel:{cfdi}:{attempt}", deduplicate=True,
            enqueue_after_commit=True)


def claim(cfdi: str) -> bool:
    frappe.db.sql("""update `tabCFDI` set claimed_at=%s
                     where name=%s and status in (%s, %s) and (claimed_at is null or claimed_at < %s)""",
                  (now_datetime(), cfdi, S.CANCEL_REQUESTED.value, S.CANCEL_PENDING.value,
                   add_to_date(now_datetime(), seconds=-STALE_CLAIM_SECONDS)))
    claimed = frappe.db._cursor.rowcount == 1
    frappe.db.commit()
    return claimed


def cancel(cfdi: str) -> None:
    """The job: asks FacturaAPI to cancel (or, once asked, how the cancellation is going)."""
    if not claim(cfdi):
        return
    row = frappe.get_doc("CFDI", cfdi)
    frappe.db.commit()
    tries = int(row.attempt_count or 0) + 1
    log = records.ExchangeLog("CFDI", cfdi)
    outcome: dict[str, Any] | FacturapiError
    receipt: bytes | None = None
    with make_client(on_exchange=log) as client:
        try:
            if row.status == S.CANCEL_PENDING.value:
                outcome = client.retrieve_invoice(row.facturapi_id)
            else:
                outcome = _cancel_or_look(client, row)
        except FacturapiError as error:
            outcome = error
        decision = after_cancel(outcome, tries, now_datetime(),
                                RetryPolicy(max_attempts=int(get_settings().max_attempts or 8)))
        if decision.state is S.CANCELLED:
            try:
                receipt = client.download_cancellation_receipt(row.facturapi_id, "xml")
            except FacturapiError:
                receipt = None  # recorded; the receipt can be fetched again later
    _record(row, log, outcome, decision, tries, receipt)


def _cancel_or_look(client, row) -> dict[str, Any]:
    try:
        return client.cancel_invoice(row.facturapi_id, row.cancellation_motive, row.substitution_uuid or None)
    except ConflictError as error:
        if error.status != 409:
            raise  # SAT or FacturaAPI refuses this cancellation (400): an answer, not a state to look at
        # Already cancelled, or a request is in progress (an earlier try whose answer was lost): look.
        return client.retrieve_invoice(row.facturapi_id)


def _record(row, log, outcome, decision, tries: int, receipt: bytes | None) -> None:
    values: dict[str, Any] = {"status": decision.state.value, "claimed_at": None, "attempt_count": tries,
                              "next_attempt_at": decision.at.replace(tzinfo=None) if decision.at else None,
                              "last_error_code": decision.error_code, "last_error": decision.reason[:1000]}
    if isinstance(outcome, dict):
        values["cancellation_status"] = outcome.get("cancellation_status") or ""
        if outcome.get("status") == "canceled":
            values["cancelled_at"] = to_site_time(outcome.get("canceled_at")) or now_datetime()
    error = outcome if isinstance(outcome, FacturapiError) else None

    def also(cfdi) -> None:
        from mexico_localization.einvoice.stamping import attach, mirror
        if receipt:
            cfdi.db_set("cancellation_receipt_file", attach(cfdi.name, f"{cfdi.uuid}-acuse.xml", receipt),
                        update_modified=False)
        mirror(cfdi)

    records.record_cfdi_call(row.name, log, outcome=values["status"], values=values, error=error, also=also)
    if decision.state is S.CANCELLED and row.is_global and row.reissue_remaining:
        from mexico_localization.einvoice.global_invoices import reissue_remaining
        reissue_remaining(frappe.get_doc("CFDI", row.name))


def enqueue_due_cancellations(now) -> list[str]:
    """For the sweep: cancellations whose next look is due, each queued for its next try."""
    due = frappe.get_all("CFDI", fields=["name", "attempt_count"], filters={
        "status": ["in", [S.CANCEL_REQUESTED.value, S.CANCEL_PENDING.value]], "next_attempt_at": ["<=", now]})
    for row in due:
        enqueue_cancel(row.name, int(row.attempt_count or 0) + 1)
    return [row.name for row in due]

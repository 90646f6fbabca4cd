"""Runs the follow-ups a recorded outcome made due (cfdi/followups.py says which), after the record
has committed: each in its own transaction, a failure an Error Log plus a note on the CFDI, and the
follow-up left due for the sweep to try again. The record of the stamp itself is never touched.

E-mail is taken off the list before it is sent (at most once: a customer must not get the CFDI
twice); every other follow-up is idempotent and taken off once it has run.
"""

from __future__ import annotations

from collections.abc import Callable

import frappe
from frappe import _
from frappe.utils import now_datetime

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.kinds.credit_note import release_waiting_returns
from mexico_localization.einvoice.kinds.global_invoice import reissue_remaining
from mexico_localization.einvoice.kinds.payment_complement import till_payment
from mexico_localization.einvoice.pipeline.cancellation import request_cancellation
from mexico_localization.einvoice.pipeline.records import ExchangeLog, comment, error_log
from mexico_localization.einvoice.pipeline.rows import stale_before
from mexico_localization.einvoice.roles import managers
from mexico_localization.einvoice.settings import get_settings, make_client
from mexico_localization.facturapi import FacturapiError

RETRY_AFTER_SECONDS = 600  # the job runs them within seconds; the sweep takes over after this
RETRIES_PER_SWEEP = 20


def run_due(cfdi: str) -> list[str]:
    """Runs what is due on `cfdi`; returns the follow-ups that failed (still due)."""
    failed = []
    due = followups.decode(frappe.db.get_value("CFDI", cfdi, "pending_followups"))
    doc = frappe.get_doc("CFDI", cfdi) if due else None  # what the follow-ups read; none of them writes it
    for name in due:
        if name == followups.EMAIL:
            _done(cfdi, name)
        try:
            RUNNERS[name](doc)
            if name != followups.EMAIL:
                _done(cfdi, name)
            frappe.db.commit()
        except Exception as exc:
            frappe.db.rollback()
            _note_failure(cfdi, name, exc)
            failed.append(name)
    return failed


def retry_stale(limit: int = RETRIES_PER_SWEEP) -> list[str]:
    """For the sweep: CFDIs whose follow-ups are still due well after their record (a job that died,
    or a follow-up that failed)."""
    names = frappe.get_all("CFDI", pluck="name", limit=limit, order_by="modified asc", filters={
        "pending_followups": ["is", "set"], "modified": ["<", stale_before(RETRY_AFTER_SECONDS)]})
    for name in names:
        frappe.db.set_value("CFDI", name, "modified", now_datetime(), update_modified=False)  # next turn later
        frappe.db.commit()
        run_due(name)
    return names


def _done(cfdi: str, name: str) -> None:
    left = [n for n in followups.decode(frappe.db.get_value("CFDI", cfdi, "pending_followups", for_update=True))
            if n != name]
    frappe.db.set_value("CFDI", cfdi, "pending_followups", followups.encode(left), update_modified=False)
    if name == followups.EMAIL:
        frappe.db.commit()


def _note_failure(cfdi: str, name: str, exc: Exception) -> None:
    note = _("The follow-up \"{0}\" failed: {1}. The CFDI stays as recorded; it is tried again later.").format(
        _(name), frappe.utils.strip_html(str(exc)) or type(exc).__name__)
    error_log(f"CFDI {cfdi}: follow-up {name} failed", exc, "CFDI", cfdi)
    frappe.db.set_value("CFDI", cfdi, "followup_error", note[:1000], update_modified=False)
    comment(cfdi, note)
    frappe.db.commit()


# --- the follow-ups -------------------------------------------------------------------------------

def email(cfdi) -> None:
    """FacturaAPI e-mails the XML and PDF to the customer's address on the CFDI; to the one a
    self-invoicing buyer typed, named outright (it is this CFDI's, not the store's customer's)."""
    log = ExchangeLog("CFDI", cfdi.name, tag=cfdi.bulk_run)
    try:
        with make_client(cfdi.company, on_exchange=log) as client:
            client.email_invoice(cfdi.facturapi_id, cfdi.get("receiver_email") or None)
    except FacturapiError as error:
        error_log(f"CFDI {cfdi.name}: e-mail failed", error, "CFDI", cfdi.name)
    finally:
        log.write()


def leave_global(cfdi) -> None:
    """The walk-in ticket now has its nominative CFDI: its global is cancelled with motive 04
    ("operación nominativa relacionada en una factura global"), and re-issued without it once cancelled."""
    status = frappe.db.get_value("CFDI", cfdi.replaces_global, "status")
    if status in (CfdiState.STAMPED.value, CfdiState.CANCEL_REJECTED.value):
        request_cancellation(cfdi.replaces_global, "04")


def cancel_replaced(cfdi) -> None:
    """A substitute is stamped: the CFDI it replaces is cancelled with motive 01, naming it."""
    frappe.db.set_value("CFDI", cfdi.substitutes, "substituted_by", cfdi.name, update_modified=False)
    request_cancellation(cfdi.substitutes, "01", substitution=cfdi.uuid)


def cancel_for_cancelled_sale(cfdi) -> None:
    """A valid CFDI adopted for a sale already cancelled in ERPNext: cancelled with motive 03, or
    flagged for a person while cancellation is off."""
    if get_settings().enable_cancellation:
        request_cancellation(cfdi.name, "03")
    else:
        frappe.db.set_value("CFDI", cfdi.name, "review_note", (
            "The sale was cancelled in ERPNext but this CFDI is valid at SAT: cancel it with motive 03 (Enable "
            "Cancellation is off)."), update_modified=False)


def notify_outside_cancellation(cfdi) -> None:
    """Every CFDI Manager learns of a cancellation made outside the app."""
    subject = _("CFDI {0} was cancelled outside this system").format(cfdi.name)
    for user in managers():
        frappe.get_doc({"doctype": "Notification Log", "for_user": user, "type": "Alert", "document_type": "CFDI",
                        "document_name": cfdi.name, "subject": subject, "email_content": cfdi.review_note or ""}
                       ).insert(ignore_permissions=True)


RUNNERS: dict[str, Callable] = {
    followups.EMAIL: email,
    followups.RELEASE_RETURNS: release_waiting_returns,
    followups.TILL_COMPLEMENT: till_payment,
    followups.LEAVE_GLOBAL: leave_global,
    followups.CANCEL_REPLACED: cancel_replaced,
    followups.CANCEL_FOR_CANCELLED_SALE: cancel_for_cancelled_sale,
    followups.REISSUE_GLOBAL: reissue_remaining,
    followups.NOTIFY_OUTSIDE: notify_outside_cancellation,
}

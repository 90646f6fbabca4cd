"""One stamping try: claim, build through the row's kind, one call to FacturaAPI, one record step.

No transaction is open and no row is locked while FacturaAPI is called. Expected failures are
recorded and not re-raised (Frappe's job runner would log a second Error Log). What a stamp
unblocks (e-mail, returns, cancelling what it replaces) is written as follow-ups due, and run by
`jobs.py` after the record commits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import frappe
from frappe.utils import now_datetime

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.cfdi.moves import CLAIM_STAMP, RECORD_STAMP, REQUEUE_FAILED, RESCUE_STAMPING
from mexico_localization.cfdi.policy import Decision, next_action
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.kinds import registry
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.pipeline.records import ExchangeLog, Outcome, mirror_state, record_cfdi_call
from mexico_localization.einvoice.pipeline.rows import idempotency_key, transition
from mexico_localization.einvoice.settings import get_settings, make_client, retry_policy
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import Client, FacturapiError

DUPLICATE = "duplicate"  # the adopt step's answer when FacturaAPI holds several valid CFDIs for one row


def requeue_failed(cfdi: str, **values) -> bool:
    """A Failed CFDI back to Queued with a fresh attempt count (a person fixed the data), and its sale
    told so; False when it is no longer Failed. The caller queues the job or stamps inline."""
    requeued = transition(cfdi, REQUEUE_FAILED, CfdiState.QUEUED, {
        "attempt_count": 0, "next_attempt_at": None, "last_error": "", "last_error_code": "", **values})
    if requeued:
        row = frappe.db.get_value("CFDI", cfdi, ["reference_doctype", "reference_name", "is_global"], as_dict=True)
        if row.is_global:
            frappe.db.set_value("POS Invoice", {"mx_cfdi": cfdi}, {"mx_cfdi_status": CfdiState.QUEUED.value,
                                                                   "mx_cfdi_message": ""}, update_modified=False)
        else:
            mirror_state(row.reference_doctype, row.reference_name, CfdiState.QUEUED)
    return requeued


def claim(cfdi: str) -> bool:
    """Moves the CFDI to Stamping if nobody else has; commits, so other workers see it at once."""
    claimed = transition(cfdi, CLAIM_STAMP, CfdiState.STAMPING, {"claimed_at": now_datetime()})
    frappe.db.commit()
    return claimed


def stamp_once(cfdi: str) -> CfdiState | None:
    """One try, safe to run any number of times for the same CFDI: only one claims it. Returns the
    state recorded, or None when another worker had it."""
    if not claim(cfdi):
        return None
    try:
        return stamp_claimed(cfdi)
    except Exception:
        # Unexpected (a bug, the database going away): the call may have stamped, so hand the CFDI
        # back as Retrying with a look-up first. Frappe's own retry of a deadlocked job can then claim it.
        frappe.db.rollback()
        release(cfdi)
        raise


def release(cfdi: str) -> None:
    """A claimed try that could not be recorded goes back to Retrying, to be looked up before any create."""
    transition(cfdi, RESCUE_STAMPING, CfdiState.RETRYING, {"needs_reconcile": 1, "next_attempt_at": now_datetime()})
    frappe.db.commit()


def stamp_claimed(cfdi: str) -> CfdiState:
    row = frappe.get_doc("CFDI", cfdi)
    settings = get_settings()
    tries = int(row.attempt_count or 0) + 1
    if not row.is_global and frappe.db.get_value(row.reference_doctype, row.reference_name, "docstatus") == 2:
        return settle_cancelled_sale(row, settings, tries)
    try:
        built = registry.build(row)
    except CfdiDataError as error:
        return record_data_error(row, error, tries)
    if built.body.get("payment_method"):
        frappe.db.set_value("CFDI", cfdi, "payment_method", built.body["payment_method"], update_modified=False)
    frappe.db.commit()  # no transaction open while FacturaAPI works
    log = ExchangeLog("CFDI", cfdi, tag=row.bulk_run)
    outcome: dict[str, Any] | FacturapiError
    with make_client(settings, on_exchange=log) as client:
        try:
            outcome = adopt_or_create(client, row, built)
        except FacturapiError as error:
            outcome = error
        decision = next_action(outcome, tries, now_datetime(), retry_policy(settings))
        files = download(client, outcome) if decision.state is CfdiState.STAMPED else {}
    wants_email = bool(settings.email_cfdi and (built.body.get("customer") or {}).get("email"))
    return record_try(row, log, outcome, decision, tries, built, files, wants_email)


def adopt_or_create(client: Client, row, built: BuiltInvoice) -> dict[str, Any]:
    """A pending CFDI is only ever polled. After an answer was lost, what FacturaAPI holds under the
    row's External ID is adopted before anything is created; several valid ones go to a person."""
    if row.facturapi_id and not row.uuid:
        return client.retrieve_invoice(row.facturapi_id)
    if row.needs_reconcile:
        found = [i for i in client.find_by_external_id(row.external_id)
                 if i.get("type") == row.cfdi_type and i.get("status") in ("valid", "pending")]
        if len(found) > 1:
            return {"status": DUPLICATE, "ids": [i["id"] for i in found]}
        if found:
            return found[0]
    return client.create_invoice(built.body, idempotency_key=idempotency_key(row), external_id=row.external_id,
                                 expedition_zip=built.body.get("address", {}).get("zip")).invoice


def download(client: Client, invoice: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """The sealed XML and the PDF, as files to attach; a failed download is recorded and left for later."""
    files = {}
    for fmt in ("xml", "pdf"):
        try:
            files[f"{fmt}_file"] = (f"{invoice.get('uuid')}.{fmt}", client.download_invoice(invoice["id"], fmt))
        except FacturapiError:
            pass  # the exchange is recorded; the files can be fetched again from the CFDI
    return files


def record_try(row, log: ExchangeLog, outcome, decision: Decision, tries: int, built: BuiltInvoice | None,
               files: dict[str, tuple[str, bytes]], wants_email: bool = False) -> CfdiState:
    """The try's record: its state and values, and the follow-ups a stamp makes due."""
    state = decision.state
    values: dict[str, Any] = {"attempt_count": tries, "late_stamp": int(bool(built and built.late_stamp)),
                              "next_attempt_at": decision.at.replace(tzinfo=None) if decision.at else None,
                              "last_error_code": decision.error_code, "last_error": decision.reason[:1000],
                              "needs_reconcile": int(decision.reconcile_first)}
    error = outcome if isinstance(outcome, FacturapiError) else None
    if isinstance(outcome, dict) and outcome.get("status") == DUPLICATE:
        state = CfdiState.NEEDS_REVIEW
        values.update(review_candidates="\n".join(outcome["ids"]), review_note=(
            "Possible double stamp: FacturaAPI holds several valid CFDIs with this External ID: "
            + ", ".join(outcome["ids"])))
    elif isinstance(outcome, dict):
        values.update(invoice_values(outcome, row.total, row.cfdi_type))
    if decision.definitive and state is CfdiState.FAILED:
        values["generation"] = int(row.generation or 1) + 1  # a definitive answer: the next try is a new document
    if state is CfdiState.STAMPED:
        values["pending_followups"] = followups.encode(followups.after_stamp(row, wants_email))
    record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, state, values, error, files))
    return state


def invoice_values(invoice: dict[str, Any], expected_total, cfdi_type: str = "I") -> dict[str, Any]:
    """What the CFDI row keeps of FacturaAPI's invoice; a total that differs from the sale's is noted."""
    stamp = invoice.get("stamp") or {}
    values = {"facturapi_id": invoice.get("id"), "livemode": int(bool(invoice.get("livemode"))),
              "series": invoice.get("series") or "", "folio_number": str(invoice.get("folio_number") or "")}
    if invoice.get("uuid"):
        values.update(uuid=invoice["uuid"], sat_cert_number=stamp.get("sat_cert_number"),
                      sat_signature=stamp.get("sat_signature"), verification_url=invoice.get("verification_url"),
                      stamped_at=to_site_time(stamp.get("date")))
        if cfdi_type == "P":
            return values  # a CFDI de pago totals 0; the row keeps the amount paid
        values["total"] = invoice.get("total")
        difference = abs(Decimal(str(invoice.get("total") or 0)) - Decimal(str(expected_total or 0)))
        if difference > Decimal("0.01"):
            values["review_note"] = (f"FacturaAPI's total {invoice.get('total')} differs from the sales' grand "
                                     f"total {expected_total} by {difference}.")
    return values


def record_data_error(row, error: CfdiDataError, tries: int) -> CfdiState:
    """Bad master data: Failed at once, nothing sent; the message says what to fix."""
    text = "\n".join(translate(p) for p in error.problems)
    values = {"attempt_count": tries, "last_error_code": "invalid_data", "last_error": text[:1000],
              "generation": int(row.generation or 1) + 1, "needs_reconcile": 0}
    record_cfdi_call(row.name, ExchangeLog(), Outcome(RECORD_STAMP, CfdiState.FAILED, values))
    return CfdiState.FAILED


def settle_cancelled_sale(row, settings, tries: int) -> CfdiState:
    """The sale was cancelled in ERPNext before its CFDI was known to be stamped (a try whose outcome
    was unknown, then Failed). Create nothing; adopt what FacturaAPI may hold, to be cancelled with
    motive 03 ("no se llevó a cabo la operación") as a follow-up."""
    log = ExchangeLog("CFDI", row.name, tag=row.bulk_run)
    found: list[dict[str, Any]] = []
    if row.needs_reconcile or row.facturapi_id or row.attempt_count:
        with make_client(settings, on_exchange=log) as client:
            try:
                found = [i for i in client.find_by_external_id(row.external_id)
                         if i.get("type") == row.cfdi_type and i.get("status") == "valid"]
            except FacturapiError as error:
                decision = next_action(error, tries, now_datetime(), retry_policy(settings))
                return record_try(row, log, error, decision, tries, None, {})
    if not found:
        values = {"attempt_count": tries, "needs_reconcile": 0,
                  "last_error": "The sale was cancelled in ERPNext before its CFDI was stamped."}
        record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, CfdiState.NOT_APPLICABLE, values))
        return CfdiState.NOT_APPLICABLE
    values = {"attempt_count": tries, "needs_reconcile": 0, **invoice_values(found[0], row.total),
              "pending_followups": followups.encode([followups.CANCEL_FOR_CANCELLED_SALE])}
    record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, CfdiState.STAMPED, values))
    return CfdiState.STAMPED

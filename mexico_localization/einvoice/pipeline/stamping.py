"""One stamping try: claim, build through the row's kind, one call to FacturaAPI, one record step.

No transaction is open and no row is locked while FacturaAPI is called. Expected failures are
recorded and not re-raised (Frappe's job runner would log a second Error Log). What a stamp
unblocks (e-mail, returns, cancelling what it replaces) is written as follow-ups due, and run by
`jobs.py` after the record commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import frappe
from frappe.utils import now_datetime

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.cfdi.moves import CLAIM_STAMP, RECORD_STAMP, REQUEUE_FAILED, RESCUE_STAMPING
from mexico_localization.cfdi.policy import Decision, Step, next_action
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.kinds import registry
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.pipeline.fixes import FIX_FIELDS, fix_values
from mexico_localization.einvoice.pipeline.records import ExchangeLog, Outcome, mirror_state, record_cfdi_call
from mexico_localization.einvoice.pipeline.rows import idempotency_key, new_claim, transition
from mexico_localization.einvoice.settings import get_settings, make_client, retry_policy
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import Client, FacturapiError, NotFoundError, OutcomeUnknown

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


def claim(cfdi: str) -> str | None:
    """Moves the CFDI to Stamping if nobody else has, under a claim of its own; commits, so other
    workers see it at once. Returns the claim, or None when another worker had it."""
    token = new_claim()
    claimed = transition(cfdi, CLAIM_STAMP, CfdiState.STAMPING, {"claimed_at": now_datetime(), "claim_token": token})
    frappe.db.commit()
    return token if claimed else None


def stamp_once(cfdi: str) -> CfdiState | None:
    """One try, safe to run any number of times for the same CFDI: only one claims it, and only
    that claim may record. Returns the state recorded, or None when another worker had it."""
    token = claim(cfdi)
    if token is None:
        return None
    log = ExchangeLog("CFDI", cfdi, tag=frappe.db.get_value("CFDI", cfdi, "bulk_run"))
    try:
        return stamp_claimed(cfdi, token, log)
    except Exception as error:  # a bug, the database going away, or the job's own timeout
        frappe.db.rollback()
        release(cfdi, token, log, error)
        raise


def release(cfdi: str, token: str, log: ExchangeLog, error: BaseException) -> None:
    """A claimed try that ended unexpectedly may have stamped: its calls are recorded, the attempt
    counted, and the CFDI goes back to Retrying (Failed once attempts run out) with a look-up first."""
    try:
        tries = int(frappe.db.get_value("CFDI", cfdi, "attempt_count") or 0) + 1
        decision = next_action(OutcomeUnknown(f"The try ended unexpectedly ({type(error).__name__}: {error})",
                                              reason="client_error"), tries, now_datetime(), retry_policy())
        values = {"attempt_count": tries, "needs_reconcile": 1, "last_error_code": "unexpected_failure",
                  "next_attempt_at": (decision.at or now_datetime()).replace(tzinfo=None),
                  "last_error": decision.reason[:1000]}
        record_cfdi_call(cfdi, log, Outcome(RESCUE_STAMPING, decision.state, values, error, claim=token))
    except Exception:
        frappe.db.rollback()  # the sweep rescues a Stamping CFDI whose record never came


def stamp_claimed(cfdi: str, token: str, log: ExchangeLog) -> CfdiState:
    row = frappe.get_doc("CFDI", cfdi)
    row.claim = token
    settings = get_settings()
    tries = int(row.attempt_count or 0) + 1
    if not row.is_global and frappe.db.get_value(row.reference_doctype, row.reference_name, "docstatus") == 2:
        return settle_cancelled_sale(row, settings, tries, log)
    frappe.db.commit()  # no transaction open while FacturaAPI works
    with make_client(row.company, settings, on_exchange=log) as client:
        answer = adopt(client, row)
        built = None
        if answer is None:  # nothing to adopt: the body is built (and checked) only now, to be created
            try:
                built = registry.build(row)
            except CfdiDataError as error:
                return record_data_error(row, error, tries, log)
            if built.body.get("payment_method"):
                frappe.db.set_value("CFDI", cfdi, "payment_method", built.body["payment_method"],
                                    update_modified=False)
            frappe.db.commit()
            answer = create(client, row, built)
        decision = next_action(answer.outcome, tries, now_datetime(), retry_policy(settings), step=answer.step,
                               reconciling=bool(row.needs_reconcile), looked_up=answer.looked_up)
        files = download(client, answer.outcome) if decision.state is CfdiState.STAMPED else {}
    wants_email = bool(settings.email_cfdi and decision.state is CfdiState.STAMPED and receiver_email(row, built))
    return record_try(row, log, answer, decision, tries, built, files, wants_email)


def receiver_email(row, built: BuiltInvoice | None) -> str:
    """Where the CFDI is e-mailed: its body's receiver. FacturaAPI's invoice names no e-mail (its
    CustomerInfo), so for a CFDI adopted after a lost answer the body is built again to find it."""
    if built is None:
        try:
            built = registry.build(row)
        except (CfdiDataError, frappe.DoesNotExistError):
            return ""
    return (built.body.get("customer") or {}).get("email") or ""


@dataclass(frozen=True)
class Answer:
    """How a try ended: FacturaAPI's invoice or an error, on which call, and whether a look-up by
    External ID completed first (found nothing) in this try."""

    outcome: dict[str, Any] | FacturapiError
    step: Step
    looked_up: bool = False


def adopt(client: Client, row) -> Answer | None:
    """What FacturaAPI already holds for this row, before anything is built or created: a pending stamp
    is only ever polled; after an answer was lost, what it holds under the row's External ID is adopted
    (several valid ones go to a person). None when there is nothing to adopt."""
    if row.facturapi_id and not row.uuid:
        return ask(Step.RETRIEVE, client.retrieve_invoice, row.facturapi_id)
    if not row.needs_reconcile:
        return None
    try:
        found = [i for i in client.find_by_external_id(row.external_id)
                 if i.get("type") == row.cfdi_type and i.get("status") in ("valid", "pending")]
    except FacturapiError as error:
        return Answer(error, Step.LOOKUP)
    if len(found) > 1:
        return Answer({"status": DUPLICATE, "ids": [i["id"] for i in found]}, Step.LOOKUP)
    return Answer(found[0], Step.LOOKUP) if found else None


def create(client: Client, row, built: BuiltInvoice) -> Answer:
    """The create, under the row's idempotency key and External ID; `looked_up` tells the policy a
    look-up owed by this row completed and found nothing first."""
    answer = ask(Step.CREATE, lambda: client.create_invoice(
        built.body, idempotency_key=idempotency_key(row), external_id=row.external_id,
        expedition_zip=built.body.get("address", {}).get("zip")).invoice)
    return Answer(answer.outcome, Step.CREATE, bool(row.needs_reconcile))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def ask(step: Step, call, *args) -> Answer:
    try:
        return Answer(call(*args), step)
    except FacturapiError as error:
        return Answer(error, step)


def download(client: Client, invoice: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """The sealed XML, the fiscal document, as the file to attach (a failed download is recorded). The
    PDF, a rendering FacturaAPI gives again at any time, is fetched on first demand
    (operations/cfdi_files.py)."""
    try:
        content = client.download_invoice(invoice["id"], "xml", uuid=invoice.get("uuid"))
    except FacturapiError:
        return {}  # the exchange is recorded
    return {"xml_file": (f"{invoice.get('uuid')}.xml", content)}


def record_try(row, log: ExchangeLog, answer: Answer, decision: Decision, tries: int, built: BuiltInvoice | None,
               files: dict[str, tuple[str, bytes]], wants_email: bool = False) -> CfdiState:
    """The try's record: its state and values, and the follow-ups a stamp makes due. A stamp FacturaAPI
    could not recover, or one it no longer knows, is let go of: the next try creates a new document
    (after a look-up by External ID, for the one it no longer knows)."""
    outcome = answer.outcome
    state = decision.state
    values: dict[str, Any] = {"attempt_count": tries, "late_stamp": int(bool(built and built.late_stamp)),
                              "next_attempt_at": decision.at.replace(tzinfo=None) if decision.at else None,
                              "last_error_code": decision.error_code, "last_error": decision.reason[:1000],
                              "needs_reconcile": int(decision.reconcile_first)}
    error = outcome if isinstance(outcome, FacturapiError) else None
    values.update(fix_values(row, error, built) if state is CfdiState.FAILED else dict.fromkeys(FIX_FIELDS, ""))
    if isinstance(outcome, dict) and outcome.get("status") == DUPLICATE:
        state = CfdiState.NEEDS_REVIEW
        values.update(review_candidates="\n".join(outcome["ids"]), review_note=(
            "Possible double stamp: FacturaAPI holds several valid CFDIs with this External ID: "
            + ", ".join(outcome["ids"])))
    elif isinstance(outcome, dict):
        values.update(invoice_values(outcome, row.total, row.cfdi_type))
        if built and built.left_out and state is CfdiState.STAMPED and not values.get("review_note"):
            values["review_note"] = ("Left out of the CFDI, given away at price 0 (SAT admits no concept without "
                                     f"a unit value): {', '.join(built.left_out)}.")
    if isinstance(outcome, dict) and outcome.get("status") == "failed":
        values["facturapi_id"] = None
    if answer.step is Step.RETRIEVE and isinstance(outcome, NotFoundError):
        values.update(facturapi_id=None, needs_reconcile=1)
    if decision.definitive and state is CfdiState.FAILED:
        values["generation"] = int(row.generation or 1) + 1  # a definitive answer: the next try is a new document
    if state is CfdiState.STAMPED:
        values["pending_followups"] = followups.encode(followups.after_stamp(row, wants_email))
    if not record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, state, values, error, files, claim=row.claim)):
        return CfdiState.STAMPING  # the claim was taken from this try (it outlived its job): its calls are recorded
    return state


def invoice_values(invoice: dict[str, Any], expected_total, cfdi_type: str = "I") -> dict[str, Any]:
    """What the CFDI row keeps of FacturaAPI's invoice; a total that differs from the sale's is noted."""
    stamp = invoice.get("stamp") or {}
    values = {"facturapi_id": invoice.get("id"), "livemode": int(bool(invoice.get("livemode"))),
              "series": invoice.get("series") or "", "folio_number": str(invoice.get("folio_number") or "")}
    if invoice.get("uuid"):
        values.update(uuid=invoice["uuid"], sat_cert_number=stamp.get("sat_cert_number"),
                      sat_signature=stamp.get("sat_signature"), verification_url=invoice.get("verification_url"),
                      signature=stamp.get("signature"),
                      stamped_at=to_site_time(stamp.get("date")))
        if cfdi_type == "P":
            return values  # a CFDI de pago totals 0; the row keeps the amount paid
        values["total"] = invoice.get("total")
        difference = abs(Decimal(str(invoice.get("total") or 0)) - Decimal(str(expected_total or 0)))
        if difference > Decimal("0.01"):
            values["review_note"] = (f"FacturaAPI's total {invoice.get('total')} differs from the sales' grand "
                                     f"total {expected_total} by {difference}.")
    return values


def record_data_error(row, error: CfdiDataError, tries: int, log: ExchangeLog) -> CfdiState:
    """Bad master data: Failed at once, nothing created; the message says what to fix (and a look-up
    made first is on record)."""
    text = "\n".join(translate(p) for p in error.problems)
    values = {"attempt_count": tries, "last_error_code": "invalid_data", "last_error": text[:1000]}
    record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, CfdiState.FAILED, values, claim=row.claim))
    return CfdiState.FAILED


def settle_cancelled_sale(row, settings, tries: int, log: ExchangeLog) -> CfdiState:
    """The sale was cancelled in ERPNext before its CFDI was known to be stamped (a try whose outcome
    was unknown, then Failed). Create nothing; adopt what FacturaAPI may hold, to be cancelled with
    motive 03 ("no se llevó a cabo la operación") as a follow-up."""
    found: list[dict[str, Any]] = []
    if row.needs_reconcile or row.facturapi_id or row.attempt_count:
        with make_client(row.company, settings, on_exchange=log) as client:
            try:
                found = [i for i in client.find_by_external_id(row.external_id)
                         if i.get("type") == row.cfdi_type and i.get("status") in ("valid", "pending")]
            except FacturapiError as error:
                decision = next_action(error, tries, now_datetime(), retry_policy(settings), step=Step.LOOKUP,
                                       reconciling=bool(row.needs_reconcile))
                return record_try(row, log, Answer(error, Step.LOOKUP), decision, tries, None, {})
    valid = [i for i in found if i.get("status") == "valid"]
    if found and not valid:  # still being stamped: polled until it is valid, then cancelled (next try)
        decision = next_action(found[0], tries, now_datetime(), retry_policy(settings))
        return record_try(row, log, Answer(found[0], Step.LOOKUP), decision, tries, None, {})
    found = valid
    if not found:
        values = {"attempt_count": tries, "needs_reconcile": 0,
                  "last_error": "The sale was cancelled in ERPNext before its CFDI was stamped."}
        record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, CfdiState.NOT_APPLICABLE, values, claim=row.claim))
        return CfdiState.NOT_APPLICABLE
    values = {"attempt_count": tries, "needs_reconcile": 0, **invoice_values(found[0], row.total),
              "pending_followups": followups.encode([followups.CANCEL_FOR_CANCELLED_SALE])}
    record_cfdi_call(row.name, log, Outcome(RECORD_STAMP, CfdiState.STAMPED, values, claim=row.claim))
    return CfdiState.STAMPED

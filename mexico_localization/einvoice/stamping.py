"""The stamping job: claim, gather and build, one call to FacturaAPI, one short record step.

No transaction is open and no row is locked while FacturaAPI is called. Expected failures are
recorded and not re-raised (Frappe's job runner would log a second Error Log).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import frappe
from frappe.utils import getdate, now_datetime
from frappe.utils.background_jobs import enqueue

from mexico_localization.cfdi.credit_note import as_substitute, build_credit_note
from mexico_localization.cfdi.global_cfdi import Period, build_global
from mexico_localization.cfdi.mapping import BuiltInvoice, build_invoice
from mexico_localization.cfdi.policy import Decision, RetryPolicy, next_action
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice import records
from mexico_localization.einvoice.gather import load_sale, returns_in, sale_from_invoice, ticket_from_invoice
from mexico_localization.einvoice.settings import get_settings, make_client
from mexico_localization.einvoice.till import translate
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import Client, FacturapiError

S = CfdiState
QUEUE = "short"
JOB = "mexico_localization.einvoice.stamping.stamp"


def external_id(name: str) -> str:
    return f"{frappe.local.site}:{name}"


def idempotency_key(cfdi) -> str:
    # A global covers many sales (and a walk-in sale may later get its own CFDI too): its row names it.
    # Only a sale's first ingreso is keyed by the sale: globals, substitutes, credit notes and payment
    # complements are documents of their own (a sale can have several).
    own = cfdi.is_global or cfdi.substitutes or cfdi.cfdi_type != "I"
    subject = f"CFDI:{cfdi.name}" if own else f"{cfdi.reference_doctype}:{cfdi.reference_name}"
    return f"{frappe.local.site}:{subject}:stamp:{cfdi.generation or 1}"


def sale_cfdi_row(invoice, own_external_id: bool = False, **values) -> str:
    """A sale's own CFDI row (ingreso), Queued: at submit, for a walk-in ticket's nominative request,
    or as a substitute (`own_external_id`: a second document of the same sale must not answer to the
    first one's External ID). Every value comes from the invoice: a plain insert keeps the cashier's
    submit cheap."""
    cfdi = frappe.new_doc("CFDI")  # with the doctype's defaults
    cfdi.update({
        "reference_doctype": invoice.doctype, "reference_name": invoice.name, "cfdi_type": "I",
        "company": invoice.company, "status": S.QUEUED.value, "total": invoice.grand_total,
        "currency": invoice.currency, "generation": 1, **values,
    })
    cfdi.set_new_name()
    cfdi.external_id = external_id(cfdi.name if own_external_id else invoice.name)
    cfdi.set_user_and_timestamp()
    cfdi.db_insert()
    return cfdi.name


def job_id(cfdi: str, attempt: int | str | None = None) -> str:
    """One job id per try: a job SIGKILLed mid-call stays "started" in RQ for a while, and must not
    keep the next try out. Two jobs for one try are harmless: only one claims the CFDI."""
    return f"cfdi:stamp:{cfdi}" if attempt is None else f"cfdi:stamp:{cfdi}:{attempt}"


def enqueue_stamp(cfdi: str, attempt: int | str | None = None, queue: str = QUEUE) -> None:
    """After the caller's transaction commits; a job already queued or running for this try is kept.
    Nothing is queued while `frappe.flags.cfdi_hold_jobs` is set: bulk re-generation stamps inline."""
    if frappe.flags.cfdi_hold_jobs:
        return
    enqueue(JOB, queue=queue, cfdi=cfdi, job_id=job_id(cfdi, attempt), deduplicate=True, enqueue_after_commit=True)


def requeue_failed(cfdi: str, invoice: str, **values) -> bool:
    """A Failed CFDI back to Queued with a fresh attempt count (a person fixed the data), and the sale
    told so; False when it is no longer Failed. The caller queues the job or stamps inline."""
    frappe.db.sql("""update `tabCFDI` set status=%s, attempt_count=0, next_attempt_at=null, last_error='',
                     last_error_code='' where name=%s and status=%s""", (S.QUEUED.value, cfdi, S.FAILED.value))
    if frappe.db._cursor.rowcount != 1:
        return False
    if values:
        frappe.db.set_value("CFDI", cfdi, values, update_modified=False)
    frappe.db.set_value("POS Invoice", invoice, {"mx_cfdi_status": S.QUEUED.value, "mx_cfdi_message": ""},
                        update_modified=False)
    return True


def claim(cfdi: str) -> bool:
    """Moves the CFDI to Stamping if nobody else has; commits, so other workers see it at once."""
    frappe.db.sql("""update `tabCFDI` set status=%s, claimed_at=%s
                     where name=%s and status in (%s, %s, %s)""",
                  (S.STAMPING.value, now_datetime(), cfdi, S.QUEUED.value, S.RETRYING.value, S.PENDING_AT_PAC.value))
    claimed = frappe.db._cursor.rowcount == 1
    frappe.db.commit()
    return claimed


def stamp(cfdi: str) -> None:
    """The job. Safe to run any number of times for the same CFDI: only one claims it."""
    if not claim(cfdi):
        return
    try:
        _stamp_claimed(cfdi)
    except Exception:
        # Unexpected (a bug, the database going away): the call may have stamped, so hand the CFDI
        # back as Retrying with a look-up first. Frappe's own retry of a deadlocked job can then claim it.
        frappe.db.rollback()
        release(cfdi)
        raise


def release(cfdi: str) -> None:
    frappe.db.sql("""update `tabCFDI` set status=%s, needs_reconcile=1, next_attempt_at=%s
                     where name=%s and status=%s""", (S.RETRYING.value, now_datetime(), cfdi, S.STAMPING.value))
    frappe.db.commit()


def _stamp_claimed(cfdi: str) -> None:
    row = frappe.get_doc("CFDI", cfdi)
    settings = get_settings()
    tries = int(row.attempt_count or 0) + 1
    if not row.is_global and frappe.db.get_value(row.reference_doctype, row.reference_name, "docstatus") == 2:
        _sale_cancelled(row, settings, tries)
        return
    try:
        built = _build(row)
    except CfdiDataError as error:
        _record_data_error(row, error, tries)
        return
    if built.body.get("payment_method"):
        frappe.db.set_value("CFDI", cfdi, "payment_method", built.body["payment_method"], update_modified=False)
    frappe.db.commit()  # no transaction open while FacturaAPI works
    log = records.ExchangeLog("CFDI", cfdi)
    outcome: dict[str, Any] | FacturapiError
    with make_client(settings, on_exchange=log) as client:
        try:
            outcome = _adopt_or_create(client, row, built)
        except FacturapiError as error:
            outcome = error
        policy = RetryPolicy(max_attempts=int(settings.max_attempts or 8))
        decision = next_action(outcome, tries, now_datetime(), policy)
        files = _download(client, outcome) if decision.state is S.STAMPED else {}
    _record(row, log, outcome, decision, tries, built.late_stamp, files)
    if decision.state is S.STAMPED and settings.email_cfdi and built.body["customer"].get("email"):
        _email(row.name, outcome)


def _build(row) -> BuiltInvoice:
    """The body for this CFDI row: a sale's own CFDI (to its customer, or to the one a walk-in
    ticket asked for), or a global CFDI of the tickets it still holds."""
    if row.cfdi_type == "P":
        from mexico_localization.einvoice.complements import build
        return BuiltInvoice(build(row), Decimal(0), late_stamp=False)  # a CFDI de pago totals 0
    if row.is_global:
        returns = returns_in(row.name)
        tickets = [ticket_from_invoice(t.pos_invoice, returns.get(t.pos_invoice, [])) for t in row.tickets
                   if not t.removed_by]
        period = Period(row.global_periodicity, getdate(row.period_start), getdate(row.period_end))
        return build_global(tickets, period, row.expedition_zip or "", row.series or "")
    invoice = load_sale(row.reference_name, row.reference_doctype)
    now = datetime.now(timezone.utc)
    if row.cfdi_type == "E":
        original = load_sale(row.original_invoice)
        customer = frappe.db.get_value("CFDI", original.mx_cfdi, "receiver_customer") if original.mx_cfdi else None
        refund = sale_from_invoice(original).payments
        return build_credit_note(sale_from_invoice(invoice, customer), row.related_uuids, now, refund)
    built = build_invoice(sale_from_invoice(invoice, row.receiver_customer), now)
    if row.substitutes:
        return as_substitute(built, frappe.db.get_value("CFDI", row.substitutes, "uuid"))
    return built


def _adopt_or_create(client: Client, row, built) -> dict[str, Any]:
    if row.facturapi_id and not row.uuid:  # pending at the PAC: FacturaAPI recovers it; never create again
        return client.retrieve_invoice(row.facturapi_id)
    if row.needs_reconcile:
        found = [i for i in client.find_by_external_id(row.external_id)
                 if i.get("type") == row.cfdi_type and i.get("status") in ("valid", "pending")]
        if len(found) > 1:
            return {"status": "duplicate", "ids": [i["id"] for i in found]}
        if found:
            return found[0]
    return client.create_invoice(built.body, idempotency_key=idempotency_key(row), external_id=row.external_id,
                                 expedition_zip=built.body.get("address", {}).get("zip")).invoice


def _download(client: Client, invoice: dict[str, Any]) -> dict[str, bytes]:
    files = {}
    for fmt in ("xml", "pdf"):
        try:
            files[fmt] = client.download_invoice(invoice["id"], fmt)
        except FacturapiError:
            pass  # the exchange is recorded; the files can be fetched again from the CFDI
    return files


def _record(row, log, outcome, decision: Decision, tries: int, late: bool, files: dict[str, bytes]) -> None:
    values: dict[str, Any] = {"status": decision.state.value, "attempt_count": tries, "late_stamp": int(late),
                              "next_attempt_at": decision.at.replace(tzinfo=None) if decision.at else None,
                              "last_error_code": decision.error_code, "last_error": decision.reason[:1000]}
    error = outcome if isinstance(outcome, FacturapiError) else None
    if isinstance(outcome, dict) and outcome.get("status") == "duplicate":
        values.update(status=S.NEEDS_REVIEW.value, review_note=(
            "Possible double stamp: FacturaAPI holds several valid CFDIs with this External ID: "
            + ", ".join(outcome["ids"])))
    elif isinstance(outcome, dict):
        values.update(_invoice_values(outcome, row.total, row.cfdi_type))
    values["needs_reconcile"] = int(decision.reconcile_first)
    if decision.definitive and decision.state is S.FAILED:
        values["generation"] = int(row.generation or 1) + 1  # a definitive answer: the next try is a new document

    def also(cfdi) -> None:
        for fmt, content in files.items():
            cfdi.db_set(f"{fmt}_file", attach(cfdi.name, f"{cfdi.uuid}.{fmt}", content), update_modified=False)
        mirror(cfdi)
        if cfdi.status == S.STAMPED.value:
            _after_stamped(cfdi)

    records.record_cfdi_call(row.name, log, outcome=values["status"], values=values, error=error, also=also)


def _invoice_values(invoice_obj: dict[str, Any], expected_total, cfdi_type: str = "I") -> dict[str, Any]:
    stamp_ = invoice_obj.get("stamp") or {}
    values = {"facturapi_id": invoice_obj.get("id"), "livemode": int(bool(invoice_obj.get("livemode"))),
              "series": invoice_obj.get("series") or "", "folio_number": str(invoice_obj.get("folio_number") or "")}
    if invoice_obj.get("uuid"):
        values.update(uuid=invoice_obj["uuid"], sat_cert_number=stamp_.get("sat_cert_number"),
                      sat_signature=stamp_.get("sat_signature"), verification_url=invoice_obj.get("verification_url"),
                      stamped_at=to_site_time(stamp_.get("date")))
        if cfdi_type == "P":
            return values  # a CFDI de pago totals 0; the row keeps the amount paid
        values["total"] = invoice_obj.get("total")
        difference = abs(Decimal(str(invoice_obj.get("total") or 0)) - Decimal(str(expected_total or 0)))
        if difference > Decimal("0.01"):
            values["review_note"] = (f"FacturaAPI's total {invoice_obj.get('total')} differs from the sales' grand "
                                     f"total {expected_total} by {difference}.")
    return values


def attach(cfdi: str, file_name: str, content: bytes) -> str:
    file = frappe.get_doc({"doctype": "File", "file_name": file_name, "attached_to_doctype": "CFDI",
                           "attached_to_name": cfdi, "is_private": 1, "content": content})
    file.insert(ignore_permissions=True)
    return file.file_url


def mirror(cfdi) -> None:
    """What an auditor looks for on the sale itself (on every ticket of a global, and the returns
    netted into them), without touching its modified time."""
    message = cfdi.review_note or ("" if cfdi.status == S.STAMPED.value else cfdi.last_error or "")
    values = {"mx_cfdi_status": cfdi.status, "mx_cfdi": cfdi.name, "mx_cfdi_uuid": cfdi.uuid,
              "mx_cfdi_stamped_at": cfdi.stamped_at, "mx_sat_cert_number": cfdi.sat_cert_number,
              "mx_sat_signature": cfdi.sat_signature, "mx_cfdi_message": message[:1000]}
    if cfdi.is_global:
        frappe.db.set_value("POS Invoice", {"mx_cfdi": cfdi.name}, values, update_modified=False)
    else:  # only while it is the sale's current CFDI (a substituted one no longer is)
        frappe.db.set_value(cfdi.reference_doctype, {"name": cfdi.reference_name, "mx_cfdi": cfdi.name}, values,
                            update_modified=False)


def _after_stamped(cfdi) -> None:
    """What a stamped CFDI unblocks: returns waiting for it, the cancellation of what it replaces."""
    from mexico_localization.einvoice.complements import till_payment
    from mexico_localization.einvoice.returns import release_waiting_returns
    release_waiting_returns(cfdi)
    till_payment(cfdi)
    if cfdi.replaces_global:
        _leave_global(cfdi)
    if cfdi.substitutes:
        from mexico_localization.einvoice.cancellation import request_cancellation
        frappe.db.set_value("CFDI", cfdi.substitutes, "substituted_by", cfdi.name, update_modified=False)
        request_cancellation(cfdi.substitutes, "01", substitution=cfdi.uuid)


def _leave_global(cfdi) -> None:
    """The walk-in ticket now has its nominative CFDI: its global is cancelled with motive 04 ("operación
    nominativa relacionada en una factura global"), and re-issued without it once cancelled."""
    from mexico_localization.einvoice.cancellation import request_cancellation
    status = frappe.db.get_value("CFDI", cfdi.replaces_global, "status")
    if status in (S.STAMPED.value, S.CANCEL_REJECTED.value):
        request_cancellation(cfdi.replaces_global, "04")


def _record_data_error(row, error: CfdiDataError, tries: int) -> None:
    """Bad master data: Failed at once, nothing sent; the message says what to fix."""
    text = "\n".join(translate(p) for p in error.problems)
    values = {"status": S.FAILED.value, "attempt_count": tries, "last_error_code": "invalid_data",
              "last_error": text[:1000], "generation": int(row.generation or 1) + 1, "needs_reconcile": 0}
    records.record_cfdi_call(row.name, records.ExchangeLog(), outcome=S.FAILED.value, values=values,
                             also=mirror)


def _email(cfdi: str, invoice_obj: dict[str, Any]) -> None:
    log = records.ExchangeLog("CFDI", cfdi)
    try:
        with make_client(on_exchange=log) as client:
            client.email_invoice(invoice_obj["id"])
    except FacturapiError as error:
        records.error_log(f"CFDI {cfdi}: e-mail failed", error, "CFDI", cfdi)
    log.write()
    frappe.db.commit()



def _sale_cancelled(row, settings, tries: int) -> None:
    """The sale was cancelled in ERPNext before its CFDI was known to be stamped (a try whose outcome
    was unknown, then Failed). Create nothing; adopt what FacturaAPI may hold and cancel it with
    motive 03 ("no se llevó a cabo la operación")."""
    log = records.ExchangeLog("CFDI", row.name)
    found: list[dict[str, Any]] = []
    error: FacturapiError | None = None
    if row.needs_reconcile or row.facturapi_id or row.attempt_count:
        with make_client(settings, on_exchange=log) as client:
            try:
                found = [i for i in client.find_by_external_id(row.external_id)
                         if i.get("type") == row.cfdi_type and i.get("status") == "valid"]
            except FacturapiError as exc:
                error = exc
    if error is not None:
        decision = next_action(error, tries, now_datetime(), RetryPolicy(max_attempts=int(settings.max_attempts or 8)))
        _record(row, log, error, decision, tries, False, {})
        return
    if not found:
        values = {"status": S.NOT_APPLICABLE.value, "attempt_count": tries, "needs_reconcile": 0,
                  "last_error": "The sale was cancelled in ERPNext before its CFDI was stamped."}
        records.record_cfdi_call(row.name, log, outcome=values["status"], values=values, also=mirror)
        return
    values = {"status": S.STAMPED.value, "attempt_count": tries, "needs_reconcile": 0,
              **_invoice_values(found[0], row.total)}

    def also(cfdi) -> None:
        mirror(cfdi)
        if settings.enable_cancellation:
            from mexico_localization.einvoice.cancellation import request_cancellation
            request_cancellation(cfdi.name, "03")
        else:
            cfdi.db_set("review_note", "The sale was cancelled in ERPNext but this CFDI is valid at SAT: cancel it "
                        "with motive 03 (Enable Cancellation is off).", update_modified=False)

    records.record_cfdi_call(row.name, log, outcome=S.STAMPED.value, values=values, also=also)

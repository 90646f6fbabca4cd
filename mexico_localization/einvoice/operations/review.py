"""Resolving a CFDI in Needs Review. FacturaAPI held several valid CFDIs under one row's External ID
(a possible double stamp), or answered something the app could not place. A CFDI Manager decides
on the CFDI form: the CFDI that stands is adopted and every other one is recorded as a duplicate of
it (and cancelled with motive 02, "comprobante emitido con errores sin relación", when asked), or
FacturaAPI is looked at again."""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _
from frappe.utils import now_datetime

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.moves import RESOLVE_REVIEW
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.cancellation import request_cancellation
from mexico_localization.einvoice.pipeline.followups import run_due
from mexico_localization.einvoice.pipeline.records import ExchangeLog, Outcome, error_log, record_cfdi_call
from mexico_localization.einvoice.pipeline.rows import enqueue_stamp, new_row, transition
from mexico_localization.einvoice.pipeline.stamping import download, invoice_values
from mexico_localization.einvoice.settings import get_settings, make_client
from mexico_localization.facturapi import FacturapiError

DUPLICATE_MOTIVE = "02"


def look_again(cfdi: str) -> None:
    """Back to Queued: the next try looks FacturaAPI up by External ID before creating anything."""
    if not transition(cfdi, RESOLVE_REVIEW, CfdiState.QUEUED, {"needs_reconcile": 1, "review_candidates": "",
                                                               "attempt_count": 0, "next_attempt_at": None}):
        frappe.throw(_("CFDI {0} is no longer in review.").format(cfdi))
    enqueue_stamp(cfdi, attempt=f"review-{frappe.generate_hash(length=8)}")


def keep_one(cfdi: str, keep: str, cancel_others: bool) -> dict[str, Any]:
    """Adopts FacturaAPI's invoice `keep` for the row; the other candidates become duplicate rows."""
    row = frappe.get_doc("CFDI", cfdi)
    candidates = followups.decode(row.review_candidates)
    if row.status != CfdiState.NEEDS_REVIEW.value or keep not in candidates:
        frappe.throw(_("Choose one of the CFDIs FacturaAPI holds for {0}.").format(cfdi))
    if cancel_others and not get_settings().enable_cancellation:
        frappe.throw(_("Cancelling the duplicates needs Enable Cancellation in E Invoice Setting."),
                     title=_("Cancellation disabled"))
    log = ExchangeLog("CFDI", cfdi)
    try:
        with make_client(row.company, on_exchange=log) as client:
            invoices = {i: client.retrieve_invoice(i) for i in candidates}
            files = download(client, invoices[keep])
    except FacturapiError as error:
        log.write()
        error_log(f"CFDI {cfdi}: review look-up failed", error, "CFDI", cfdi)
        frappe.db.commit()
        frappe.throw(_("FacturaAPI could not be asked about these CFDIs: {0}").format(error.summary()))
    others = [i for i in candidates if i != keep]
    note = _("Resolved by {0}: FacturaAPI's {1} stands; recorded as duplicates: {2}.").format(
        frappe.session.user, keep, ", ".join(others) or "-")
    values = {**invoice_values(invoices[keep], row.total, row.cfdi_type), "needs_reconcile": 0, "review_note": note,
              "review_candidates": "", "pending_followups": followups.encode(followups.after_stamp(row, False))}
    if not record_cfdi_call(cfdi, log, Outcome(RESOLVE_REVIEW, CfdiState.STAMPED, values, files=files, comment=note)):
        frappe.throw(_("CFDI {0} is no longer in review.").format(cfdi))
    duplicates = [duplicate_row(row, invoices[i]) for i in others]
    if cancel_others:
        for name in duplicates:
            request_cancellation(name, DUPLICATE_MOTIVE)
    frappe.db.commit()
    run_due(cfdi)
    return {"cfdi": cfdi, "duplicates": duplicates}


def duplicate_row(row, invoice: dict[str, Any]) -> str:
    """A second valid CFDI of the same document, kept on the record so it can be cancelled and audited."""
    return new_row({"reference_doctype": row.reference_doctype, "reference_name": row.reference_name,
                    "cfdi_type": row.cfdi_type, "company": row.company, "currency": row.currency,
                    "status": CfdiState.STAMPED.value, "duplicate_of": row.name, "receiver_customer":
                    row.receiver_customer, **invoice_values(invoice, row.total, row.cfdi_type),
                    "stamp_recorded_at": now_datetime(),  # sealed under today, not FacturaAPI's stamp day
                    "review_note": _("A duplicate of {0}, found when its review was resolved.").format(row.name)},
                   queue=None)

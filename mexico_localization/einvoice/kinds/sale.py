"""A sale's own CFDI de ingreso: to its customer, or to the one a walk-in ticket asked for."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from mexico_localization.cfdi.mapping import BuiltInvoice, build_invoice
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.gather import charged, load_sale, sale_from_invoice
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE, new_row


def sale_row(invoice, queue: str | None = LIVE_QUEUE, **values) -> str:
    """The sale's ingreso row, Queued: at submit, or for a walk-in ticket's nominative request. Its
    External ID names the sale, so a look-up after a lost answer finds what was stamped for it."""
    return new_row({"reference_doctype": invoice.doctype, "reference_name": invoice.name, "cfdi_type": "I",
                    "company": invoice.company, "status": CfdiState.QUEUED.value, "total": charged(invoice),
                    "currency": invoice.currency, **values}, external_subject=invoice.name, queue=queue)


def build(row) -> BuiltInvoice:
    """A self-invoiced row carries the use and e-mail its buyer chose for this CFDI alone: the
    Customer's stay as they were for the store's own sales."""
    invoice = load_sale(row.reference_name, row.reference_doctype)
    sale = sale_from_invoice(invoice, row.receiver_customer)
    if row.get("receiver_use") or row.get("receiver_email"):
        sale = replace(sale, receiver=replace(sale.receiver, cfdi_use=row.receiver_use or sale.receiver.cfdi_use,
                                              email=row.receiver_email or sale.receiver.email))
    return build_invoice(sale, datetime.now(timezone.utc))

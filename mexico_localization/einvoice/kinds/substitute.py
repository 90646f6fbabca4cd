"""A substitute CFDI (Re-issue CFDI): the same sale with corrected data, related to the CFDI it
replaces (relation 04); the replaced one is cancelled with motive 01 once this one is stamped."""

from __future__ import annotations

import frappe

from mexico_localization.cfdi.credit_note import as_substitute
from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.gather import charged
from mexico_localization.einvoice.kinds.sale import build as build_sale
from mexico_localization.einvoice.pipeline.rows import new_row


def substitute_row(invoice, old, customer: str | None) -> str:
    """Its own External ID: a second document of the same sale must not answer to the first one's."""
    return new_row({"reference_doctype": invoice.doctype, "reference_name": invoice.name, "cfdi_type": "I",
                    "company": invoice.company, "status": CfdiState.QUEUED.value, "total": charged(invoice),
                    "currency": invoice.currency, "receiver_customer": customer, "substitutes": old.name,
                    "related_uuids": old.uuid})


def build(row) -> BuiltInvoice:
    return as_substitute(build_sale(row), frappe.db.get_value("CFDI", row.substitutes, "uuid"))

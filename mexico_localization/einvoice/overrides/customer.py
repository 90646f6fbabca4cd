"""Customer hooks: the fiscal data is checked where it is typed, so a problem is seen once, not at
every sale."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi import rfc
from mexico_localization.cfdi.validation import receiver_problems
from mexico_localization.einvoice.gather import receiver_from_customer
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.operations.customer_check import check_new_customer


def validate(doc, method: str | None = None) -> None:
    """The RFC is kept as SAT writes it (an RFC typed with hyphens or spaces would be refused); then a
    warning (never a block) about fiscal data the CFDI would reject, once any of it is filled in."""
    residence = (doc.get("mx_fiscal_residence") or "").strip().upper()
    if doc.get("tax_id") and residence in ("", "MEX"):
        doc.tax_id = rfc.normalize(doc.tax_id)
    if doc.get("mx_is_public") or not (doc.get("mx_tax_regime") or doc.get("mx_cfdi_use") or doc.get("mx_fiscal_zip")):
        return
    found = receiver_problems(receiver_from_customer(doc), doc.customer_name or doc.name)
    if found:
        frappe.msgprint("<br>".join(frappe.utils.escape_html(translate(p)) for p in found),
                        title=_("CFDI data of this customer"), indicator="orange")


def after_insert(doc, method: str | None = None) -> None:
    """A new customer (the POS quick entry's too) is checked with SAT at once when E Invoice is on."""
    check_new_customer(doc)

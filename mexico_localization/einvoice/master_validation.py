"""Format checks where fiscal master data is typed, so a bad key is caught once, not at every sale."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.validation import receiver_problems, valid_product_key, valid_unit_key
from mexico_localization.einvoice.gather import receiver_from_customer
from mexico_localization.einvoice.till import translate


def validate_product_key(doc, method: str | None = None) -> None:
    key = (doc.get("mx_product_key") or "").strip()
    doc.mx_product_key = key
    if key and not valid_product_key(key):
        frappe.throw(_("The SAT Product Key must be 8 digits (c_ClaveProdServ), e.g. 50201706."))


def validate_unit_key(doc, method: str | None = None) -> None:
    key = (doc.get("mx_unit_key") or "").strip().upper()
    doc.mx_unit_key = key
    if key and not valid_unit_key(key):
        frappe.throw(_("The SAT Unit Key is 1 to 3 letters or digits (c_ClaveUnidad), e.g. H87, KGM or E48."))


def validate_customer(doc, method: str | None = None) -> None:
    """Warns (never blocks) about fiscal data the CFDI would reject, once any of it is filled in."""
    if doc.get("mx_is_public") or not (doc.get("mx_tax_regime") or doc.get("mx_cfdi_use") or doc.get("mx_fiscal_zip")):
        return
    found = receiver_problems(receiver_from_customer(doc), doc.customer_name or doc.name)
    if found:
        frappe.msgprint("<br>".join(frappe.utils.escape_html(translate(p)) for p in found),
                        title=_("CFDI data of this customer"), indicator="orange")

"""Item and Item Group hooks: the SAT product key (c_ClaveProdServ) is checked where it is typed."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.validation import valid_product_key


def validate_product_key(doc, method: str | None = None) -> None:
    key = (doc.get("mx_product_key") or "").strip()
    doc.mx_product_key = key
    if key and not valid_product_key(key):
        frappe.throw(_("The SAT Product Key must be 8 digits (c_ClaveProdServ), e.g. 50201706."))

"""UOM hooks: the SAT unit key (c_ClaveUnidad) is checked where it is typed."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.validation import valid_unit_key


def validate_unit_key(doc, method: str | None = None) -> None:
    key = (doc.get("mx_unit_key") or "").strip().upper()
    doc.mx_unit_key = key
    if key and not valid_unit_key(key):
        frappe.throw(_("The SAT Unit Key is 1 to 3 letters or digits (c_ClaveUnidad), e.g. H87, KGM or E48."))

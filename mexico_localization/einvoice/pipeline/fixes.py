"""The record a person opens to fix a refused CFDI: the field `cfdi/refusals.py` reads from
FacturaAPI's answer, resolved to the customer, item, unit, place of issue or sale it belongs to."""

from __future__ import annotations

from typing import Any

import frappe

from mexico_localization.cfdi import refusals
from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.facturapi import FacturapiError

FIX_FIELDS = ("fix_doctype", "fix_name", "fix_field", "fix_label")


def fix_values(row, error: FacturapiError | None, built: BuiltInvoice | None) -> dict[str, Any]:
    """The CFDI row's fix_* values for a refusal (all empty when none names a field to change)."""
    empty = dict.fromkeys(FIX_FIELDS, "")
    if error is None or error.status != 400:
        return empty
    fix = refusals.first_fix([(d.code, d.message, d.path) for d in error.details]
                             + [(error.code, error.message, error.path)])
    target = record_of(row, fix, built) if fix else None
    if not target:
        return empty
    return {"fix_doctype": target[0], "fix_name": target[1], "fix_field": fix.field, "fix_label": fix.label}


def record_of(row, fix: refusals.Fix, built: BuiltInvoice | None) -> tuple[str, str] | None:
    sale = frappe.db.get_value(row.reference_doctype, row.reference_name, ["customer", "pos_profile"],
                               as_dict=True) if row.reference_doctype in ("POS Invoice", "Sales Invoice") else None
    if fix.place == refusals.CUSTOMER and not row.is_global:
        customer = row.get("receiver_customer") or (sale.customer if sale else None)
        return ("Customer", customer) if customer else None
    if fix.place in (refusals.ITEM, refusals.UOM) and built and fix.line is not None:
        items = built.body.get("items") or []
        product = items[fix.line].get("product", {}) if fix.line < len(items) else {}
        name = product.get("sku") if fix.place == refusals.ITEM else product.get("unit_name")
        return ("Item" if fix.place == refusals.ITEM else "UOM", name) if name else None
    if fix.place == refusals.PLACE_OF_ISSUE:
        return ("POS Profile", sale.pos_profile) if sale and sale.pos_profile else \
            ("E Invoice Setting", "E Invoice Setting")
    if fix.place == refusals.SALE and sale:
        return row.reference_doctype, row.reference_name
    return None


def fix_of(cfdi: str | None) -> dict[str, str] | None:
    """What a sale's form offers to open for its Failed CFDI (None when nothing names a field)."""
    if not cfdi:
        return None
    row = frappe.db.get_value("CFDI", cfdi, ["status", *FIX_FIELDS], as_dict=True)
    if not row or row.status != "Failed" or not row.fix_doctype:
        return None
    return {"doctype": row.fix_doctype, "name": row.fix_name, "field": row.fix_field, "label": row.fix_label}

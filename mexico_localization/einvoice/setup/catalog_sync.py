"""Keeps the SAT catalog doctypes equal to cfdi/catalogs.py (install and every migrate)."""

from __future__ import annotations

import frappe

from mexico_localization.cfdi import catalogs


def rows() -> dict[str, list[dict]]:
    return {
        "SAT Tax Regime": [{"code": r.code, "description": r.description, "fisica": int(r.fisica),
                            "moral": int(r.moral)} for r in catalogs.REGIMES.values()],
        "SAT CFDI Use": [{"code": u.code, "description": u.description, "fisica": int(u.fisica),
                          "moral": int(u.moral), "regimes": ", ".join(sorted(u.regimes))}
                         for u in catalogs.CFDI_USES.values()],
        "SAT Payment Form": _simple(catalogs.PAYMENT_FORMS),
        "SAT Tax Object": _simple(catalogs.TAX_OBJECTS),
        "SAT Relation Type": _simple(catalogs.RELATION_TYPES),
        "SAT Cancellation Motive": _simple(catalogs.CANCELLATION_MOTIVES),
    }


def _simple(table: dict[str, str]) -> list[dict]:
    return [{"code": code, "description": description} for code, description in table.items()]


def sync() -> None:
    for doctype, records in rows().items():
        for record in records:
            if frappe.db.exists(doctype, record["code"]):
                frappe.db.set_value(doctype, record["code"], record, update_modified=False)
            else:
                frappe.get_doc({"doctype": doctype, **record}).insert(ignore_permissions=True)

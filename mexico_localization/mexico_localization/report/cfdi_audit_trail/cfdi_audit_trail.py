"""One row per CFDI: what SAT sealed, how it ended, how many calls it took and where its records are."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.einvoice.roles import company_condition


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
    return columns(), rows(frappe._dict(filters or {}))


def columns() -> list[dict]:
    return [
        {"fieldname": "name", "label": _("CFDI"), "fieldtype": "Link", "options": "CFDI", "width": 190},
        {"fieldname": "cfdi_type", "label": _("Type"), "fieldtype": "Data", "width": 60},
        {"fieldname": "reference_doctype", "label": _("Document Type"), "fieldtype": "Data", "width": 110},
        {"fieldname": "reference_name", "label": _("Document"), "fieldtype": "Dynamic Link",
         "options": "reference_doctype", "width": 170},
        {"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 110},
        {"fieldname": "environment", "label": _("Environment"), "fieldtype": "Data", "width": 90},
        {"fieldname": "uuid", "label": _("UUID"), "fieldtype": "Data", "width": 280},
        {"fieldname": "sat_cert_number", "label": _("SAT Certificate Number"), "fieldtype": "Data", "width": 170},
        {"fieldname": "stamped_at", "label": _("Stamp Time"), "fieldtype": "Datetime", "width": 150},
        {"fieldname": "total", "label": _("Total"), "fieldtype": "Currency", "width": 100},
        {"fieldname": "cancellation_motive", "label": _("Cancellation motive"), "fieldtype": "Data", "width": 80},
        {"fieldname": "cancellation_status", "label": _("Cancellation Status"), "fieldtype": "Data", "width": 110},
        {"fieldname": "attempts", "label": _("Calls"), "fieldtype": "Int", "width": 60},
        {"fieldname": "last_error", "label": _("Last Error"), "fieldtype": "Data", "width": 200},
        {"fieldname": "xml_file", "label": _("XML"), "fieldtype": "Data", "width": 120},
    ]


def rows(filters) -> list[dict]:
    values: dict = {}
    conditions = [company_condition("c.company", values)]
    for field in ("company", "cfdi_type", "status"):
        if filters.get(field):
            conditions.append(f"c.{field} = %({field})s")
            values[field] = filters[field]
    if filters.get("from_date"):
        conditions.append("date(c.creation) >= %(from_date)s")
        values["from_date"] = filters.from_date
    if filters.get("to_date"):
        conditions.append("date(c.creation) <= %(to_date)s")
        values["to_date"] = filters.to_date
    if filters.get("environment"):
        conditions.append("c.livemode = %(live)s")
        values["live"] = int(filters.environment == "Live")
    if filters.get("pos_profile"):
        conditions.append("""exists (select 1 from `tabPOS Invoice` pi where pi.pos_profile = %(pos_profile)s
                             and (pi.name = c.reference_name or pi.mx_cfdi = c.name))""")  # POS sales only
        values["pos_profile"] = filters.pos_profile
    found = frappe.db.sql(f"""
        select c.name, c.cfdi_type, c.reference_doctype, c.reference_name, c.status, c.livemode, c.uuid,
               c.sat_cert_number, c.stamped_at, c.total, c.cancellation_motive, c.cancellation_status,
               c.last_error, c.xml_file,
               (select count(*) from `tabCFDI Attempt` a where a.parent = c.name) as attempts
        from `tabCFDI` c where {" and ".join(conditions)}
        order by c.creation desc""", values, as_dict=True)  # noqa: S608 - conditions are fixed text
    for row in found:
        row["environment"] = _("Live") if row.pop("livemode") else _("Test")
    return found

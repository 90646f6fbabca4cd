"""Walk-in tickets their buyers turned into their own CFDI on the self-invoicing page: when they asked,
for whom, and where each CFDI stands."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.einvoice.report_columns import document
from mexico_localization.einvoice.roles import company_condition, require_reader


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
    require_reader()
    filters = frappe._dict(filters or {})
    return columns(), rows(filters)


def columns() -> list[dict]:
    return [
        {"fieldname": "requested_at", "label": _("Requested At"), "fieldtype": "Datetime", "width": 150},
        document("sale", _("Ticket"), "POS Invoice"),
        document("cfdi", _("CFDI"), "CFDI"),
        document("customer", _("Customer"), "Customer"),
        {"fieldname": "tax_id", "label": _("RFC"), "fieldtype": "Data", "width": 130},
        {"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 110},
        {"fieldname": "uuid", "label": _("UUID (Folio Fiscal)"), "fieldtype": "Data", "width": 280},
        {"fieldname": "total", "label": _("Total"), "fieldtype": "Currency", "width": 110},
        {"fieldname": "replaces_global", "label": _("Left Global CFDI"), "fieldtype": "Link", "options": "CFDI",
         "width": 160},
    ]


def rows(filters) -> list[dict]:
    values = {"from_date": filters.get("from_date"), "to_date": filters.get("to_date"),
              "company": filters.get("company")}
    return frappe.db.sql(f"""
        select c.creation as requested_at, c.reference_name as sale, c.name as cfdi, c.receiver_customer as customer,
               cu.tax_id, c.status, c.uuid, c.total, c.replaces_global
        from `tabCFDI` c left join `tabCustomer` cu on cu.name = c.receiver_customer
        where c.self_invoiced = 1 and (%(from_date)s is null or date(c.creation) >= %(from_date)s)
          and (%(to_date)s is null or date(c.creation) <= %(to_date)s)
          and (%(company)s is null or c.company = %(company)s) and {company_condition("c.company", values)}
        order by c.creation desc""", values, as_dict=True)  # noqa: S608 - fixed text

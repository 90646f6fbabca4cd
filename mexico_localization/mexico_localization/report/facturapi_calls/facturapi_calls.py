"""Every call to FacturaAPI: operation, answer, time taken, error code and the record it served."""

from __future__ import annotations

import json

import frappe
from frappe import _

from mexico_localization.einvoice.pipeline.records import SERVICE
from mexico_localization.einvoice.roles import allowed_companies, company_condition


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
    return columns(), rows(frappe._dict(filters or {}))


def columns() -> list[dict]:
    return [
        {"fieldname": "name", "label": _("Integration Request"), "fieldtype": "Link",
         "options": "Integration Request", "width": 130},
        {"fieldname": "creation", "label": _("Time"), "fieldtype": "Datetime", "width": 160},
        {"fieldname": "operation", "label": _("Operation"), "fieldtype": "Data", "width": 160},
        {"fieldname": "http_status", "label": _("HTTP"), "fieldtype": "Data", "width": 70},
        {"fieldname": "duration_ms", "label": _("ms"), "fieldtype": "Int", "width": 70},
        {"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 90},
        {"fieldname": "error_code", "label": _("Error Code"), "fieldtype": "Data", "width": 170},
        {"fieldname": "reference_doctype", "label": _("Document Type"), "fieldtype": "Data",
         "width": 100},
        {"fieldname": "reference_docname", "label": _("Document"), "fieldtype": "Dynamic Link",
         "options": "reference_doctype", "width": 190},
        {"fieldname": "request_id", "label": _("FacturaAPI Log ID"), "fieldtype": "Data", "width": 170},
    ]


def rows(filters) -> list[dict]:
    values = {"service": SERVICE, "from": f"{filters.from_date} 00:00:00" if filters.get("from_date") else None,
              "to": f"{filters.to_date} 23:59:59" if filters.get("to_date") else None,
              "status": filters.get("status"), "company": filters.get("company")}
    companies = "1=1"
    if filters.get("company") or allowed_companies() is not None:  # the calls made for those companies' CFDIs
        companies = f"""ir.reference_doctype = 'CFDI' and exists (select 1 from `tabCFDI` c
            where c.name = ir.reference_docname and (%(company)s is null or c.company = %(company)s)
            and {company_condition("c.company", values)})"""  # noqa: S608 - fixed text
    found = frappe.db.sql(f"""
        select ir.name, ir.creation, ir.request_description, ir.status, ir.error, ir.reference_doctype,
               ir.reference_docname, ir.request_id
        from `tabIntegration Request` ir
        where ir.integration_request_service = %(service)s and (%(from)s is null or ir.creation >= %(from)s)
          and (%(to)s is null or ir.creation <= %(to)s) and (%(status)s is null or ir.status = %(status)s)
          and {companies}
        order by ir.creation desc""", values, as_dict=True)  # noqa: S608 - fixed text
    codes = dict(frappe.get_all("CFDI Attempt", fields=["integration_request", "error_code"], as_list=True,
                                filters={"integration_request": ["in", [r.name for r in found] or [""]]}))
    return [_row(r, codes.get(r.name) or "") for r in found]


def _row(r, error_code: str) -> dict:
    """The description reads "[run · ]operation · HTTP status · N ms" (records.describe)."""
    parts = [p.strip() for p in (r.pop("request_description") or "").split(" · ")]
    operation, http_status, duration = (parts[-3:] if len(parts) >= 3 else ["", "", ""])
    error = json.loads(r.pop("error") or "{}") if (r.get("error") or "").startswith("{") else {}
    return {**r, "operation": operation, "http_status": http_status,
            "duration_ms": int(duration.replace("ms", "").strip() or 0) if duration.endswith("ms") else None,
            "error_code": error_code or error.get("kind") or ""}

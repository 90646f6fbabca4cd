"""Payments on deferred (PPD) sales (POS sales and Sales Invoices) whose payment complement is not
stamped yet, with SAT's deadline."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from mexico_localization.cfdi.payment_complement import complement_deadline
from mexico_localization.einvoice.report_columns import document
from mexico_localization.einvoice.roles import company_condition


def execute(filters: dict | None = None) -> tuple[list[dict], list[dict]]:
    filters = frappe._dict(filters or {})
    return columns(), [row for row in rows(filters) if row["status"] != "Stamped"]


def columns() -> list[dict]:
    return [
        {"fieldname": "payment_doctype", "label": _("Payment Type"), "fieldtype": "Data", "width": 120},
        {"fieldname": "payment", "label": _("Payment"), "fieldtype": "Dynamic Link", "options": "payment_doctype",
         "width": 180},
        {"fieldname": "paid_on", "label": _("Paid On"), "fieldtype": "Date", "width": 100},
        document("customer", _("Customer"), "Customer"),
        {"fieldname": "amount", "label": _("Amount"), "fieldtype": "Currency", "width": 110},
        {"fieldname": "complement", "label": _("Payment Complement"), "fieldtype": "Link", "options": "CFDI",
         "width": 180},
        {"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 120},
        {"fieldname": "deadline", "label": _("SAT Deadline"), "fieldtype": "Date", "width": 110},
        {"fieldname": "overdue", "label": _("Overdue"), "fieldtype": "Check", "width": 80},
    ]


def rows(filters) -> list[dict]:
    values = {"company": filters.get("company")}
    found = []
    # Payment Entries against Sales Invoices stamped PPD, or consolidated ones that merged PPD sales.
    for pe in frappe.db.sql(f"""
            select distinct pe.name, pe.posting_date, pe.party, pe.paid_amount, pe.company
            from `tabPayment Entry` pe
            join `tabPayment Entry Reference` ref on ref.parent = pe.name and ref.reference_doctype = 'Sales Invoice'
            where pe.docstatus = 1 and pe.payment_type = 'Receive' and (%(company)s is null or pe.company = %(company)s)
              and {company_condition("pe.company", values)}
              and exists (select 1 from `tabCFDI` c where c.cfdi_type = 'I' and c.payment_method = 'PPD' and (
                  (c.reference_doctype = 'Sales Invoice' and c.reference_name = ref.reference_name)
                  or c.reference_name in (select sii.pos_invoice from `tabSales Invoice Item` sii
                                          where sii.parent = ref.reference_name and ifnull(sii.pos_invoice, '') != '')))
            """, values, as_dict=True):  # noqa: S608 - fixed text
        found.append(_row("Payment Entry", pe.name, pe.posting_date, pe.party, pe.paid_amount))
    # Payments made at the till on PPD sales.
    for sale in frappe.db.sql(f"""
            select pi.name, pi.posting_date, pi.customer, pi.paid_amount - pi.change_amount as paid
            from `tabPOS Invoice` pi join `tabCFDI` c on c.reference_name = pi.name and c.cfdi_type = 'I'
            where c.payment_method = 'PPD' and c.status = 'Stamped' and pi.paid_amount - pi.change_amount > 0
              and (%(company)s is null or pi.company = %(company)s)
              and {company_condition("pi.company", values)}""", values, as_dict=True):  # noqa: S608 - fixed text
        found.append(_row("POS Invoice", sale.name, sale.posting_date, sale.customer, sale.paid))
    return found


def _row(doctype: str, name: str, paid_on, customer: str, amount) -> dict:
    complement = frappe.db.get_value("CFDI", {"reference_doctype": doctype, "reference_name": name, "cfdi_type": "P"},
                                     ["name", "status"], as_dict=True, order_by="creation desc") or frappe._dict()
    deadline = complement_deadline(getdate(paid_on))
    status = complement.status or _("Missing")
    return {"payment_doctype": doctype, "payment": name, "paid_on": paid_on, "customer": customer, "amount": amount,
            "complement": complement.name, "status": status, "deadline": deadline,
            "overdue": int(status != "Stamped" and getdate(nowdate()) > deadline)}

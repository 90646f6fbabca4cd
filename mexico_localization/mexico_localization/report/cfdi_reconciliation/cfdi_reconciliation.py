"""Month-end reconciliation: every POS sale against the CFDI that carries it to SAT (nominative,
global, credit note, netted into a global) and its payment complements; or, by consolidated Sales
Invoice, the UUIDs it stands for and whether its payments were all declared. Sales without a valid
CFDI are flagged with what to do (cfdi/reconciliation.py decides)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import escape_html, get_datetime, get_first_day, get_last_day, getdate

from mexico_localization.cfdi.money import dec
from mexico_localization.cfdi.reconciliation import SaleCfdi, complement_gap, findings, has_valid_cfdi, road
from mexico_localization.cfdi.states import VALID_AT_SAT
from mexico_localization.einvoice.report_columns import document
from mexico_localization.einvoice.roles import require_company
from mexico_localization.einvoice.settings import company_row, default_company, get_settings
from mexico_localization.einvoice.standing import CURRENT_OR_NETTED, OWN, POS_SALE

VALID = tuple(s.value for s in VALID_AT_SAT)
BY_INVOICE = "Consolidated Sales Invoices"


def execute(filters: dict | None = None):
    filters = frappe._dict(filters or {})
    settings = get_settings()
    filters.company = filters.get("company") or default_company(settings)
    require_company(filters.company)
    filters.from_date = getdate(filters.get("from_date") or get_first_day(getdate()))
    filters.to_date = getdate(filters.get("to_date") or get_last_day(filters.from_date))
    # A Test stamp has no fiscal value on a production site, from the moment it became one.
    row = company_row(filters.company, settings)
    test_stamps_since = row.production_since if settings.production_site and row else None
    sales = sale_rows(filters, test_stamps_since)
    if filters.get("view") == BY_INVOICE:
        data = invoice_rows(sales, test_stamps_since)
        cols = invoice_columns()
    else:
        data, cols = sales, sale_columns()
    if filters.get("only_problems"):
        data = [row for row in data if row["finding"]]
    return cols, data, None, None, summary(sales)


def sale_columns() -> list[dict]:
    return [
        {"fieldname": "posting_date", "label": _("Date"), "fieldtype": "Date", "width": 95},
        document("pos_invoice", _("POS Invoice"), "POS Invoice", 170),
        document("sales_invoice", _("Sales Invoice"), "Sales Invoice", 170),
        document("customer", _("Customer"), "Customer", 140),
        {"fieldname": "grand_total", "label": _("Amount"), "fieldtype": "Currency", "width": 100},
        {"fieldname": "road", "label": _("Road to SAT"), "fieldtype": "Data", "width": 120},
        {"fieldname": "cfdi", "label": _("CFDI"), "fieldtype": "Link", "options": "CFDI", "width": 190},
        {"fieldname": "uuid", "label": _("UUID"), "fieldtype": "Data", "width": 280},
        {"fieldname": "cfdi_status", "label": _("CFDI Status"), "fieldtype": "Data", "width": 110},
        {"fieldname": "environment", "label": _("Environment"), "fieldtype": "Data", "width": 80},
        {"fieldname": "payment_method", "label": _("Payment Method"), "fieldtype": "Data", "width": 70},
        {"fieldname": "complemented", "label": _("Declared in Complements"), "fieldtype": "Currency", "width": 110},
        {"fieldname": "complement_uuids", "label": _("Payment Complement UUIDs"), "fieldtype": "Data", "width": 200},
        document("consolidated_invoice", _("Consolidated Sales Invoice"), "Sales Invoice"),
        {"fieldname": "valid_cfdi", "label": _("Valid CFDI"), "fieldtype": "Check", "width": 70},
        {"fieldname": "finding", "label": _("Finding"), "fieldtype": "Data", "width": 360},
    ]


def invoice_columns() -> list[dict]:
    return [
        document("sales_invoice", _("Consolidated Sales Invoice"), "Sales Invoice", 170),
        {"fieldname": "posting_date", "label": _("Date"), "fieldtype": "Date", "width": 95},
        {"fieldname": "sales", "label": _("POS Sales"), "fieldtype": "Int", "width": 80},
        {"fieldname": "grand_total", "label": _("Amount"), "fieldtype": "Currency", "width": 110},
        {"fieldname": "without_valid_cfdi", "label": _("Sales without a Valid CFDI"), "fieldtype": "Int",
         "width": 110},
        {"fieldname": "uuids", "label": _("UUIDs"), "fieldtype": "Small Text", "width": 320},
        {"fieldname": "received", "label": _("Received on Deferred Sales"), "fieldtype": "Currency", "width": 120},
        {"fieldname": "complemented", "label": _("Declared in Complements"), "fieldtype": "Currency", "width": 120},
        {"fieldname": "finding", "label": _("Finding"), "fieldtype": "Data", "width": 360},
    ]


def sale_rows(filters, test_stamps_since=None) -> list[dict]:
    """The sales of the period, or with `filters.consolidated_invoices`, every sale of those invoices."""
    conditions = ["pi.docstatus in (1, 2)", "pi.company = %(company)s"]
    if filters.get("consolidated_invoices"):
        conditions.append("pi.consolidated_invoice in %(consolidated_invoices)s")
    else:
        conditions.append("pi.posting_date between %(from_date)s and %(to_date)s")
        if filters.get("pos_profile"):
            conditions.append("pi.pos_profile = %(pos_profile)s")
    found = frappe.db.sql(f"""
        select pi.name as pos_invoice, '' as sales_invoice, pi.posting_date, pi.customer, pi.grand_total,
               pi.docstatus, pi.is_return, pi.mx_cfdi_status, pi.mx_cfdi_message, pi.consolidated_invoice,
               c.name as cfdi, c.status as cfdi_status, c.is_global, c.livemode, c.uuid, c.payment_method,
               c.cancelled_outside_app, c.last_error, c.stamped_at
        from `tabPOS Invoice` pi left join `tabCFDI` c
            on c.name = {CURRENT_OR_NETTED.format(sale="pi.name", returned="pi.return_against", mirror="pi.mx_cfdi",
                                          doctype=POS_SALE)}
        where {" and ".join(conditions)}
        order by pi.posting_date, pi.name""", filters, as_dict=True)  # noqa: S608 - conditions are fixed text
    if not (filters.get("consolidated_invoices") or filters.get("pos_profile")):
        found = sorted(found + invoice_sales(filters), key=lambda r: (r.posting_date, r.pos_invoice or r.sales_invoice))
    complements = _complements([r.cfdi for r in found if r.payment_method == "PPD"])
    rows = []
    for r in found:
        sale = SaleCfdi(r.pos_invoice or r.sales_invoice, cancelled=r.docstatus == 2, is_return=bool(r.is_return),
                        sale_status=r.mx_cfdi_status or "", message=r.mx_cfdi_message or "", cfdi=r.cfdi,
                        cfdi_status=r.cfdi_status, is_global=bool(r.is_global), livemode=bool(r.livemode),
                        cancelled_outside=bool(r.cancelled_outside_app), last_error=r.last_error or "")
        paid, uuids = complements.get(r.cfdi, (Decimal(0), []))
        live_site = bool(test_stamps_since and r.stamped_at and r.stamped_at >= get_datetime(test_stamps_since))
        found = findings(sale, live_site=live_site)
        rows.append({
            "posting_date": r.posting_date, "pos_invoice": r.pos_invoice or None,
            "sales_invoice": r.sales_invoice or None, "customer": r.customer,
            "grand_total": r.grand_total, "road": _(road(sale)), "cfdi": r.cfdi, "uuid": r.uuid,
            "cfdi_status": _(sale.cfdi_status or sale.sale_status or "Not Applicable"),
            "environment": (_("Live") if r.livemode else _("Test")) if r.uuid else "",
            "payment_method": r.payment_method or "", "complemented": float(paid),
            "complement_uuids": ", ".join(uuids), "consolidated_invoice": r.consolidated_invoice,
            "docstatus": r.docstatus, "company": filters.company,
            "valid_cfdi": int(has_valid_cfdi(sale, live_site=live_site, found=found)),
            "finding": " ".join(_(f.template).format(**_translated(f.params)) for f in found),
        })
    return rows


def invoice_sales(filters) -> list:
    """The period's Sales Invoices made outside the POS (B2B, credit), each with its own CFDI: the one
    POS closing consolidates is never stamped (its sales are in the rows above)."""
    return frappe.db.sql(f"""
        select '' as pos_invoice, si.name as sales_invoice, si.posting_date, si.customer, si.grand_total,
               si.docstatus, si.is_return, si.mx_cfdi_status, si.mx_cfdi_message, '' as consolidated_invoice,
               c.name as cfdi, c.status as cfdi_status, c.is_global, c.livemode, c.uuid, c.payment_method,
               c.cancelled_outside_app, c.last_error, c.stamped_at
        from `tabSales Invoice` si left join `tabCFDI` c
            on c.name = {OWN.format(sale="si.name", doctype="'Sales Invoice'")}
        where si.docstatus in (1, 2) and si.company = %(company)s and ifnull(si.is_consolidated, 0) = 0
          and si.posting_date between %(from_date)s and %(to_date)s""", filters, as_dict=True)  # noqa: S608


def _translated(params: dict[str, str]) -> dict[str, str]:
    """A state named inside a finding reads in the user's language, like the sentence around it. The
    values (FacturaAPI's error text, a sale's message) are escaped: the report renders cells as HTML."""
    return {k: escape_html(_(v) if k == "status" else str(v)) for k, v in params.items()}


def _complements(cfdis: list[str]) -> dict[str, tuple[Decimal, list[str]]]:
    """What the valid payment complements declare for each PPD CFDI, and their UUIDs."""
    if not cfdis:
        return {}
    declared: dict[str, tuple[Decimal, list[str]]] = {}
    for row in frappe.db.sql("""select a.related_cfdi, a.amount, c.uuid from `tabCFDI Payment Allocation` a
                                join `tabCFDI` c on c.name = a.parent
                                where a.related_cfdi in %s and c.status in %s order by c.stamped_at""",
                             (tuple(cfdis), VALID), as_dict=True):
        paid, uuids = declared.get(row.related_cfdi, (Decimal(0), []))
        declared[row.related_cfdi] = (paid + dec(row.amount), [*uuids, row.uuid])
    return declared


def invoice_rows(sales: list[dict], test_stamps_since=None) -> list[dict]:
    """One row per consolidated Sales Invoice with a sale in the period: all its sales' UUIDs (a
    closing may straddle the period's edge), and whether every payment received on its deferred
    sales was declared in a complement."""
    names = sorted({s["consolidated_invoice"] for s in sales if s["consolidated_invoice"] and s["docstatus"] == 1})
    if not names:
        return []
    by_invoice: dict[str, list[dict]] = defaultdict(list)
    every_sale = sale_rows(frappe._dict(company=sales[0]["company"], consolidated_invoices=tuple(names)),
                           test_stamps_since)
    for sale in every_sale:
        if sale["docstatus"] == 1:
            by_invoice[sale["consolidated_invoice"]].append(sale)
    invoices = {si.name: si for si in frappe.get_all(
        "Sales Invoice", fields=["name", "posting_date", "grand_total", "outstanding_amount"],
        filters={"name": ["in", list(by_invoice)]})}
    credited = _credited([s["pos_invoice"] for group in by_invoice.values() for s in group
                          if s["payment_method"] == "PPD"])
    rows = []
    for name, group in sorted(by_invoice.items()):
        si = invoices.get(name) or frappe._dict(grand_total=0, outstanding_amount=0)
        deferred = [s for s in group if s["payment_method"] == "PPD"]
        # Sales paid in full at the till leave no outstanding, so what is still due is the deferred sales'.
        received = (sum((dec(s["grand_total"]) - credited.get(s["pos_invoice"], Decimal(0)) for s in deferred),
                        Decimal(0)) - dec(si.outstanding_amount)) if deferred else Decimal(0)
        declared = sum((dec(s["complemented"]) for s in deferred), Decimal(0))
        gaps = sum(1 for s in group if not s["valid_cfdi"])
        notes = []
        if gaps:
            notes.append(_("{0} of its sales have no valid CFDI: see the Sales view.").format(gaps))
        gap = complement_gap(received, declared) if deferred else None
        if gap:
            notes.append(_(gap.template).format(**gap.params))
        rows.append({"sales_invoice": name, "posting_date": si.posting_date, "sales": len(group),
                     "grand_total": si.grand_total, "without_valid_cfdi": gaps,
                     "uuids": ", ".join(dict.fromkeys(s["uuid"] for s in group if s["uuid"])),
                     "received": float(received), "complemented": float(declared), "finding": " ".join(notes)})
    return rows


def _credited(sales: list[str]) -> dict[str, Decimal]:
    if not sales:
        return {}
    return {row.original_invoice: dec(row.total) for row in frappe.db.sql(
        """select original_invoice, sum(total) as total from `tabCFDI` where cfdi_type = 'E'
           and original_invoice in %s and status in %s group by original_invoice""",
        (tuple(sales), VALID), as_dict=True)}


def summary(sales: list[dict]) -> list[dict]:
    live = [s for s in sales if s["docstatus"] == 1]
    covered = sum(1 for s in live if s["valid_cfdi"])
    flagged = sum(1 for s in sales if s["finding"] and not s["valid_cfdi"])
    return [
        {"value": len(live), "label": _("Sales"), "datatype": "Int"},
        {"value": sum(s["grand_total"] for s in live), "label": _("Amount"), "datatype": "Currency"},
        {"value": covered, "label": _("With a Valid CFDI"), "datatype": "Int", "indicator": "Green"},
        {"value": flagged, "label": _("Flagged"), "datatype": "Int", "indicator": "Red" if flagged else "Green"},
    ]

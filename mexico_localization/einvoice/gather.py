"""A POS Invoice or a Sales Invoice and its master data, gathered into the pure model the CFDI mapping
takes: the two differ only here (where the place of issue, the CFDI use and the payment terms come
from), never in the fiscal rules."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import get_datetime, get_system_timezone, getdate

from mexico_localization.cfdi import catalogs, rfc
from mexico_localization.cfdi.arithmetic import charged_total
from mexico_localization.cfdi.global_cfdi import Ticket, chunked
from mexico_localization.cfdi.model import Line, Payment, Receiver, Sale, Tax
from mexico_localization.cfdi.money import dec
from mexico_localization.einvoice.settings import company_row

POS_INVOICE, SALES_INVOICE = "POS Invoice", "Sales Invoice"
SALE_DOCTYPES = (POS_INVOICE, SALES_INVOICE)

SALE_TABLES = ("items", "taxes", "payments")
LOAD_CHUNK = 1000


def lookup(doctype: str, name: str | None, fields: str | list[str]):
    """Master data for a sale. At the till (a web request) Frappe's document cache answers at once. In
    a background job, a freshly forked process, that cache would load and import each document's
    controller (ERPNext's Item, Customer, Account...), costing more than the CFDI itself: there it is
    SQL, remembered while one sale is gathered (`remembered`)."""
    if not name:
        return None
    as_dict = isinstance(fields, list) or fields == "*"
    if not getattr(frappe.local, "job", None):
        if fields == "*":
            return frappe.get_cached_doc(doctype, name)
        return frappe.get_cached_value(doctype, name, fields, as_dict=as_dict)
    memo = getattr(frappe.local, "cfdi_lookups", None)
    key = (doctype, name, tuple(fields) if isinstance(fields, list) else fields)
    if memo is not None and key in memo:
        return memo[key]
    value = select_row(doctype, name, fields)
    if memo is not None:
        memo[key] = value
    return value


def select_row(doctype: str, name: str, fields: str | list[str]):
    """One row's `fields` (a list or "*": a dict; one field: its value; None when there is no such row)
    by plain SQL. `frappe.db.get_value` parses each field name with sqlparse, which in a job costs more
    than the query; `fields` are the app's own literals, never a caller's input."""
    columns = "*" if fields == "*" else ", ".join(f"`{f}`" for f in ([fields] if isinstance(fields, str) else fields))
    rows = frappe.db.sql(f"select {columns} from `tab{doctype}` where name = %s", (name,), as_dict=True)  # noqa: S608
    if not rows:
        return None
    return rows[0] if isinstance(fields, list) or fields == "*" else rows[0][fields]


@contextmanager
def remembered() -> Iterator[None]:
    """Look-ups made inside are made once (a sale's lines share items, UOMs and tax accounts)."""
    outer = getattr(frappe.local, "cfdi_lookups", None) is not None
    if not outer:
        frappe.local.cfdi_lookups = {}
    try:
        yield
    finally:
        if not outer:
            frappe.local.cfdi_lookups = None


def profile_of(name: str | None) -> frappe._dict | None:
    return lookup("POS Profile", name, ["name", "customer", "mx_expedition_zip", "mx_series"])


class LoadedSale(SimpleNamespace):
    """A sale's values by attribute, like a document (a dict would answer `.items` with its method);
    every column of its table is there, so a misspelt field raises instead of reading as empty."""

    def get(self, key: str, default=None):
        return getattr(self, key, None) or default


def load_sale(name: str, doctype: str = "POS Invoice") -> LoadedSale:
    """A submitted sale as plain values, with the child tables the CFDI reads. A job runs in a freshly
    forked process: loading the ERPNext controller (and everything it imports) would cost more than
    the stamp itself."""
    return load_sales([name], doctype)[name]


def load_sales(names: list[str], doctype: str = "POS Invoice") -> dict[str, LoadedSale]:
    """Many sales as `load_sale` gives one, in four queries per thousand (a global's tickets): a query
    per sale would cost a global of a busy day more than its stamp."""
    sales: dict[str, dict] = {}
    meta = frappe.get_meta(doctype)
    tables = {fieldname: meta.get_field(fieldname).options for fieldname in SALE_TABLES}
    for chunk in chunked(list(dict.fromkeys(names)), LOAD_CHUNK):
        for row in frappe.db.sql(f"select * from `tab{doctype}` where name in %s", (tuple(chunk),),  # noqa: S608
                                 as_dict=True):
            sales[row.name] = {**row, **{fieldname: [] for fieldname in SALE_TABLES}}
        for fieldname, child in tables.items():
            for row in frappe.db.sql(f"select * from `tab{child}` where parent in %s and parenttype = %s "  # noqa: S608
                                     "and parentfield = %s order by parent, idx", (tuple(chunk), doctype, fieldname),
                                     as_dict=True):
                sales[row.parent][fieldname].append(row)
    missing = [name for name in names if name not in sales]
    if missing:
        raise frappe.DoesNotExistError(f"{doctype} {missing[0]} not found")
    return {name: LoadedSale(**values, doctype=doctype) for name, values in sales.items()}


def sale_from_invoice(invoice, customer: str | None = None) -> Sale:
    """`customer`: the one a walk-in ticket asked its nominative CFDI for (the sale keeps its own)."""
    with remembered():
        return _sale(invoice, customer)


def _sale(invoice, customer: str | None) -> Sale:
    profile = profile_of(invoice.get("pos_profile"))
    receiver = receiver_for(customer, None) if customer else receiver_for(invoice.customer, profile)
    payments = tuple(payment_for(p) for p in invoice.get("payments") or [] if (p.amount or 0) > 0)
    owed = outstanding(invoice)
    zip_, series = place_of_issue(invoice, profile)
    if invoice.doctype == SALES_INVOICE and not invoice.is_return:  # a return settles as its credit note says
        if invoice.get("mx_cfdi_use") and not customer and not receiver.is_public:
            receiver = replace(receiver, cfdi_use=invoice.mx_cfdi_use)
        if payment_method(invoice) == "PUE":
            # Paid at issue, or by the end of the month (RMF 2.7.1.44-type facility): a form, not 99.
            payments = payments or (Payment(invoice.get("mx_payment_form") or "", charged(invoice)),)
            owed = Decimal(0)
        else:  # what was owed at issue, whatever has been paid since
            owed = max(owed, abs(charged(invoice)))
    return Sale(
        name=invoice.name,
        posting=posting_datetime(invoice.posting_date, invoice.posting_time),
        currency=invoice.currency,
        exchange_rate=dec(invoice.conversion_rate or 1),
        receiver=receiver,
        lines=tuple(line_for(item, invoice) for item in invoice.items),
        payments=payments,
        change_amount=dec(invoice.change_amount or 0),
        grand_total=charged(invoice),
        outstanding_amount=owed,
        expedition_zip=zip_,
        series=series,
        document=invoice.doctype if invoice.doctype in SALE_DOCTYPES else POS_INVOICE,
    )


def place_of_issue(invoice, profile) -> tuple[str, str]:
    """The zip and series the CFDI is issued from: the till's POS Profile, or, for a Sales Invoice made
    outside the POS, its company's row in E Invoice Setting."""
    if profile or invoice.doctype != SALES_INVOICE:
        return ((profile.get("mx_expedition_zip") or "") if profile else "",
                (profile.get("mx_series") or "") if profile else "")
    row = company_row(invoice.company)
    return ((row.expedition_zip or "").strip(), (row.series or "").strip()) if row else ("", "")


def payment_method(invoice) -> str:
    """A Sales Invoice's PUE or PPD: PPD (form 99) when something is left to pay after a due date later
    than the invoice date, PUE otherwise (Anexo 20, MetodoPago). Fixed at submit (`mx_payment_method`),
    so a later payment never turns a PPD CFDI into a PUE one on a retry."""
    if invoice.get("docstatus") == 1 and invoice.get("mx_payment_method") in ("PUE", "PPD"):
        return invoice.mx_payment_method
    later = invoice.get("due_date") and getdate(invoice.due_date) > getdate(invoice.posting_date)
    return "PPD" if later and outstanding(invoice) > 0 else "PUE"


def charged(invoice, base: bool = False) -> Decimal:
    """What the sale charges, as its CFDI states it: with tax-included prices, the shelf total (see
    cfdi/arithmetic.charged_total), else the grand total. `base`: in the company currency."""
    prefix = "base_" if base else ""
    inclusive = [t for t in invoice.taxes if t.included_in_print_rate]
    shelf = None
    if inclusive:
        exclusive = sum((dec(t.get(f"{prefix}tax_amount_after_discount_amount")) for t in invoice.taxes
                         if not t.included_in_print_rate), Decimal(0))
        shelf = dec(invoice.get(f"{prefix}total")) + exclusive - dec(invoice.get(f"{prefix}discount_amount"))
    paid = dec(invoice.get(f"{prefix}paid_amount")) - dec(invoice.get(f"{prefix}change_amount"))
    return charged_total(dec(invoice.get(f"{prefix}grand_total")), shelf, len(invoice.items), paid)


def charged_in_company_currency(names: list[str]) -> dict[str, Decimal]:
    """`charged(..., base=True)` of many sales in one query (the tickets of a global)."""
    if not names:
        return {}
    rows = frappe.db.sql("""
        select i.name, i.base_grand_total, i.base_total, i.base_discount_amount,
            i.base_paid_amount - ifnull(i.base_change_amount, 0) as paid,
            (select count(*) from `tabPOS Invoice Item` it where it.parent = i.name) as line_count,
            (select max(t.included_in_print_rate) from `tabSales Taxes and Charges` t
             where t.parent = i.name and t.parenttype = 'POS Invoice') as inclusive,
            (select ifnull(sum(t.base_tax_amount_after_discount_amount), 0) from `tabSales Taxes and Charges` t
             where t.parent = i.name and t.parenttype = 'POS Invoice' and t.included_in_print_rate = 0) as exclusive
        from `tabPOS Invoice` i where i.name in %s""", (tuple(names),), as_dict=True)
    return {r.name: charged_total(dec(r.base_grand_total),
                                  dec(r.base_total) + dec(r.exclusive) - dec(r.base_discount_amount)
                                  if r.inclusive else None, int(r.line_count or 0), dec(r.paid)) for r in rows}


def outstanding(invoice) -> Decimal:
    """What the customer still owes. A Sales Invoice's is ERPNext's own (advances included); ERPNext
    leaves a POS Invoice's unset, so it is worked out: the (rounded) total, less write-off, less what was
    paid net of change."""
    if invoice.doctype == SALES_INVOICE:
        return max(Decimal(0), dec(invoice.outstanding_amount or 0))
    total = dec(invoice.rounded_total or invoice.grand_total or 0)
    paid = dec(invoice.paid_amount or 0) - dec(invoice.change_amount or 0)
    return max(Decimal(0), total - dec(invoice.write_off_amount or 0) - paid)


def posting_datetime(posting_date, posting_time) -> datetime:
    naive = get_datetime(f"{posting_date} {posting_time or '00:00:00'}")
    return naive.replace(microsecond=0, tzinfo=ZoneInfo(get_system_timezone()))


def is_public(customer: str, profile=None) -> bool:
    """Walk-in: the POS Profile's default customer, a customer marked Público en General, or one whose
    RFC is the generic XAXX010101000 (its sales are público en general's, whatever else it says)."""
    if profile is not None and profile.get("customer") == customer:
        return True
    values = lookup("Customer", customer, ["mx_is_public", "tax_id"]) or {}
    return bool(values.get("mx_is_public")) or rfc.normalize(values.get("tax_id")) == catalogs.PUBLIC_RFC


def receiver_for(customer: str, profile=None) -> Receiver:
    if is_public(customer, profile):
        return PUBLIC_RECEIVER
    return receiver_from_customer(lookup("Customer", customer, "*"))


PUBLIC_RECEIVER = Receiver(catalogs.PUBLIC_NAME, catalogs.PUBLIC_RFC, "616", "", "S01", is_public=True)


def receiver_from_customer(doc) -> Receiver:
    """A receiver from a Customer document (saved or being saved). The generic RFCs decide by
    themselves (Anexo 20, Receptor): XAXX010101000 is público en general (616, S01, the place of
    issue's zip); XEXX010101000, like a fiscal residence abroad, is a foreign receiver (616, S01, its
    country and foreign tax id)."""
    email = doc.get("mx_cfdi_email") or _primary_email(doc)
    residence = (doc.get("mx_fiscal_residence") or "").strip().upper()
    tax_id = rfc.normalize(doc.tax_id)
    if tax_id == catalogs.PUBLIC_RFC:
        return PUBLIC_RECEIVER
    if (residence and residence != "MEX") or tax_id == catalogs.FOREIGN_RFC:
        return Receiver(doc.get("mx_legal_name") or doc.customer_name, catalogs.FOREIGN_RFC, "616", "", "S01",
                        email, country=residence if residence != "MEX" else "",
                        foreign_tax_id=doc.get("mx_foreign_tax_id") or None)
    return Receiver(
        legal_name=(doc.get("mx_legal_name") or doc.customer_name or "").strip(),
        tax_id=tax_id,
        tax_system=doc.get("mx_tax_regime") or "",
        zip=(doc.get("mx_fiscal_zip") or "").strip(),
        cfdi_use=doc.get("mx_cfdi_use") or "",
        email=email or None,
        ieps_breakdown=bool(doc.get("mx_ieps_breakdown")),
    )


def _primary_email(customer) -> str:
    if customer.get("email_id"):
        return customer.email_id
    if customer.get("customer_primary_contact"):
        return frappe.db.get_value("Contact", customer.customer_primary_contact, "email_id") or ""
    return ""


def product_key(item_code: str, item_group: str | None) -> str:
    """The item's own key, else the nearest Item Group's (cached: read at every sale's save)."""
    item = lookup("Item", item_code, ["mx_product_key", "item_group"]) or {}
    key, group = item.get("mx_product_key"), item_group or item.get("item_group")
    while not key and group:
        parent = lookup("Item Group", group, ["mx_product_key", "parent_item_group"]) or {}
        key, group = parent.get("mx_product_key"), parent.get("parent_item_group")
    return (key or "").strip()


def line_for(item, invoice) -> Line:
    net_amount = dec(item.net_amount)
    qty = dec(item.qty)
    # Unit price before the line's discount, net of taxes: the list price scaled like the net rate.
    rate, net_rate = dec(item.rate or 0), dec(item.net_rate or 0)
    list_price = dec(item.price_list_rate or 0) * (net_rate / rate if rate else Decimal(1))
    taxes = line_taxes(item, invoice)
    return Line(
        item_code=item.item_code,
        description=item.item_name or item.description or item.item_code,
        quantity=qty,
        unit_price=max(list_price, net_rate),
        net_amount=net_amount,
        product_key=product_key(item.item_code, item.item_group),
        unit_key=(lookup("UOM", item.uom, "mx_unit_key") or "").strip(),
        unit_name=item.uom or "",
        taxes=taxes,
        taxability="02" if taxes else "01",
    )


def line_taxes(item, invoice) -> tuple[Tax, ...]:
    """The item's taxes from the invoice's tax rows, typed by each tax account's SAT fields."""
    taxes = []
    for row in invoice.taxes:
        detail = json.loads(row.item_wise_tax_detail or "{}")
        key = item.item_code or item.item_name
        if key not in detail:
            continue
        rate = dec(detail[key][0] if isinstance(detail[key], list) else detail[key])
        account = lookup("Account", row.account_head, ["mx_tax_type", "mx_tax_factor", "mx_withholding"]) or {}
        if not account.get("mx_tax_type"):
            continue  # not a CFDI tax (validation names unmapped rows; see till.py)
        withholding = bool(account.get("mx_withholding")) or rate < 0
        taxes.append(Tax(account["mx_tax_type"], abs(rate) / 100, account.get("mx_tax_factor") or "Tasa",
                         withholding))
    return tuple(taxes)


def payment_for(row) -> Payment:
    form = lookup("Mode of Payment", row.mode_of_payment, "mx_payment_form") or ""
    return Payment(form, dec(row.amount), row.mode_of_payment)


def tickets_from_invoices(returns: dict[str, list[str]], names: list[str]) -> list[Ticket]:
    """Walk-in tickets for their global CFDI, in the company currency (MXN), each with the `returns`
    made against it before the global was issued netted into its lines and payments."""
    sales = load_sales([n for name in names for n in (name, *returns.get(name, []))])
    with remembered():  # the day's tickets share their items, units, tax accounts and payment modes
        return [_ticket([sales[n] for n in (name, *returns.get(name, []))]) for name in names]


def _ticket(docs: list[LoadedSale]) -> Ticket:
    lines: list[Line] = []
    payments: list[Payment] = []
    change = total = Decimal(0)
    for doc in docs:
        lines += [replace(line_for(item, doc), net_amount=dec(item.base_net_amount)) for item in doc.items]
        payments += [Payment(p.payment_form, dec(row.base_amount), p.mode) for row in doc.payments
                     for p in [payment_for(row)] if row.base_amount]
        change += dec(doc.base_change_amount or 0)
        total += charged(doc, base=True)
    return Ticket(docs[0].name, tuple(lines), tuple(payments), change, total)


def returns_in(cfdi) -> dict[str, list[str]]:
    """The returns netted into each ticket of a global CFDI row."""
    found: dict[str, list[str]] = defaultdict(list)
    for r in frappe.get_all("POS Invoice", fields=["name", "return_against"],
                            filters={"mx_cfdi": cfdi, "is_return": 1, "docstatus": 1}):
        found[r.return_against].append(r.name)
    return found

"""A small Mexican shop for the bench tier: company, taxes, items, payment modes, customers, a POS
Profile with an open POS Opening Entry. Idempotent, so every test class can call `shop()`."""

from __future__ import annotations

import frappe
from frappe.utils import flt, get_datetime, nowdate

COMPANY, ABBR = "ML Tienda MX", "MLMX"
PROFILE = "ML Caja 1"
PRICE_LIST = "ML Precios MXN"
NOMINATIVE, WALK_IN = "ML Escuela Kemper", "ML Mostrador"
IVA_ACCOUNT = f"IVA Trasladado 16% - {ABBR}"
IEPS_ACCOUNT = f"IEPS Trasladado 8% - {ABBR}"


def _ensure(doctype: str, name: str, values: dict) -> str:
    if not frappe.db.exists(doctype, name):
        frappe.get_doc({"doctype": doctype, **values}).insert(ignore_permissions=True)
    return name


def _leaf(doctype: str) -> str:
    return frappe.db.get_value(doctype, {"is_group": 0}, "name", order_by="creation asc")


def shop() -> frappe._dict:
    _ensure("Company", COMPANY, {"company_name": COMPANY, "abbr": ABBR, "default_currency": "MXN",
                                 "country": "Mexico", "tax_id": "EKU9003173C9", "chart_of_accounts": "Standard"})
    parent_tax = frappe.db.get_value("Account", {"company": COMPANY, "account_type": "Tax", "is_group": 1}) or \
        frappe.db.get_value("Account", {"company": COMPANY, "account_name": "Duties and Taxes"})
    _ensure("Account", IVA_ACCOUNT, {"account_name": "IVA Trasladado 16%", "company": COMPANY,
                                     "parent_account": parent_tax, "account_type": "Tax", "tax_rate": 16,
                                     "mx_tax_type": "IVA", "mx_tax_factor": "Tasa"})
    _ensure("Account", IEPS_ACCOUNT, {"account_name": "IEPS Trasladado 8%", "company": COMPANY,
                                      "parent_account": parent_tax, "account_type": "Tax", "tax_rate": 8,
                                      "mx_tax_type": "IEPS", "mx_tax_factor": "Tasa"})
    _ensure("Price List", PRICE_LIST, {"price_list_name": PRICE_LIST, "currency": "MXN", "selling": 1,
                                       "enabled": 1})
    if frappe.get_meta("UOM").has_field("mx_unit_key"):  # the benchmark's baseline site lacks the app
        frappe.db.set_value("UOM", "Nos", "mx_unit_key", "H87")
    _ensure("Item Group", "ML Abarrotes", {"item_group_name": "ML Abarrotes", "parent_item_group": "All Item Groups",
                                           "mx_product_key": "50201706"})
    for code, name, key in (("ML-CAFE", "Café de olla 250 g", ""), ("ML-PAN", "Pan dulce", "50181900")):
        _ensure("Item", code, {"item_code": code, "item_name": name, "item_group": "ML Abarrotes", "stock_uom": "Nos",
                               "is_stock_item": 0, "include_item_in_manufacturing": 0, "mx_product_key": key})
    cash = frappe.db.get_value("Account", {"company": COMPANY, "account_type": "Cash", "is_group": 0})
    for mode, kind, form in (("ML Efectivo", "Cash", "01"), ("ML Tarjeta de débito", "Bank", "28")):
        if not frappe.db.exists("Mode of Payment", mode):
            frappe.get_doc({"doctype": "Mode of Payment", "mode_of_payment": mode, "type": kind, "enabled": 1,
                            "mx_payment_form": form, "accounts": [{"company": COMPANY, "default_account": cash}]}
                           ).insert(ignore_permissions=True)
    group, territory = _leaf("Customer Group"), _leaf("Territory")
    _ensure("Customer", NOMINATIVE, {"customer_name": NOMINATIVE, "customer_group": group, "territory": territory,
                                     "tax_id": "EKU9003173C9", "mx_legal_name": "ESCUELA KEMPER URGATE",
                                     "mx_tax_regime": "601", "mx_cfdi_use": "G03", "mx_fiscal_zip": "26015",
                                     "mx_cfdi_email": "facturas@kemper.example"})
    _ensure("Customer", WALK_IN, {"customer_name": WALK_IN, "customer_group": group, "territory": territory})
    till(PROFILE)
    return frappe._dict(company=COMPANY, profile=PROFILE, nominative=NOMINATIVE, walk_in=WALK_IN)


def till(profile: str, expedition_zip: str = "06600") -> str:
    """A POS Profile of the shop with an open POS Opening Entry."""
    _ensure("POS Profile", profile, {
        "__newname": profile, "company": COMPANY, "currency": "MXN", "warehouse": f"Stores - {ABBR}",
        "write_off_account": f"Write Off - {ABBR}", "write_off_cost_center": f"Main - {ABBR}",
        "write_off_limit": 1, "cost_center": f"Main - {ABBR}", "selling_price_list": PRICE_LIST,
        "customer": WALK_IN, "income_account": f"Sales - {ABBR}", "mx_expedition_zip": expedition_zip,
        "mx_series": "C1",
        "payments": [{"mode_of_payment": "ML Efectivo", "default": 1}, {"mode_of_payment": "ML Tarjeta de débito"}],
    })
    if not frappe.db.exists("POS Opening Entry", {"pos_profile": profile, "status": "Open", "docstatus": 1}):
        entry = frappe.get_doc({"doctype": "POS Opening Entry", "pos_profile": profile, "company": COMPANY,
                                "user": frappe.session.user, "period_start_date": get_datetime(),
                                "posting_date": nowdate(),
                                "balance_details": [{"mode_of_payment": "ML Efectivo", "opening_amount": 0}]})
        entry.insert(ignore_permissions=True)
        entry.submit()
    return profile


def pos_invoice(customer: str, lines: list[tuple[str, float, float]], *, cash: float | None = None,
                card: float = 0, submit: bool = True, profile: str = PROFILE, included: bool = False,
                ieps: bool = False):
    """A POS Invoice as the till makes it: items (code, qty, rate), IVA 16 % (on price + IEPS 8 % with
    `ieps`; with `included`, shelf prices that include them), cash and card."""
    invoice = frappe.new_doc("POS Invoice")
    invoice.update({"company": COMPANY, "pos_profile": profile, "customer": customer, "is_pos": 1,
                    "currency": "MXN", "conversion_rate": 1, "selling_price_list": PRICE_LIST,
                    "plc_conversion_rate": 1, "debit_to": f"Debtors - {ABBR}",
                    "account_for_change_amount": frappe.db.get_value(
                        "Account", {"company": COMPANY, "account_type": "Cash", "is_group": 0})})
    invoice.set_missing_values()
    add_items(invoice, lines, ABBR, warehouse=f"Stores - {ABBR}")
    iva = {"charge_type": "On Net Total", "account_head": IVA_ACCOUNT, "rate": 16, "description": "IVA 16%",
           "cost_center": f"Main - {ABBR}", "included_in_print_rate": int(included)}
    if ieps:  # LIVA art. 12: IVA on the price plus IEPS
        iva.update(charge_type="On Previous Row Total", row_id=1)
    invoice.set("taxes", ([{"charge_type": "On Net Total", "account_head": IEPS_ACCOUNT, "rate": 8,
                            "description": "IEPS 8%", "cost_center": f"Main - {ABBR}",
                            "included_in_print_rate": int(included)}] if ieps else []) + [iva])
    invoice.calculate_taxes_and_totals()
    total = flt(invoice.rounded_total or invoice.grand_total)
    for row in invoice.payments:
        row.amount = 0
        if row.mode_of_payment == "ML Efectivo":
            row.amount = total - card if cash is None else cash
        if row.mode_of_payment == "ML Tarjeta de débito":
            row.amount = card
    invoice.insert(ignore_permissions=True)
    if submit:
        invoice.submit()
    return invoice


def pos_return(sale, qty: float):
    """A return of `qty` of each line of `sale`, refunded in cash, as the till makes it."""
    from erpnext.accounts.doctype.pos_invoice.pos_invoice import make_sales_return

    ret = make_sales_return(sale.name)
    for item in ret.items:
        item.qty = -qty
    ret.calculate_taxes_and_totals()
    for row in ret.payments:
        row.amount = 0
    ret.payments[0].amount = ret.paid_amount = ret.base_paid_amount = flt(ret.rounded_total or ret.grand_total)
    ret.insert(ignore_permissions=True)
    ret.submit()
    frappe.db.commit()
    return ret


def pay_sales_invoice(sales_invoice: str, amount: float):
    """A cash Payment Entry of `amount` against a (consolidated) Sales Invoice, submitted and committed."""
    from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

    payment = get_payment_entry("Sales Invoice", sales_invoice)
    payment.mode_of_payment = "ML Efectivo"
    payment.paid_amount = payment.received_amount = amount
    payment.references[0].allocated_amount = amount
    payment.reference_no, payment.reference_date = f"REF-{sales_invoice}", payment.posting_date
    payment.insert(ignore_permissions=True)
    payment.submit()
    frappe.db.commit()
    return payment


def sales_invoice(customer: str, lines: list[tuple[str, float, float]], *, due_days: int = 0,
                  payment_form: str | None = None, cfdi_use: str | None = None, company: str = COMPANY,
                  abbr: str = ABBR, iva_account: str = IVA_ACCOUNT, submit: bool = True):
    """A Sales Invoice made in the back office (not the POS): items (code, qty, rate) with IVA 16 %, due
    `due_days` after today (a later due date: PPD), with the SAT payment form of an invoice due today."""
    from frappe.utils import add_days

    invoice = frappe.new_doc("Sales Invoice")
    invoice.update({"company": company, "customer": customer, "currency": "MXN", "conversion_rate": 1,
                    "selling_price_list": PRICE_LIST, "plc_conversion_rate": 1, "debit_to": f"Debtors - {abbr}",
                    "posting_date": nowdate(), "set_posting_time": 1, "due_date": add_days(nowdate(), due_days),
                    "mx_payment_form": payment_form, "mx_cfdi_use": cfdi_use})
    add_items(invoice, lines, abbr)
    invoice.append("taxes", {"charge_type": "On Net Total", "account_head": iva_account, "rate": 16,
                             "description": "IVA 16%", "cost_center": f"Main - {abbr}"})
    invoice.insert(ignore_permissions=True)
    if submit:
        invoice.submit()
    return invoice


def add_items(invoice, lines: list[tuple[str, float, float]], abbr: str, warehouse: str | None = None) -> None:
    """Lines (item code, qty, rate) at the list price, booked to the company's sales account."""
    for code, qty, rate in lines:
        invoice.append("items", {"item_code": code, "qty": qty, "rate": rate, "price_list_rate": rate,
                                 "uom": "Nos", "conversion_factor": 1, "income_account": f"Sales - {abbr}",
                                 "cost_center": f"Main - {abbr}", **({"warehouse": warehouse} if warehouse else {})})


def sales_return(invoice, qty: float):
    """A credit note (return) of `qty` of each line of a Sales Invoice, submitted."""
    from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

    ret = make_sales_return(invoice.name)
    for item in ret.items:
        item.qty = -qty
    ret.insert(ignore_permissions=True)
    ret.submit()
    frappe.db.commit()
    return ret


SECOND_COMPANY, SECOND_ABBR, SECOND_RFC = "ML Norte MX", "MLNT", "AAA010101AAA"
SECOND_IVA = f"IVA Trasladado 16% - {SECOND_ABBR}"


def second_company() -> str:
    """Another legal entity of the group (another RFC, its own FacturaAPI organization)."""
    shop()
    _ensure("Company", SECOND_COMPANY, {"company_name": SECOND_COMPANY, "abbr": SECOND_ABBR,
                                        "default_currency": "MXN", "country": "Mexico", "tax_id": SECOND_RFC,
                                        "chart_of_accounts": "Standard"})
    parent_tax = frappe.db.get_value("Account", {"company": SECOND_COMPANY, "account_type": "Tax", "is_group": 1}) \
        or frappe.db.get_value("Account", {"company": SECOND_COMPANY, "account_name": "Duties and Taxes"})
    _ensure("Account", SECOND_IVA, {"account_name": "IVA Trasladado 16%", "company": SECOND_COMPANY,
                                    "parent_account": parent_tax, "account_type": "Tax", "tax_rate": 16,
                                    "mx_tax_type": "IVA", "mx_tax_factor": "Tasa"})
    return SECOND_COMPANY

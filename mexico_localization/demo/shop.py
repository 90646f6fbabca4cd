"""The demo's Mexican shop, made only on a site that has none: a company with the SAT's test RFC,
IVA 16 % included in shelf prices, items with SAT keys, payment modes with SAT forms, a nominative
and a walk-in customer, and a POS profile with its place of issue, series and an open shift.
Idempotent: what exists is left as it is."""

from __future__ import annotations

import frappe
from frappe.utils import get_datetime, now_datetime, nowdate

from mexico_localization.einvoice.settings import issuing_companies

COMPANY, ABBR = "Demo Tienda MX", "DTMX"
RFC = "EKU9003173C9"          # SAT's test RFC, FacturaAPI's test organization's
PROFILE = "Demo Caja 1"
PRICE_LIST = "Demo Precios MXN"
TAXES = "Demo IVA 16% incluido"
IVA_ACCOUNT = f"IVA Trasladado 16% - {ABBR}"
WALK_IN, NOMINATIVE = "Público en General", "Universidad Robótica Española"
CASH, CARD = "Demo Efectivo", "Demo Tarjeta de débito"
ITEMS = (  # code, name, SAT product key (c_ClaveProdServ), shelf price with IVA
    ("DEMO-CAFE", "Café de olla 250 g", "50201706", 89.90),
    ("DEMO-PAN", "Pan dulce", "50181900", 12.50),
    ("DEMO-REFRESCO", "Refresco 600 ml", "50202306", 19.90),
)


def mexican_company() -> str | None:
    """The site's own Mexican company, if it has one: the demo then makes no data at all."""
    configured = next(iter(issuing_companies()), None)
    if configured and frappe.db.exists("Company", configured):
        return configured
    return frappe.db.get_value("Company", {"country": "Mexico", "name": ["!=", COMPANY]}, "name",
                               order_by="creation asc")


def make_shop() -> str:
    """The demo company and everything a till needs to sell; returns the company."""
    _complete_setup()
    _ensure("Company", COMPANY, {"company_name": COMPANY, "abbr": ABBR, "default_currency": "MXN",
                                 "country": "Mexico", "tax_id": RFC, "chart_of_accounts": "Standard"})
    parent = frappe.db.get_value("Account", {"company": COMPANY, "account_type": "Tax", "is_group": 1}) \
        or frappe.db.get_value("Account", {"company": COMPANY, "account_name": "Duties and Taxes"})
    _ensure("Account", IVA_ACCOUNT, {"account_name": "IVA Trasladado 16%", "company": COMPANY, "parent_account": parent,
                                     "account_type": "Tax", "tax_rate": 16, "mx_tax_type": "IVA",
                                     "mx_tax_factor": "Tasa"})
    _ensure("Sales Taxes and Charges Template", f"{TAXES} - {ABBR}", {
        "title": TAXES, "company": COMPANY,
        "taxes": [{"charge_type": "On Net Total", "account_head": IVA_ACCOUNT, "rate": 16, "description": "IVA 16%",
                   "included_in_print_rate": 1, "cost_center": f"Main - {ABBR}"}]})
    _ensure("Price List", PRICE_LIST, {"price_list_name": PRICE_LIST, "currency": "MXN", "selling": 1, "enabled": 1})
    if not frappe.db.get_value("UOM", "Nos", "mx_unit_key"):
        frappe.db.set_value("UOM", "Nos", "mx_unit_key", "H87")  # Pieza
    _ensure("Item Group", "Demo Abarrotes", {"item_group_name": "Demo Abarrotes",
                                              "parent_item_group": "All Item Groups"})
    for code, name, key, price in ITEMS:
        _ensure("Item", code, {"item_code": code, "item_name": name, "item_group": "Demo Abarrotes", "stock_uom": "Nos",
                               "is_stock_item": 0, "include_item_in_manufacturing": 0, "mx_product_key": key})
        if not frappe.db.exists("Item Price", {"item_code": code, "price_list": PRICE_LIST}):
            frappe.get_doc({"doctype": "Item Price", "item_code": code, "price_list": PRICE_LIST,
                            "price_list_rate": price}).insert(ignore_permissions=True)
    cash = frappe.db.get_value("Account", {"company": COMPANY, "account_type": "Cash", "is_group": 0})
    for mode, kind, form in ((CASH, "Cash", "01"), (CARD, "Bank", "28")):
        _ensure("Mode of Payment", mode, {"mode_of_payment": mode, "type": kind, "enabled": 1, "mx_payment_form": form,
                                          "accounts": [{"company": COMPANY, "default_account": cash}]})
    group, territory = _leaf("Customer Group"), _leaf("Territory")
    _ensure("Customer", WALK_IN, {"customer_name": WALK_IN, "customer_group": group, "territory": territory,
                                  "mx_is_public": 1})
    _ensure("Customer", NOMINATIVE, {"customer_name": NOMINATIVE, "customer_group": group, "territory": territory,
                                     "customer_type": "Company", "tax_id": "URE180429TM6",
                                     "mx_legal_name": "UNIVERSIDAD ROBOTICA ESPAÑOLA", "mx_tax_regime": "601",
                                     "mx_cfdi_use": "G03", "mx_fiscal_zip": "86991",
                                     "mx_cfdi_email": "facturas@universidad.example"})
    _ensure("POS Profile", PROFILE, {
        "__newname": PROFILE, "company": COMPANY, "currency": "MXN", "warehouse": f"Stores - {ABBR}",
        "write_off_account": f"Write Off - {ABBR}", "write_off_cost_center": f"Main - {ABBR}", "write_off_limit": 1,
        "cost_center": f"Main - {ABBR}", "selling_price_list": PRICE_LIST, "customer": WALK_IN,
        "income_account": f"Sales - {ABBR}", "taxes_and_charges": f"{TAXES} - {ABBR}", "mx_expedition_zip": "06600",
        "mx_series": "DEMO", "payments": [{"mode_of_payment": CASH, "default": 1}, {"mode_of_payment": CARD}],
    })
    open_shift(frappe.session.user)
    return COMPANY


def open_shift(user: str) -> None:
    """The POS page asks for an open POS Opening Entry of its user."""
    if frappe.db.exists("POS Opening Entry", {"pos_profile": PROFILE, "user": user, "status": "Open",
                                              "docstatus": 1}):
        return
    entry = frappe.get_doc({"doctype": "POS Opening Entry", "pos_profile": PROFILE, "company": COMPANY, "user": user,
                            "period_start_date": get_datetime(), "posting_date": nowdate(),
                            "balance_details": [{"mode_of_payment": CASH, "opening_amount": 0}]})
    entry.insert(ignore_permissions=True)
    entry.submit()


def _complete_setup() -> None:
    """A site fresh from `new-site --install-app erpnext` has no company, fiscal year or defaults yet:
    ERPNext's setup wizard is completed for a Mexican shop, as a person would from the browser."""
    if frappe.db.get_single_value("System Settings", "setup_complete") or frappe.db.a_row_exists("Company"):
        return
    from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

    year = now_datetime().year
    # No e-mail and password: the wizard would make a user with them; it names the current one instead.
    setup_complete({"currency": "MXN", "full_name": "Administrator", "company_name": COMPANY,
                    "timezone": "America/Mexico_City", "company_abbr": ABBR, "industry": "Retail", "country": "Mexico",
                    "fy_start_date": f"{year}-01-01", "fy_end_date": f"{year}-12-31", "language": "English",
                    "company_tagline": "Demo", "chart_of_accounts": "Standard", "domains": ["Retail"]})
    frappe.db.set_value("Company", COMPANY, "tax_id", RFC)


def _ensure(doctype: str, name: str, values: dict) -> None:
    if not frappe.db.exists(doctype, name):
        frappe.get_doc({"doctype": doctype, **values}).insert(ignore_permissions=True)


def _leaf(doctype: str) -> str:
    return frappe.db.get_value(doctype, {"is_group": 0}, "name", order_by="creation asc")

"""The fiscal-data check a sale gets when it is saved, at the till (POS Invoice) or in the back office
(Sales Invoice): every problem named before the CFDI is attempted, blocking only the customer's own data
when E Invoice Setting says Block; and the guard on ERPNext's Cancel while a CFDI stands."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.problems import Problem, problem
from mexico_localization.cfdi.validation import receiver_problems, sale_problems
from mexico_localization.einvoice.gather import sale_from_invoice
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.settings import get_settings


def check_fiscal_data(invoice, block_title: str, warn_title: str) -> None:
    """Only the customer's own data can block: the customer can give it (or buy as público en general).
    Item, payment and set-up problems are the back office's, so they warn and the CFDI waits for the fix."""
    sale = sale_from_invoice(invoice)
    found = sale_problems(sale, invoice.customer) + unmapped_taxes(invoice)
    if not found:
        return
    customer_data = [p for p in receiver_problems(sale.receiver, invoice.customer) if p.blocking]
    block = bool(customer_data) and get_settings().incomplete_customer_action != "Warn"
    message = render(found)
    if block:
        frappe.throw(message, title=block_title)
    frappe.msgprint(message, title=warn_title, indicator="orange")


def unmapped_taxes(invoice) -> list[Problem]:
    """Tax rows the CFDI would leave out because their account has no SAT Tax."""
    return [problem("tax_unknown", blocking=False, account=row.account_head) for row in invoice.taxes
            if row.tax_amount and not frappe.get_cached_value("Account", row.account_head, "mx_tax_type")]


def render(problems: list[Problem]) -> str:
    items = "".join(f"<li>{frappe.utils.escape_html(translate(p))}</li>" for p in problems)
    return _("Fix these before the sale, or sell to Público en General:") + f"<ul>{items}</ul>"


def refuse_cancel(name: str, holding: list) -> None:
    if holding:
        frappe.throw(_("This sale has a CFDI ({0}, {1}). Cancel the CFDI first (Cancel CFDI), then the sale.").format(
            holding[0].name, _(holding[0].status)), title=_("CFDI exists"))

"""At the till: POS Invoice `validate` names every fiscal-data problem before payment.

Walk-in sales are never blocked. For a nominative customer, E Invoice Setting decides: Block (the
default: the customer is present and can give the data, or buy as público en general) or Warn.
"""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.problems import Problem, problem
from mexico_localization.cfdi.validation import receiver_problems, sale_problems
from mexico_localization.einvoice.gather import sale_from_invoice
from mexico_localization.einvoice.settings import get_settings


def applies(invoice) -> bool:
    settings = get_settings()
    return bool(settings.enable_e_invoice and settings.company == invoice.company and not invoice.is_return
                and not invoice.get("is_consolidated"))


def validate_pos_invoice(invoice, method: str | None = None) -> None:
    # The till checks when the sale is saved, before payment. Submitting a saved draft validates it
    # again; checking twice would only cost the cashier time.
    if invoice._action == "submit" and not invoice.flags.in_insert:
        return
    if not applies(invoice):
        return
    sale = sale_from_invoice(invoice)
    found = sale_problems(sale, invoice.customer) + unmapped_taxes(invoice)
    if not found:
        return
    # Only the customer's own data can block: the customer is here to give it. Item, payment and
    # profile set-up problems are the back office's, so they warn and the CFDI waits for the fix.
    customer_data = [p for p in receiver_problems(sale.receiver, invoice.customer) if p.blocking]
    block = bool(customer_data) and get_settings().incomplete_customer_action != "Warn"
    message = _render(found)
    if block:
        frappe.throw(message, title=_("The CFDI for this sale would be rejected"))
    frappe.msgprint(message, title=_("Check the fiscal data of this sale"), indicator="orange")


def unmapped_taxes(invoice) -> list[Problem]:
    """Tax rows the CFDI would leave out because their account has no SAT Tax."""
    return [problem("tax_unknown", blocking=False, account=row.account_head) for row in invoice.taxes
            if row.tax_amount and not frappe.get_cached_value("Account", row.account_head, "mx_tax_type")]


def _render(problems: list[Problem]) -> str:
    items = "".join(f"<li>{frappe.utils.escape_html(translate(p))}</li>" for p in problems)
    return _("Fix these before the sale, or sell to Público en General:") + f"<ul>{items}</ul>"


def translate(problem: Problem) -> str:
    return _(problem.template).format(**problem.params)

"""POS Invoice hooks. At the till (`validate`) every fiscal-data problem is named before payment;
on the cashier's submit the CFDI's row is written and its job queued for after the commit; ERPNext's
Cancel is refused while a CFDI is valid or on its way. Nothing here calls FacturaAPI or waits.

Walk-in sales are never blocked at the till. For a nominative customer, E Invoice Setting decides:
Block (the default: the customer is present and can give the data, or buy as público en general)
or Warn.
"""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.cfdi.ticket import new_ticket_code
from mexico_localization.einvoice.gather import is_public, outstanding, profile_of
from mexico_localization.einvoice.kinds.opening import open_sale_cfdi
from mexico_localization.einvoice.pipeline.fixes import fix_of
from mexico_localization.einvoice.pipeline.records import keep_mirror
from mexico_localization.einvoice.sale_checks import check_fiscal_data, refuse_cancel
from mexico_localization.einvoice.self_invoice.tickets import self_invoice_link
from mexico_localization.einvoice.settings import issues_for
from mexico_localization.einvoice.standing import HOLDS_ITS_TICKETS, cfdis_holding

APP_FIELDS = ("mx_ticket_code",)  # written by the app at submit, like the mirror


def validate(invoice, method: str | None = None) -> None:
    """The mirror fields stay the app's; then the till's check, when the sale is saved (submitting a
    saved draft validates it again, and checking twice would only cost the cashier time)."""
    keep_mirror(invoice, also=APP_FIELDS)
    if invoice._action == "submit" and not invoice.flags.in_insert:
        return
    if not applies(invoice):
        return
    check_fiscal_data(invoice, _("The CFDI for this sale would be rejected"), _("Check the fiscal data of this sale"))


def applies(invoice) -> bool:
    return bool(issues_for(invoice.company) and not invoice.is_return and not invoice.get("is_consolidated"))


def before_submit(invoice, method: str | None = None) -> None:
    """Writes the sale's CFDI row in this same transaction and queues its job for after the commit
    (a rolled-back submit queues nothing). A walk-in sale must be paid in full: what is still owed
    needs a PPD CFDI in a customer's name, which the global to público en general cannot be."""
    if applies(invoice) and is_public(invoice.customer, profile_of(invoice.pos_profile)) and outstanding(invoice) > 0:
        frappe.throw(_("A sale to Público en General must be paid in full at the till. For a partial payment or "
                       "layaway, choose the customer with their RFC: the CFDI of a sale paid later (PPD) is issued "
                       "in their name."), title=_("Walk-in sale not fully paid"))
    opened = open_sale_cfdi(invoice)
    if applies(invoice):
        invoice.mx_ticket_code = new_ticket_code()
    invoice.mx_cfdi_status = opened.state.value
    invoice.mx_cfdi_message = opened.reason
    if opened.cfdi:
        invoice.mx_cfdi = opened.cfdi


def before_update_after_submit(invoice, method: str | None = None) -> None:
    """A submitted sale saved again (by ERPNext's POS closing, a person, the REST API) keeps the
    mirror fields the app wrote."""
    keep_mirror(invoice, also=APP_FIELDS)


def before_cancel(invoice, method: str | None = None) -> None:
    """ERPNext's Cancel is refused while a CFDI of the sale is valid or on its way, or a global CFDI
    not yet cancelled holds it as a ticket (read from the CFDI rows, not from the sale's fields). A
    cancel carries no validate: the mirror fields it sends are replaced here too."""
    keep_mirror(invoice, also=APP_FIELDS)
    holding = cfdis_holding(invoice.name)
    if invoice.is_return:  # a return netted into a global is part of that global's amounts
        netted = frappe.db.get_value("POS Invoice", invoice.name, "mx_cfdi")
        row = frappe.db.get_value("CFDI", netted, ["name", "status", "is_global"], as_dict=True) if netted else None
        if row and row.is_global and CfdiState(row.status) in HOLDS_ITS_TICKETS:
            holding.append(row)
    refuse_cancel(invoice.name, holding)


def onload(invoice, method: str | None = None) -> None:
    """Tells the form whether the sale is in (or waiting for) a global CFDI: it offers the nominative CFDI,
    and shows the buyer's self-invoicing link; and whether its CFDI is a test stamp."""
    in_global = invoice.get("mx_cfdi_status") == CfdiState.AWAITING_GLOBAL.value or bool(
        invoice.get("mx_cfdi") and frappe.db.get_value("CFDI", invoice.mx_cfdi, "is_global"))
    invoice.set_onload("mx_in_global", in_global and not invoice.is_return)
    invoice.set_onload("mx_fix", fix_of(invoice.get("mx_cfdi")))  # the record to open for a refused CFDI
    # Read here, not by the form: a cashier sees the sale, not its CFDI record, and must see the badge.
    invoice.set_onload("mx_test_stamp", bool(invoice.get("mx_cfdi") and invoice.get("mx_cfdi_uuid")
                                              and not frappe.db.get_value("CFDI", invoice.mx_cfdi, "livemode")))
    if in_global and not invoice.is_return:
        # The buyer's link, for the cashier to read out or send (no QR drawn for a form).
        invoice.set_onload("mx_self_invoice", self_invoice_link(invoice))

"""Sales Invoice hooks: B2B and credit sales made outside the POS. On save, what the CFDI will say
(PUE or PPD) is shown and the fiscal data checked as at the till (Block or Warn, E Invoice Setting);
on submit the CFDI's row is written and its job queued for after the commit; ERPNext's Cancel is
refused while a CFDI stands. The Sales Invoice that POS closing consolidates (`is_consolidated`) is
never stamped: its sales were. Nothing here calls FacturaAPI or waits.
"""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.einvoice.gather import is_public, payment_method
from mexico_localization.einvoice.kinds.opening import open_sale_cfdi, walk_in_sales_invoice
from mexico_localization.einvoice.pipeline.fixes import fix_of
from mexico_localization.einvoice.pipeline.records import keep_mirror
from mexico_localization.einvoice.sale_checks import check_fiscal_data, refuse_cancel
from mexico_localization.einvoice.settings import issues_for
from mexico_localization.einvoice.standing import cfdis_holding

APP_FIELDS = ("mx_payment_method",)  # fixed by the app at submit, like the mirror


def applies(invoice) -> bool:
    return bool(issues_for(invoice.company) and not invoice.get("is_consolidated"))


def validate(invoice, method: str | None = None) -> None:
    """The mirror stays the app's; a draft shows the payment method its CFDI would state, and its
    fiscal data is checked when it is saved (not again on submit)."""
    keep_mirror(invoice, also=APP_FIELDS)
    if not applies(invoice):
        return
    invoice.mx_payment_method = None if invoice.is_return else payment_method(invoice)
    if invoice.is_return or (invoice._action == "submit" and not invoice.flags.in_insert):
        return
    if is_public(invoice.customer):
        frappe.msgprint(walk_in_sales_invoice(), title=_("No CFDI for this invoice"), indicator="orange")
        return
    check_fiscal_data(invoice, _("The CFDI for this invoice would be rejected"),
                      _("Check the fiscal data of this invoice"))


def before_submit(invoice, method: str | None = None) -> None:
    """Writes the invoice's CFDI row in this same transaction (its job is queued after the commit) and
    fixes the payment method it states."""
    if invoice.get("is_consolidated"):
        return
    if applies(invoice) and not invoice.is_return:
        invoice.mx_payment_method = payment_method(invoice)
    opened = open_sale_cfdi(invoice)
    invoice.mx_cfdi_status = opened.state.value
    invoice.mx_cfdi_message = opened.reason
    if opened.cfdi:
        invoice.mx_cfdi = opened.cfdi


def before_update_after_submit(invoice, method: str | None = None) -> None:
    """The CFDI use and payment form stay editable to fix a Failed CFDI: checked as on save."""
    keep_mirror(invoice, also=APP_FIELDS)
    if applies(invoice) and not invoice.is_return and not is_public(invoice.customer):
        check_fiscal_data(invoice, _("The CFDI for this invoice would be rejected"),
                          _("Check the fiscal data of this invoice"))


def before_cancel(invoice, method: str | None = None) -> None:
    """ERPNext's Cancel is refused while a CFDI of the invoice is valid or on its way (read from the
    CFDI rows, not from the invoice's fields)."""
    keep_mirror(invoice, also=APP_FIELDS)
    refuse_cancel(invoice.name, cfdis_holding(invoice.name, invoice.doctype))


def onload(invoice, method: str | None = None) -> None:
    """Whether its CFDI is a test stamp (the badge a person must see), and the record to open to fix a
    refused one."""
    invoice.set_onload("mx_fix", fix_of(invoice.get("mx_cfdi")))
    invoice.set_onload("mx_test_stamp", bool(invoice.get("mx_cfdi") and invoice.get("mx_cfdi_uuid")
                                              and not frappe.db.get_value("CFDI", invoice.mx_cfdi, "livemode")))

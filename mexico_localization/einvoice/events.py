"""POS Invoice hooks: on the cashier's submit they only decide the CFDI's state and queue the job.

Nothing here calls FacturaAPI or waits: the job runs after the transaction commits.
"""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState
from mexico_localization.einvoice.gather import is_public, profile_of
from mexico_localization.einvoice.global_invoices import each_ticket_global, periodicity
from mexico_localization.einvoice.returns import credit_note_row, return_state
from mexico_localization.einvoice.settings import get_settings
from mexico_localization.einvoice.stamping import enqueue_stamp, sale_cfdi_row

S = CfdiState


def initial_state(invoice) -> tuple[CfdiState, str]:
    """The CFDI state a POS Invoice starts in, with the reason when no CFDI is due."""
    settings = get_settings()
    if not settings.enable_e_invoice:
        return S.NOT_APPLICABLE, _("E Invoice was disabled when this sale was submitted.")
    if invoice.company != settings.company:
        return S.NOT_APPLICABLE, _("The sale belongs to {0}; CFDIs are issued for {1} only.").format(
            invoice.company, settings.company)
    if invoice.is_return:
        return return_state(invoice)
    profile = profile_of(invoice.pos_profile)
    if is_public(invoice.customer, profile):
        if periodicity(settings) is None:
            invoice.flags.mx_own_global = True
            return S.QUEUED, _("A walk-in sale: stamped at once as its own global CFDI.")
        return S.AWAITING_GLOBAL, _("A walk-in sale: it goes into the period's global CFDI.")
    return S.QUEUED, ""


def before_submit(invoice, method: str | None = None) -> None:
    """Decides the CFDI state; when one is due, writes its CFDI row in this same transaction and
    queues the job for after the commit (a rolled-back submit queues nothing)."""
    state, reason = initial_state(invoice)
    invoice.mx_cfdi_status = state.value
    invoice.mx_cfdi_message = reason
    if invoice.is_return and state in (S.QUEUED, S.AWAITING_ORIGINAL):
        invoice.mx_cfdi = credit_note_row(invoice, state)
        return
    if state is not S.QUEUED:
        return
    if invoice.flags.mx_own_global:  # "Each ticket"
        profile = profile_of(invoice.pos_profile)
        each_ticket_global(invoice, (profile.get("mx_expedition_zip") if profile else "") or "",
                           get_settings().global_series or "")
        return
    invoice.mx_cfdi = sale_cfdi_row(invoice)
    enqueue_stamp(invoice.mx_cfdi)



def before_cancel(invoice, method: str | None = None) -> None:
    """ERPNext's Cancel is refused while a valid CFDI exists or one is on its way."""
    status = invoice.get("mx_cfdi_status")
    if status and CfdiState(status) in VALID_AT_SAT | IN_FLIGHT:
        frappe.throw(_("This sale has a CFDI ({0}). Cancel the CFDI first (Cancel CFDI), then the sale.").format(
            _(status)), title=_("CFDI exists"))


def onload(invoice, method: str | None = None) -> None:
    """Tells the form whether the sale is in (or waiting for) a global CFDI: it offers the nominative CFDI."""
    in_global = invoice.get("mx_cfdi_status") == S.AWAITING_GLOBAL.value or bool(
        invoice.get("mx_cfdi") and frappe.db.get_value("CFDI", invoice.mx_cfdi, "is_global"))
    invoice.set_onload("mx_in_global", in_global and not invoice.is_return)

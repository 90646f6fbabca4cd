"""Which CFDI a submitted sale (POS Invoice or Sales Invoice) starts: its own ingreso, a credit note,
a place in the period's global, its own one-ticket global, or none (with the reason). Used at submit and by bulk
re-generation, which stamps inline instead of queueing."""

from __future__ import annotations

from dataclasses import dataclass

from frappe import _

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.gather import SALES_INVOICE, is_public, profile_of
from mexico_localization.einvoice.kinds.credit_note import credit_note_row, return_state
from mexico_localization.einvoice.kinds.global_invoice import each_ticket_global, periodicity
from mexico_localization.einvoice.kinds.sale import sale_row
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE
from mexico_localization.einvoice.settings import get_settings, issues_for, not_issuing_reason


@dataclass(frozen=True)
class Opened:
    state: CfdiState
    reason: str = ""
    cfdi: str | None = None   # the row written, if any


def walk_in_sales_invoice() -> str:
    """Why a Sales Invoice to Público en General gets no CFDI: walk-in sales are declared in the periodic
    global CFDI, whose tickets are the POS's."""
    return _("A Sales Invoice to Público en General gets no CFDI of its own: sell through the POS (its global "
             "CFDI), or invoice the customer with their RFC.")


def open_sale_cfdi(invoice, queue: str | None = LIVE_QUEUE) -> Opened:
    """Decides the sale's CFDI and writes its row in the caller's transaction; a Queued row's job is
    queued on `queue` after the commit (None: the caller stamps it inline)."""
    settings = get_settings()
    if invoice.get("is_consolidated"):  # POS closing's Sales Invoice: each of its sales has its own CFDI
        return Opened(CfdiState.NOT_APPLICABLE, _("POS closing consolidated these sales; each was stamped as "
                                                  "it was sold."))
    if not issues_for(invoice.company, settings):
        return Opened(CfdiState.NOT_APPLICABLE, not_issuing_reason(invoice.company, settings))
    if invoice.is_return:
        state, reason = return_state(invoice)
        if state in (CfdiState.QUEUED, CfdiState.AWAITING_ORIGINAL):
            return Opened(state, reason, credit_note_row(invoice, state, queue=queue))
        return Opened(state, reason)
    profile = profile_of(invoice.get("pos_profile"))
    if invoice.doctype == SALES_INVOICE and is_public(invoice.customer, profile):
        return Opened(CfdiState.NOT_APPLICABLE, walk_in_sales_invoice())
    if is_public(invoice.customer, profile):
        if periodicity(settings) is not None:
            return Opened(CfdiState.AWAITING_GLOBAL, _("A walk-in sale: it goes into the period's global CFDI."))
        zip_ = (profile.get("mx_expedition_zip") if profile else "") or ""
        return Opened(CfdiState.QUEUED, _("A walk-in sale: stamped at once as its own global CFDI."),
                      each_ticket_global(invoice, zip_, settings.global_series or "", queue=queue))
    return Opened(CfdiState.QUEUED, "", sale_row(invoice, queue=queue))

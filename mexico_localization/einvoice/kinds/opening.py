"""Which CFDI a submitted POS sale starts: its own ingreso, a credit note, a place in the period's
global, its own one-ticket global, or none (with the reason). Used at submit and by bulk
re-generation, which stamps inline instead of queueing."""

from __future__ import annotations

from dataclasses import dataclass

from frappe import _

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.gather import is_public, profile_of
from mexico_localization.einvoice.kinds.credit_note import credit_note_row, return_state
from mexico_localization.einvoice.kinds.global_invoice import each_ticket_global, periodicity
from mexico_localization.einvoice.kinds.sale import sale_row
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE
from mexico_localization.einvoice.settings import get_settings


@dataclass(frozen=True)
class Opened:
    state: CfdiState
    reason: str = ""
    cfdi: str | None = None   # the row written, if any


def open_sale_cfdi(invoice, queue: str | None = LIVE_QUEUE) -> Opened:
    """Decides the sale's CFDI and writes its row in the caller's transaction; a Queued row's job is
    queued on `queue` after the commit (None: the caller stamps it inline)."""
    settings = get_settings()
    if not settings.enable_e_invoice:
        return Opened(CfdiState.NOT_APPLICABLE, _("E Invoice was disabled when this sale was submitted."))
    if invoice.company != settings.company:
        return Opened(CfdiState.NOT_APPLICABLE, _("The sale belongs to {0}; CFDIs are issued for {1} only.").format(
            invoice.company, settings.company))
    if invoice.is_return:
        state, reason = return_state(invoice)
        if state in (CfdiState.QUEUED, CfdiState.AWAITING_ORIGINAL):
            return Opened(state, reason, credit_note_row(invoice, state, queue=queue))
        return Opened(state, reason)
    profile = profile_of(invoice.pos_profile)
    if is_public(invoice.customer, profile):
        if periodicity(settings) is not None:
            return Opened(CfdiState.AWAITING_GLOBAL, _("A walk-in sale: it goes into the period's global CFDI."))
        zip_ = (profile.get("mx_expedition_zip") if profile else "") or ""
        return Opened(CfdiState.QUEUED, _("A walk-in sale: stamped at once as its own global CFDI."),
                      each_ticket_global(invoice, zip_, settings.global_series or "", queue=queue))
    return Opened(CfdiState.QUEUED, "", sale_row(invoice, queue=queue))

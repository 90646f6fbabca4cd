"""A return's CFDI (a POS return, or a Sales Invoice's credit note): a CFDI de egreso related to the
CFDI of the sale it returns.

A return of a walk-in ticket still waiting for its global is netted into the global instead
(kinds/global_invoice.py). Otherwise the return gets its own row at submit: Queued when the sale's
CFDI is stamped, Awaiting Original while it is not (queued the moment it is), Not Applicable when
the sale has no CFDI to relate to.
"""

from __future__ import annotations

from datetime import datetime, timezone

import frappe
from frappe import _
from frappe.utils import getdate

from mexico_localization.cfdi.credit_note import build_credit_note
from mexico_localization.cfdi.global_cfdi import DAY, period_of
from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.cfdi.moves import RELEASE_RETURN
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.gather import SALE_DOCTYPES, charged, load_sale, sale_from_invoice
from mexico_localization.einvoice.kinds.global_invoice import periodicity
from mexico_localization.einvoice.kinds.payment_complement import balance_due
from mexico_localization.einvoice.pipeline.records import mirror_state
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE, enqueue_stamp, new_row, transition

NOTHING_TO_RELATE = (CfdiState.NOT_APPLICABLE.value, CfdiState.CANCELLED.value)


def return_state(invoice) -> tuple[CfdiState, str]:
    """Where a return's CFDI starts, from the state of the CFDI of the sale it returns."""
    original = frappe.db.get_value(invoice.doctype, invoice.return_against, ["mx_cfdi_status", "mx_cfdi",
                                                                             "posting_date"],
                                   as_dict=True) if invoice.return_against else None
    if not original:
        return CfdiState.NOT_APPLICABLE, _("A return without its original sale has no CFDI to relate to.")
    if original.mx_cfdi_status == CfdiState.AWAITING_GLOBAL.value and not original.mx_cfdi:
        if same_period(original.posting_date, invoice.posting_date):
            return CfdiState.AWAITING_GLOBAL, _("A return of walk-in sale {0}: netted into its concept in the "
                                                "period's global CFDI.").format(invoice.return_against)
        # A global declares its period's operations: a return made later is its own egreso, related to
        # the global once that is stamped (RMF 2.7.1.21; Guía de llenado del CFDI global).
        return CfdiState.AWAITING_ORIGINAL, _("A return of walk-in sale {0} made after its period closed: a credit "
                                              "note related to that period's global CFDI once it is stamped.").format(
            invoice.return_against)
    status = frappe.db.get_value("CFDI", original.mx_cfdi, "status") if original.mx_cfdi else None
    if not status or status in NOTHING_TO_RELATE:
        return CfdiState.NOT_APPLICABLE, _("The sale {0} has no valid CFDI to relate a credit note to.").format(
            invoice.return_against)
    if status == CfdiState.STAMPED.value:
        return CfdiState.QUEUED, ""
    return CfdiState.AWAITING_ORIGINAL, _("The credit note waits for the CFDI of the sale {0} ({1}).").format(
        invoice.return_against, _(status))


def same_period(sold_on, returned_on) -> bool:
    """Whether a return falls in its walk-in sale's global period (daily when tickets are stamped one
    by one: a late ticket goes into a daily global)."""
    word = periodicity() or DAY
    return period_of(getdate(sold_on), word) == period_of(getdate(returned_on), word)


def credit_note_row(invoice, state: CfdiState, queue: str | None = LIVE_QUEUE) -> str:
    """The return's row, related to its sale's UUID when that is stamped (queued at once)."""
    original_cfdi = frappe.db.get_value(invoice.doctype, invoice.return_against, "mx_cfdi")
    uuid = frappe.db.get_value("CFDI", original_cfdi, "uuid") if state is CfdiState.QUEUED else None
    return new_row({"reference_doctype": invoice.doctype, "reference_name": invoice.name, "cfdi_type": "E",
                    "company": invoice.company, "status": state.value, "total": abs(charged(invoice)),
                    "currency": invoice.currency, "original_invoice": invoice.return_against,
                    "related_uuids": uuid}, external_subject=invoice.name, queue=queue)


def convert_to_credit_note(name: str) -> None:
    """A return that was waiting to be netted into a global whose sale left that road (it went into
    a global already, or got a nominative CFDI): it becomes a credit note of its own."""
    invoice = frappe.get_doc("POS Invoice", name)
    state, reason = return_state(invoice)
    if state is CfdiState.AWAITING_GLOBAL:
        return
    row = credit_note_row(invoice, state) if state in (CfdiState.QUEUED, CfdiState.AWAITING_ORIGINAL) else None
    mirror_state("POS Invoice", name, state, reason, cfdi=row)


def release_waiting_returns(cfdi) -> list[str]:
    """`cfdi` was just stamped: the credit notes waiting for it are related to its UUID and queued."""
    released = []
    waiting = [row for doctype in SALE_DOCTYPES for row in frappe.db.sql(f"""
            select c.name, c.reference_doctype, c.reference_name from `tabCFDI` c
            join `tab{doctype}` p on p.name = c.original_invoice and p.mx_cfdi = %s and p.is_return = 0
            where c.status = %s and c.cfdi_type = 'E' and c.reference_doctype = %s""",  # noqa: S608 (fixed names)
                                                                     (cfdi.name, CfdiState.AWAITING_ORIGINAL.value,
                                                                      doctype), as_dict=True)]
    for row in waiting:
        if transition(row.name, RELEASE_RETURN, CfdiState.QUEUED, {"related_uuids": cfdi.uuid}):
            mirror_state(row.reference_doctype, row.reference_name, CfdiState.QUEUED)
            enqueue_stamp(row.name)
            released.append(row.name)
    return released


def build(row) -> BuiltInvoice:
    invoice = load_sale(row.reference_name, row.reference_doctype)
    original = load_sale(row.original_invoice, row.reference_doctype)
    customer = frappe.db.get_value("CFDI", original.mx_cfdi, "receiver_customer") if original.mx_cfdi else None
    refund = sale_from_invoice(original).payments
    return build_credit_note(sale_from_invoice(invoice, customer), row.related_uuids, datetime.now(timezone.utc),
                             refund, balance_due(original.name, but=row.name))

"""A POS return's CFDI: a credit note (CFDI de egreso) related to the CFDI of the sale it returns.

A return of a walk-in ticket still waiting for its global is netted into the global instead
(global_invoices.py). Otherwise the return gets its own CFDI row at submit: Queued when the sale's
CFDI is stamped, Awaiting Original while it is not (queued the moment it is), Not Applicable when
the sale has no CFDI to relate to.
"""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.stamping import enqueue_stamp, external_id

S = CfdiState
NOTHING_TO_RELATE = (S.NOT_APPLICABLE.value, S.CANCELLED.value)


def return_state(invoice) -> tuple[CfdiState, str]:
    original = frappe.db.get_value("POS Invoice", invoice.return_against, ["mx_cfdi_status", "mx_cfdi"],
                                   as_dict=True) if invoice.return_against else None
    if not original:
        return S.NOT_APPLICABLE, _("A return without its original sale has no CFDI to relate to.")
    if original.mx_cfdi_status == S.AWAITING_GLOBAL.value and not original.mx_cfdi:
        return S.AWAITING_GLOBAL, _("A return of walk-in sale {0}: netted into its concept in the period's global "
                                    "CFDI.").format(invoice.return_against)
    status = frappe.db.get_value("CFDI", original.mx_cfdi, "status") if original.mx_cfdi else None
    if not status or status in NOTHING_TO_RELATE:
        return S.NOT_APPLICABLE, _("The sale {0} has no valid CFDI to relate a credit note to.").format(
            invoice.return_against)
    if status == S.STAMPED.value:
        return S.QUEUED, ""
    return S.AWAITING_ORIGINAL, _("The credit note waits for the CFDI of the sale {0} ({1}).").format(
        invoice.return_against, _(status))


def credit_note_row(invoice, state: CfdiState) -> str:
    """The return's CFDI row; queued at once when its sale's CFDI is stamped."""
    original_cfdi = frappe.db.get_value("POS Invoice", invoice.return_against, "mx_cfdi")
    uuid = frappe.db.get_value("CFDI", original_cfdi, "uuid") if state is S.QUEUED else None
    cfdi = frappe.new_doc("CFDI")
    cfdi.update({
        "reference_doctype": invoice.doctype, "reference_name": invoice.name, "cfdi_type": "E",
        "company": invoice.company, "status": state.value, "total": abs(invoice.grand_total),
        "currency": invoice.currency, "generation": 1, "external_id": external_id(invoice.name),
        "original_invoice": invoice.return_against, "related_uuids": uuid,
    })
    cfdi.insert(ignore_permissions=True, ignore_links=True)  # the return may not be in its table yet
    if state is S.QUEUED:
        enqueue_stamp(cfdi.name)
    return cfdi.name


def convert_to_credit_note(name: str) -> None:
    """A return that was waiting to be netted into a global whose sale left that road (it went into
    a global already, or got a nominative CFDI): it becomes a credit note of its own."""
    invoice = frappe.get_doc("POS Invoice", name)
    state, reason = return_state(invoice)
    if state is S.AWAITING_GLOBAL:
        return
    values = {"mx_cfdi_status": state.value, "mx_cfdi_message": reason, "mx_cfdi": None}
    if state in (S.QUEUED, S.AWAITING_ORIGINAL):
        values["mx_cfdi"] = credit_note_row(invoice, state)
    frappe.db.set_value("POS Invoice", name, values, update_modified=False)


def release_waiting_returns(cfdi) -> None:
    """`cfdi` was just stamped: the credit notes waiting for it are related to its UUID and queued."""
    sales = frappe.get_all("POS Invoice", pluck="name", filters={"mx_cfdi": cfdi.name, "is_return": 0})
    if not sales:
        return
    for row in frappe.get_all("CFDI", pluck="name", filters={
            "status": S.AWAITING_ORIGINAL.value, "cfdi_type": "E", "original_invoice": ["in", sales]}):
        frappe.db.set_value("CFDI", row, {"status": S.QUEUED.value, "related_uuids": cfdi.uuid},
                            update_modified=False)
        frappe.db.set_value("POS Invoice", {"mx_cfdi": row}, {"mx_cfdi_status": S.QUEUED.value,
                                                              "mx_cfdi_message": ""}, update_modified=False)
        enqueue_stamp(row)

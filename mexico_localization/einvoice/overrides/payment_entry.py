"""Payment Entry hooks: a payment against a consolidated Sales Invoice gets its payment complement
(kinds/payment_complement.py), and cancelling the payment cancels that complement at SAT."""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.cfdi.states import IN_FLIGHT, CfdiState
from mexico_localization.einvoice.kinds.payment_complement import payment_row
from mexico_localization.einvoice.pipeline.cancellation import request_cancellation
from mexico_localization.einvoice.pipeline.records import keep_mirror
from mexico_localization.einvoice.settings import issues_for

COMPLEMENT_CANCEL_MOTIVE = "03"  # the payment did not take place
NOTHING_TO_CANCEL = (CfdiState.FAILED.value, CfdiState.NOT_APPLICABLE.value, CfdiState.CANCELLED.value)


def validate(payment, method: str | None = None) -> None:
    """The mirror fields of the payment's complement are the app's alone."""
    keep_mirror(payment)


def before_update_after_submit(payment, method: str | None = None) -> None:
    keep_mirror(payment)


def on_submit(payment, method: str | None = None) -> None:
    """One complement for the deferred sales the payment's references pay; its job runs after the commit."""
    if payment.payment_type != "Receive" or not issues_for(payment.company):
        return
    cfdi = payment_row(payment)
    if cfdi:
        payment.db_set({"mx_cfdi": cfdi, "mx_cfdi_status": CfdiState.QUEUED.value}, update_modified=False)


def before_cancel(payment, method: str | None = None) -> None:
    """Cancelling a Payment Entry cancels its complement at SAT (through Cancel CFDI, so gated)."""
    keep_mirror(payment)
    row = frappe.db.get_value("CFDI", {"reference_doctype": payment.doctype, "reference_name": payment.name,
                                       "cfdi_type": "P"}, ["name", "status"], as_dict=True)
    if not row or row.status in NOTHING_TO_CANCEL:
        return
    if CfdiState(row.status) in IN_FLIGHT:
        frappe.throw(_("The payment complement {0} is being stamped; cancel the payment once it is stamped.").format(
            row.name), title=_("CFDI in progress"))
    request_cancellation(row.name, COMPLEMENT_CANCEL_MOTIVE)

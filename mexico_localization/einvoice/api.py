"""Whitelisted entry points. Each checks roles itself (frappe.only_for is a no-op under tests)."""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.cfdi.validation import blocking, receiver_problems
from mexico_localization.einvoice import global_invoices
from mexico_localization.einvoice import ping as ping_service
from mexico_localization.einvoice.gather import is_public, receiver_from_customer
from mexico_localization.einvoice.roles import require_manager
from mexico_localization.einvoice.stamping import enqueue_stamp
from mexico_localization.einvoice.till import translate


@frappe.whitelist(methods=["POST"])
def ping_server() -> dict[str, Any]:
    """Checks URL and key at FacturaAPI (no side effects there) and records the call."""
    require_manager()
    return ping_service.run_ping()


@frappe.whitelist(methods=["POST"])
def retry_cfdi(invoice: str) -> dict[str, Any]:
    """Queues a Failed CFDI again after a person fixed what its message said."""
    require_manager()
    name = frappe.db.get_value("POS Invoice", invoice, "mx_cfdi")
    status = frappe.db.get_value("CFDI", name, "status") if name else None
    if status != CfdiState.FAILED.value:
        frappe.throw(_("Only a Failed CFDI can be retried; this one is {0}.").format(_(status or "missing")))
    frappe.db.set_value("CFDI", name, {"status": CfdiState.QUEUED.value, "attempt_count": 0,
                                       "next_attempt_at": None, "last_error": "", "last_error_code": ""})
    frappe.db.set_value("POS Invoice", invoice, {"mx_cfdi_status": CfdiState.QUEUED.value, "mx_cfdi_message": ""},
                        update_modified=False)
    enqueue_stamp(name, attempt=f"retry-{frappe.generate_hash(length=8)}")
    return {"cfdi": name, "status": CfdiState.QUEUED.value}


@frappe.whitelist(methods=["POST"])
def request_nominative(invoice: str, customer: str) -> dict[str, Any]:
    """A walk-in ticket's customer asks for a CFDI in their own name: it leaves the global CFDI."""
    require_manager()
    doc = frappe.get_doc("POS Invoice", invoice)
    if doc.docstatus != 1 or doc.is_return:
        frappe.throw(_("Only a submitted sale (not a return) can get a nominative CFDI."))
    customer_doc = frappe.get_doc("Customer", customer)
    if is_public(customer_doc.name):
        frappe.throw(_("{0} is a walk-in customer (Público en General): choose or create the customer with their "
                       "RFC and fiscal data.").format(customer_doc.name), title=_("Customer needed"))
    problems = blocking(receiver_problems(receiver_from_customer(customer_doc), customer_doc.name))
    if problems:
        frappe.throw("<br>".join(translate(p) for p in problems), title=_("Complete the customer's fiscal data"))
    name = global_invoices.request_nominative(doc, customer_doc.name)
    return {"cfdi": name, "status": CfdiState.QUEUED.value}

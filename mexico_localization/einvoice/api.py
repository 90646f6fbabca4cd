"""Whitelisted entry points. Each checks roles itself (frappe.only_for is a no-op under tests)."""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice import ping as ping_service
from mexico_localization.einvoice.roles import require_manager
from mexico_localization.einvoice.stamping import enqueue_stamp


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

"""Whitelisted entry points. Each checks roles itself (frappe.only_for is a no-op under tests)."""

from __future__ import annotations

from typing import Any

import frappe

from mexico_localization.einvoice import ping as ping_service
from mexico_localization.einvoice.roles import require_manager


@frappe.whitelist(methods=["POST"])
def ping_server() -> dict[str, Any]:
    """Checks URL and key at FacturaAPI (no side effects there) and records the call."""
    require_manager()
    return ping_service.run_ping()

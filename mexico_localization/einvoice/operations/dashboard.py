"""The numbers on the "CFDI México" workspace that a Number Card's filters cannot express. Each
needs a CFDI role: the counts come from the fiscal record."""

from __future__ import annotations

import frappe

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.roles import require_reader
from mexico_localization.einvoice.settings import get_settings


@frappe.whitelist()
def sales_awaiting_global(filters: str | None = None) -> int:
    """Walk-in tickets not yet in a global CFDI (a sale's state, counted without POS Invoice read rights)."""
    require_reader()
    return frappe.db.count("POS Invoice", {"docstatus": 1, "mx_cfdi_status": CfdiState.AWAITING_GLOBAL.value})


@frappe.whitelist()
def test_stamps_on_live_site(filters: str | None = None) -> int:
    """CFDIs stamped in FacturaAPI's Test environment since this site was marked Production Site:
    documents a customer may hold that have no fiscal value."""
    require_reader()
    settings = get_settings()
    if not settings.production_site or not settings.production_since:
        return 0
    return frappe.db.count("CFDI", {"livemode": 0, "uuid": ["is", "set"],
                                    "stamped_at": [">=", settings.production_since]})

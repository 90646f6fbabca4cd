"""The numbers on the "CFDI México" workspace that a Number Card's filters cannot express. Each
needs a CFDI role: the counts come from the fiscal record, for the companies the user's User
Permissions allow (the CFDI cards' own counts apply them by themselves)."""

from __future__ import annotations

import frappe

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.roles import allowed_companies, require_reader
from mexico_localization.einvoice.settings import get_settings


@frappe.whitelist()
def sales_awaiting_global(filters: str | None = None) -> int:
    """Walk-in tickets not yet in a global CFDI (a sale's state, counted without POS Invoice read rights)."""
    require_reader()
    allowed = allowed_companies()
    return frappe.db.count("POS Invoice", {"docstatus": 1, "mx_cfdi_status": CfdiState.AWAITING_GLOBAL.value,
                                           **({"company": ["in", list(allowed) or [""]]} if allowed is not None
                                              else {})})


@frappe.whitelist()
def test_stamps_on_live_site(filters: str | None = None) -> int:
    """CFDIs stamped in FacturaAPI's Test environment since this site was marked Production Site:
    documents a customer may hold that have no fiscal value."""
    require_reader()
    settings = get_settings()
    if not settings.production_site:
        return 0
    allowed = allowed_companies()
    return sum(frappe.db.count("CFDI", {"livemode": 0, "uuid": ["is", "set"], "company": row.company,
                                        "stamped_at": [">=", row.production_since]})
               for row in settings.get("companies") or []
               if row.production_since and (allowed is None or row.company in allowed))

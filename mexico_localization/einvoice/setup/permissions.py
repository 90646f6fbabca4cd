"""Finance and auditors read FacturaAPI's Integration Requests and the self-invoicing page's, and no
other integration's.

The app grants CFDI Manager and CFDI Auditor read/report on Integration Request (setup.py); these
hooks narrow that grant to those two services, in lists and reports (query condition) and on
single documents (has_permission). System Manager keeps its full, standard access.
"""

from __future__ import annotations

import frappe

from mexico_localization.einvoice.pipeline.records import SERVICES
from mexico_localization.einvoice.roles import SYSTEM_MANAGER


def _unrestricted(user: str | None) -> bool:
    user = user or frappe.session.user
    return user == "Administrator" or SYSTEM_MANAGER in frappe.get_roles(user)


def integration_request_query(user: str | None = None, doctype: str | None = None) -> str:
    if _unrestricted(user):
        return ""
    services = ", ".join(frappe.db.escape(service) for service in SERVICES)
    return f"`tabIntegration Request`.`integration_request_service` in ({services})"


def integration_request_has_permission(doc, ptype: str | None = None, user: str | None = None,
                                       debug: bool = False) -> bool:
    if _unrestricted(user):
        return True
    return doc.get("integration_request_service") in SERVICES

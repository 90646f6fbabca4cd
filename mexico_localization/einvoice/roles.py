"""Who may do what. Checked with frappe.get_roles(), never frappe.only_for (a no-op under tests and
for Administrator)."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.core.doctype.user_permission.user_permission import get_user_permissions

CFDI_MANAGER = "CFDI Manager"   # configures, pings, re-generates and cancels
CFDI_AUDITOR = "CFDI Auditor"   # finance and auditors: reads CFDIs, FacturaAPI Integration Requests, reports
SYSTEM_MANAGER = "System Manager"

MANAGERS = frozenset({SYSTEM_MANAGER, CFDI_MANAGER})


def has_any(roles: frozenset[str], user: str | None = None) -> bool:
    return bool(roles.intersection(frappe.get_roles(user)))


def require_manager() -> None:
    """Refuses anyone who may not configure or act on CFDIs."""
    if not has_any(MANAGERS):
        raise frappe.PermissionError(_("Only a CFDI Manager or System Manager may do this."))


READERS = MANAGERS | {CFDI_AUDITOR}


def require_reader() -> None:
    """Refuses anyone who may not read the fiscal record."""
    if not has_any(READERS):
        raise frappe.PermissionError(_("Only a CFDI Auditor, CFDI Manager or System Manager may do this."))


def allowed_companies(user: str | None = None) -> set[str] | None:
    """The companies the user's User Permissions allow, or None when they do not restrict companies."""
    allowed = get_user_permissions(user).get("Company")
    return {p.get("doc") for p in allowed} if allowed else None


def require_company(company: str | None) -> None:
    """Refuses a user whose User Permissions on Company leave `company` out: a role restricted to one
    company acts on that company's CFDIs only."""
    allowed = allowed_companies()
    if allowed is not None and company not in allowed:
        raise frappe.PermissionError(_("You may not act on the CFDIs of {0} (User Permissions).").format(company))


def company_condition(column: str, values: dict) -> str:
    """A report's SQL condition keeping the rows of the companies the user's User Permissions allow
    (`values` gains the list); "1=1" when they do not restrict companies."""
    allowed = allowed_companies()
    if allowed is None:
        return "1=1"
    values["allowed_companies"] = tuple(allowed) or ("",)
    return f"{column} in %(allowed_companies)s"


def managers() -> list[str]:
    """The enabled users who hold CFDI Manager: they are told what needs a person."""
    return frappe.db.sql_list("""select distinct u.name from `tabUser` u join `tabHas Role` r on r.parent = u.name
        where r.parenttype = 'User' and r.role = %s and u.enabled = 1""", CFDI_MANAGER)

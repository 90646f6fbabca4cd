"""Install, migrate and uninstall: roles, the Integration Request grant, and the fiscal-record guard."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.permissions import add_permission, update_permission_property

from mexico_localization.einvoice.roles import CFDI_AUDITOR, CFDI_MANAGER
from mexico_localization.einvoice.setup import catalog_sync, custom_fields

ROLES = {
    CFDI_MANAGER: "Configures E Invoice Setting, pings FacturaAPI, re-generates and cancels CFDIs.",
    CFDI_AUDITOR: "Finance and audit: reads CFDIs, FacturaAPI Integration Requests and CFDI reports.",
}
ALLOW_UNINSTALL_KEY = "mexico_localization_allow_uninstall_with_cfdi"
# Frappe clears Integration Requests after 90 days and Error Logs after 14: too soon for the evidence of
# a year's CFDI calls (README "Retention"). Raised once, at install; an administrator's later choice stands.
AUDIT_LOG_DAYS = {"Integration Request": 400, "Error Log": 90}


def before_install() -> None:
    refresh_module_map()
    make_roles()


def refresh_module_map() -> None:
    """Frappe maps each module to its app once per process, from a map cached in Redis: a site whose
    map was cached before `bench get-app` would install none of this app's doctypes (their module
    reads as Frappe's) and the install would fail half-way. `install-app` clears Redis, not this
    process's map: it is rebuilt here, before Frappe syncs the doctypes."""
    frappe.cache.delete_value(["app_modules", "installed_app_modules", "all_apps"])
    frappe.local.app_modules = frappe.local.module_app = None
    frappe.setup_module_map()
    if frappe.local.module_app.get("mexico_localization") != "mexico_localization":
        frappe.throw(_("The app is not in this bench's sites/apps.txt: run bench get-app (or add it), then "
                       "install it again."))


def after_install() -> None:
    after_migrate()
    keep_audit_logs()


def after_migrate() -> None:
    make_roles()
    grant_integration_request_access()
    grant_report_filter_access()
    catalog_sync.sync()
    custom_fields.make()
    default_ticket_format()


TICKET_FORMAT = "Ticket CFDI"


def default_ticket_format() -> None:
    """What the POS prints when its profile names no print format: the ticket with its CFDI. A default
    the site already chose is left alone."""
    current = frappe.db.get_value("Property Setter", {"doc_type": "POS Invoice", "property": "default_print_format"},
                                  "value")
    if not current and frappe.db.exists("Print Format", TICKET_FORMAT):
        frappe.make_property_setter({"doctype": "POS Invoice", "doctype_or_field": "DocType",
                                     "property": "default_print_format", "value": TICKET_FORMAT,
                                     "property_type": "Data"}, is_system_generated=False)


def keep_audit_logs() -> None:
    """Log Settings keeps FacturaAPI's calls and failures at least AUDIT_LOG_DAYS days."""
    settings = frappe.get_single("Log Settings")
    for doctype, days in AUDIT_LOG_DAYS.items():
        row = next((r for r in settings.logs_to_clear if r.ref_doctype == doctype), None)
        if row is None:
            settings.append("logs_to_clear", {"ref_doctype": doctype, "days": days})
        elif int(row.days or 0) < days:
            row.days = days
    settings.save(ignore_permissions=True)


def make_roles() -> None:
    for role, description in ROLES.items():
        if not frappe.db.exists("Role", role):
            frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1,
                            "description": description}).insert(ignore_permissions=True)


def grant_integration_request_access() -> None:
    """Read and report on Integration Request, narrowed to FacturaAPI by permissions.py."""
    for role in ROLES:
        if not frappe.db.exists("Custom DocPerm", {"parent": "Integration Request", "role": role, "permlevel": 0}):
            add_permission("Integration Request", role, 0)
        for ptype in ("read", "report", "export", "print"):
            update_permission_property("Integration Request", role, 0, ptype, 1, validate=False)


# The CFDI reports filter by these: Frappe refuses a Link filter whose doctype the user may not select.
FILTER_DOCTYPES = ("Company", "POS Profile")


def grant_report_filter_access() -> None:
    """Select (pick in a filter, never read) on the reports' filter doctypes, for the CFDI roles."""
    for doctype in FILTER_DOCTYPES:
        for role in ROLES:
            if frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}):
                continue  # a rule an administrator made, or ours from an earlier migrate: left as it is
            add_permission(doctype, role, 0, "select")
            update_permission_property(doctype, role, 0, "read", 0, validate=False)


def before_uninstall() -> None:
    """Frappe drops the app's tables on uninstall: refuse while fiscal records exist."""
    count = frappe.db.count("CFDI") if frappe.db.table_exists("CFDI") else 0
    if count and not frappe.conf.get(ALLOW_UNINSTALL_KEY):
        frappe.throw(_(
            "This site holds {0} CFDI records, the fiscal record of stamped invoices. Uninstalling would delete "
            "them. Export them first (CFDI list → Menu → Export, or: bench --site {1} export-csv CFDI cfdi.csv; "
            "the XML and PDF files stay in private files), then run: bench --site {1} set-config {2} 1, and "
            "uninstall again."
        ).format(count, frappe.local.site, ALLOW_UNINSTALL_KEY), title=_("CFDI records exist"))


def after_uninstall() -> None:
    custom_fields.remove()
    frappe.db.delete("Property Setter", {"doc_type": "POS Invoice", "property": "default_print_format",
                                         "value": TICKET_FORMAT})
    for role in ROLES:
        frappe.db.delete("Custom DocPerm", {"parent": ["in", ["Integration Request", *FILTER_DOCTYPES]],
                                            "role": role})
    for doctype in ("Integration Request", *FILTER_DOCTYPES):
        frappe.clear_cache(doctype=doctype)

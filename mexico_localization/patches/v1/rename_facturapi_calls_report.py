"""The calls report's folder now matches the client package (report/facturapi_calls/), so its name is
"Facturapi Calls": the sync makes it from the new folder, and the old "FacturaAPI Calls" record,
whose module no longer exists, is removed (with its role and workspace links)."""

import frappe

OLD = "FacturaAPI Calls"


def execute() -> None:
    if frappe.db.exists("Report", OLD):
        frappe.delete_doc("Report", OLD, ignore_permissions=True, force=True)
    frappe.db.delete("Workspace Link", {"link_type": "Report", "link_to": OLD})

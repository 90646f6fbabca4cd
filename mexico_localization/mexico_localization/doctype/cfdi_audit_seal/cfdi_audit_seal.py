"""CFDI Audit Seal: one day's seal over the fiscal record. Written only by the sealing job; never deleted."""

import frappe
from frappe import _
from frappe.model.document import Document


class CFDIAuditSeal(Document):
    def on_trash(self) -> None:
        frappe.throw(_("An audit seal is part of the fiscal record and cannot be deleted."), frappe.PermissionError)

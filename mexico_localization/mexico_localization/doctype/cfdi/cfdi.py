"""CFDI: the permanent fiscal record of one CFDI. Written only by the app; never deleted."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document


class CFDI(Document):
    def on_trash(self) -> None:
        # CFF art. 30: fiscal records are kept for at least five years. Cancel the CFDI instead.
        frappe.throw(_("A CFDI is a fiscal record and cannot be deleted. Use Cancel CFDI to cancel it at SAT."),
                     frappe.PermissionError, title=_("Not allowed"))

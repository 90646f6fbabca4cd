"""CFDI: the permanent fiscal record of one CFDI. Written only by the app; never deleted."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document

from mexico_localization.einvoice.pipeline.sweep import stuck_in_queue


class CFDI(Document):
    def autoname(self) -> None:
        """Named after its document, e.g. ACC-PSINV-2026-00042-I: an auditor finds it from the sale,
        and no naming-series row is locked on the cashier's submit."""
        base = f"{self.reference_name}-{self.cfdi_type}{'G' if self.is_global else ''}"
        self.name, n = base, 1
        while frappe.db.exists("CFDI", self.name):
            n += 1
            self.name = f"{base}{n}"

    def onload(self) -> None:
        """Whether a Queued CFDI has been left with no job to run it (the form then offers Retry)."""
        self.set_onload("stuck_in_queue", stuck_in_queue(self.name))

    def on_trash(self) -> None:
        # CFF art. 30: fiscal records are kept for at least five years. Cancel the CFDI instead.
        frappe.throw(_("A CFDI is a fiscal record and cannot be deleted. Use Cancel CFDI to cancel it at SAT."),
                     frappe.PermissionError, title=_("Not allowed"))


def on_doctype_update() -> None:
    """A sale's latest CFDI (einvoice/standing.py) is read by sale and creation for every row of the
    reconciliation report: this index answers it without a sort per sale."""
    frappe.db.add_index("CFDI", ["reference_name", "creation", "name"])

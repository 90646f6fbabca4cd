"""CFDI Bulk Run: one bulk re-generation, written only by the app (einvoice/bulk.py)."""

from frappe.model.document import Document


class CFDIBulkRun(Document):
    pass

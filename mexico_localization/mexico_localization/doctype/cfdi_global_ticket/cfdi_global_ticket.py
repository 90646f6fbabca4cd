"""One ticket of a global CFDI (child of CFDI)."""

from frappe.model.document import Document


class CFDIGlobalTicket(Document):
    pass

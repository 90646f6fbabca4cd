"""One call to FacturaAPI made for a CFDI: when, what, how it ended, and where its record is."""

from frappe.model.document import Document


class CFDIAttempt(Document):
    pass

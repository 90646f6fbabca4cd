"""One deferred sale paid by a payment complement (child of CFDI)."""

from frappe.model.document import Document


class CFDIPaymentAllocation(Document):
    pass

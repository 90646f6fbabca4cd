"""One row of E Invoice Setting: a company, its FacturaAPI organization's key and its last ping."""

from frappe.model.document import Document


class EInvoiceCompany(Document):
    pass

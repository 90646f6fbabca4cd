"""A SAT catalog shipped with the app (cfdi/catalogs.py), synced on install and migrate; read-only."""

from frappe.model.document import Document


class SATRelationType(Document):
    pass

"""Report columns that name a document a CFDI Auditor may not be allowed to open (a POS Invoice, a
Customer, a Sales Invoice). Frappe refuses a whole report whose Link columns point to a doctype the
reader cannot read, so these go as Data with `link_doctype`; public/js/cfdi_reports.js shows them
as links to whoever can read that doctype."""

from __future__ import annotations


def document(fieldname: str, label: str, doctype: str, width: int = 160) -> dict:
    return {"fieldname": fieldname, "label": label, "fieldtype": "Data", "link_doctype": doctype, "width": width}

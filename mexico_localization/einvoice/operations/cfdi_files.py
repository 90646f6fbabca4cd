"""A stamped CFDI's files as a person asks for them.

The stamp keeps only the sealed XML, the fiscal document, fingerprinted in the daily seal. The PDF
is a rendering FacturaAPI gives again at any time (GET /v2/invoices/{id}/pdf), so it is fetched on
first demand, as a recorded call with no transaction open while FacturaAPI answers, and kept from
then on.
"""

from __future__ import annotations

import frappe
from frappe import _

from mexico_localization.einvoice.pipeline.records import ExchangeLog, attach, error_log, file_content, kept_xml
from mexico_localization.einvoice.settings import make_client
from mexico_localization.facturapi import FacturapiError


class FileUnavailable(frappe.ValidationError):
    """The file is not kept and FacturaAPI could not give it now (the call is on record)."""


def cfdi_xml(cfdi: str) -> tuple[str, bytes]:
    """(file name, content) of the XML kept at the stamp, only while it is still the one recorded
    (its SHA-256): a copy that changed is refused, never replaced by a fresh download."""
    row = frappe.db.get_value("CFDI", cfdi, ["uuid", "xml_file"], as_dict=True)
    content = kept_xml(cfdi) if row and row.uuid else None
    if content is None:
        frappe.throw(_("The XML of {0} is not kept as recorded at the stamp: see the CFDI Audit Trail.").format(cfdi)
                     if row and row.xml_file else _("This CFDI has no stamped XML."), FileUnavailable)
    return f"{row.uuid}.xml", content


def cfdi_pdf(cfdi: str) -> tuple[str, bytes, str]:
    """(file name, content, file URL) of the CFDI's PDF, fetched from FacturaAPI and kept on first demand."""
    row = frappe.db.get_value("CFDI", cfdi, ["name", "uuid", "facturapi_id", "pdf_file", "company"], as_dict=True)
    if not row or not row.uuid or not row.facturapi_id:
        frappe.throw(_("This CFDI has no stamped PDF."), FileUnavailable)
    kept = file_content(cfdi, row.pdf_file)
    if kept is not None:
        return f"{row.uuid}.pdf", kept, row.pdf_file
    return f"{row.uuid}.pdf", *fetch_pdf(row)


def fetch_pdf(row) -> tuple[bytes, str]:
    """FacturaAPI's PDF, recorded, and kept on the CFDI unless another request kept one first."""
    log = ExchangeLog("CFDI", row.name)
    frappe.db.commit()  # nothing held open while FacturaAPI answers
    try:
        with make_client(row.company, on_exchange=log) as client:
            content = client.download_invoice(row.facturapi_id, "pdf", uuid=row.uuid)
    except FacturapiError as error:
        log.write()
        error_log(f"CFDI {row.name}: PDF download failed", error, "CFDI", row.name)
        frappe.db.commit()
        frappe.throw(_("FacturaAPI could not give the PDF now ({0}). Try again in a moment.").format(error),
                     FileUnavailable)
    log.write()
    url = frappe.db.get_value("CFDI", row.name, "pdf_file", for_update=True)
    if not url or file_content(row.name, url) is None:
        url = attach(row.name, f"{row.uuid}.pdf", content)
        frappe.db.set_value("CFDI", row.name, "pdf_file", url, update_modified=False)
    frappe.db.commit()
    return content, url

"""What a printed ticket shows of its sale's CFDI, for the "Ticket CFDI" print format (a Jinja
method): the stamp (UUID, series-folio, SAT certificate, stamp time, the seal's last 8 characters)
and SAT's verification QR, made from the stamped XML the CFDI record keeps; and on a walk-in ticket,
the self-invoicing QR, link, code and deadline."""

from __future__ import annotations

import base64
import io
from typing import Any

import frappe
import qrcode
from qrcode.image.pure import PyPNGImage

from mexico_localization.cfdi.stamped_xml import qr_fields
from mexico_localization.cfdi.states import VALID_AT_SAT, CfdiState
from mexico_localization.cfdi.ticket import verification_url
from mexico_localization.einvoice.pipeline.records import kept_xml
from mexico_localization.einvoice.self_invoice.tickets import self_invoice_link

VALID = {state.value for state in VALID_AT_SAT}


def qr_data_uri(text: str) -> str:
    """A PNG QR code of `text` (qrcode, with pure-Python PNG), inline: Frappe's print view and its PDF
    render it without fetching anything."""
    image = qrcode.make(text, image_factory=PyPNGImage, box_size=4, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def cfdi_ticket_block(doc) -> dict[str, Any]:
    """The CFDI block of a POS Invoice's ticket; {"state": ...} alone when its CFDI is not stamped."""
    name = doc.get("mx_cfdi")
    row = frappe.db.get_value("CFDI", name, ["name", "status", "uuid", "series", "folio_number", "sat_cert_number",
                                             "stamped_at", "signature", "verification_url", "is_global", "livemode",
                                             "total"], as_dict=True) if name else None
    awaiting = doc.get("mx_cfdi_status") == CfdiState.AWAITING_GLOBAL.value
    walk_in = awaiting or bool(row and row.is_global)
    own = self_invoice_block(doc) if walk_in else None
    if not row or not row.uuid or row.status not in VALID:
        return {"state": doc.get("mx_cfdi_status") or "", "awaiting_global": awaiting, "self_invoice": own}
    xml = kept_xml(row.name)
    fields = qr_fields(xml) if xml else None
    url = (verification_url(fields.uuid, fields.issuer_rfc, fields.receiver_rfc, fields.total, fields.seal)
           if fields else row.verification_url)
    seal = fields.seal if fields else (row.signature or "")
    return {
        "state": row.status, "uuid": row.uuid, "is_global": bool(row.is_global), "livemode": bool(row.livemode),
        "series_folio": "-".join(filter(None, [row.series, row.folio_number])),
        "sat_cert_number": row.sat_cert_number, "stamped_at": row.stamped_at, "seal_tail": seal[-8:],
        "verification_url": url, "qr": qr_data_uri(url) if url else None, "self_invoice": own,
    }


def self_invoice_block(doc) -> dict[str, Any] | None:
    """The walk-in buyer's way to their own CFDI (its link, code and deadline), with the link as a QR."""
    link = self_invoice_link(doc)
    return {**link, "qr": qr_data_uri(link["url"])} if link else None

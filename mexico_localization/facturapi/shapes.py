"""What a usable answer from FacturaAPI looks like: an invoice object, and the files that become the
fiscal record. Anything else is an `InvalidResponse` at the client, so the app never records a proxy's
page as a sealed XML nor fails on a malformed field after a stamp."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

CFDI_NAMESPACE = "http://www.sat.gob.mx/cfd/4"
STAMP_TAG = "{http://www.sat.gob.mx/TimbreFiscalDigital}TimbreFiscalDigital"
DATE_FIELDS = ("date", "canceled_at")
TEXT_FIELDS = ("status", "uuid", "type", "cancellation_status", "external_id", "verification_url")


def invoice_problem(body: Any) -> str | None:
    """Why `body` is not an invoice object the app can record, or None."""
    if not isinstance(body, dict):
        return "not an object"
    if not isinstance(body.get("id"), str) or not body["id"]:
        return "no id"
    for name in TEXT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{name} is not text"
    stamp = body.get("stamp")
    if stamp is not None and not isinstance(stamp, dict):
        return "stamp is not an object"
    for where, name in [(body, n) for n in DATE_FIELDS] + [(stamp or {}, "date")]:
        if where.get(name) is not None and not _is_date(where[name]):
            return f"{name} {where[name]!r} is not a date"
    for name in ("sat_cert_number", "sat_signature"):
        if (stamp or {}).get(name) is not None and not isinstance(stamp[name], str):
            return f"stamp.{name} is not text"
    if body.get("total") is not None and not _is_amount(body["total"]):
        return f"total {body['total']!r} is not an amount"
    return None


def file_problem(fmt: str, content_type: str, content: bytes, uuid: str | None) -> str | None:
    """Why a downloaded file cannot be kept as the CFDI's (or its acuse's), or None."""
    if "html" in (content_type or "").lower():
        return f"the server sent a web page ({content_type})"
    if not content:
        return "the file is empty"
    if fmt == "pdf":
        return None if content.lstrip()[:5] == b"%PDF-" else "it is not a PDF"
    if fmt == "zip":
        return None if content[:4] == b"PK\x03\x04" else "it is not a ZIP file"
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        return "the XML declares a DTD or entities, which a CFDI never does"
    try:
        root = ET.fromstring(content)  # noqa: S314 (no DTD, see above)
    except ET.ParseError as error:
        return f"it is not XML ({error})"
    if uuid is None:
        return None
    if root.tag != f"{{{CFDI_NAMESPACE}}}Comprobante":
        return f"it is not a CFDI 4.0 (root {root.tag})"
    stamps = [e.get("UUID", "") for e in root.iter(STAMP_TAG)]
    if [u.upper() for u in stamps] != [uuid.upper()]:
        return f"its stamp carries UUID {', '.join(stamps) or 'none'}, not {uuid}"
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_amount(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            return Decimal(value).is_finite()
        except InvalidOperation:
            return False
    return False

"""What a stamped CFDI's XML says of itself, read from the document SAT holds rather than worked out
again: each concept tax with its base, summed (a payment complement declares the paid share of
exactly these, Pagos 2.0 ImpuestosDR), and what SAT's verification QR is made of."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

from mexico_localization.cfdi.model import Tax

IMPUESTO = {"001": "ISR", "002": "IVA", "003": "IEPS"}   # c_Impuesto


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def stamped_tax_bases(xml: bytes) -> tuple[tuple[Tax, Decimal], ...] | None:
    """Each tax of the CFDI's concepts (Traslado or Retención, per Impuesto, TipoFactor and
    TasaOCuota) with its summed Base; None when the XML cannot be read or has no concepts."""
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 (FacturaAPI's own file; expat refuses entity bombs)
    except ElementTree.ParseError:
        return None
    concepts = [e for e in root.iter() if _local(e.tag) == "Concepto"]
    if not concepts:
        return None
    bases: dict[Tax, Decimal] = {}
    try:
        for concept in concepts:
            for node in concept.iter():
                kind = _local(node.tag)
                if kind not in ("Traslado", "Retencion"):
                    continue
                factor = node.get("TipoFactor") or "Tasa"
                tax = Tax(IMPUESTO.get(node.get("Impuesto") or "", node.get("Impuesto") or ""),
                          Decimal(0) if factor == "Exento" else Decimal(node.get("TasaOCuota") or 0),
                          factor, withholding=kind == "Retencion")
                bases[tax] = bases.get(tax, Decimal(0)) + Decimal(node.get("Base") or 0)
    except InvalidOperation:
        return None
    return tuple(bases.items())


@dataclass(frozen=True)
class QrFields:
    uuid: str
    issuer_rfc: str
    receiver_rfc: str
    total: Decimal
    seal: str     # the issuer's Sello


def qr_fields(xml: bytes) -> QrFields | None:
    """The parts of SAT's verification URL (Anexo 20, Apéndice 1) as the stamped XML states them:
    TimbreFiscalDigital@UUID, Emisor@Rfc, Receptor@Rfc, Comprobante@Total and @Sello."""
    try:
        root = ElementTree.fromstring(xml)  # noqa: S314 (FacturaAPI's own file; expat refuses entity bombs)
    except ElementTree.ParseError:
        return None
    found = {_local(e.tag): e for e in root.iter() if _local(e.tag) in ("Emisor", "Receptor", "TimbreFiscalDigital")}
    try:
        fields = QrFields(found["TimbreFiscalDigital"].get("UUID") or "", found["Emisor"].get("Rfc") or "",
                          found["Receptor"].get("Rfc") or "", Decimal(root.get("Total") or ""),
                          root.get("Sello") or "")
    except (KeyError, InvalidOperation):
        return None
    return fields if all((fields.uuid, fields.issuer_rfc, fields.receiver_rfc, fields.seal)) else None

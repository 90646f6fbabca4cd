"""What a stamped CFDI's XML says of its own taxes: each concept tax with its base, summed. A payment
complement declares the paid share of exactly these (Pagos 2.0, ImpuestosDR: the related CFDI's
bases), so it reads them from the document SAT holds rather than working them out again."""

from __future__ import annotations

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

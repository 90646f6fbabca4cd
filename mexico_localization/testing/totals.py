"""Our model of how FacturaAPI and SAT total a CFDI body, written from Anexo 20 apart from the
builder's own arithmetic (cfdi/arithmetic.py), for the tests of both tiers and the emulator: the CFDI
a body produces must equal what the customer paid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

from mexico_localization.cfdi.money import cents, micros

SAT_TAX_CODE = {"ISR": "001", "IVA": "002", "IEPS": "003"}  # c_Impuesto


def _number(value: Any) -> D:
    return D(str(value or 0))


@dataclass(frozen=True)
class ConceptTax:
    type: str
    factor: str
    rate: D
    withholding: bool
    base: D
    amount: D   # 0 for Exento


def concept_parts(item: dict[str, Any]) -> tuple[D, D, list[ConceptTax]]:
    """Importe, Descuento and the taxes of one body item. Anexo 20: Importe = Cantidad × ValorUnitario
    and each concept tax at six decimals; IEPS (traslado) joins the IVA base (LIVA art. 12,
    FacturaAPI's default ieps_mode)."""
    quantity, product = _number(item.get("quantity", 1)), item["product"]
    importe = micros(quantity * _number(product["price"]))
    discount = _number(item.get("discount"))
    base = importe - discount
    taxes = product.get("taxes") or ()
    transferred = [t for t in taxes if not t.get("withholding") and t.get("factor") != "Exento"]
    ieps = sum((micros(_number(t["rate"]) * (quantity if t.get("factor") == "Cuota" else base))
                for t in transferred if t.get("type") == "IEPS"), D(0))
    found = []
    for tax in taxes:
        kind, factor = tax.get("type", "IVA"), tax.get("factor", "Tasa")
        on = base + ieps if kind == "IVA" and not tax.get("withholding") else base
        amount = D(0) if factor == "Exento" else micros(_number(tax["rate"]) * (quantity if factor == "Cuota" else on))
        found.append(ConceptTax(kind, factor, _number(tax.get("rate")), bool(tax.get("withholding")), on, amount))
    return importe, discount, found


def document_taxes(body: dict[str, Any]) -> dict[tuple, D]:
    """Document Traslados per (Impuesto, TipoFactor, TasaOCuota) and Retenciones per Impuesto, unrounded."""
    groups: dict[tuple, D] = {}
    for item in body["items"]:
        for tax in concept_parts(item)[2]:
            if tax.factor == "Exento":
                continue
            key = ("R", tax.type) if tax.withholding else ("T", tax.type, tax.factor, tax.rate)
            groups[key] = groups.get(key, D(0)) + tax.amount
    return groups


def sat_total(body: dict[str, Any]) -> D:
    """SubTotal, Descuento and each document tax in cents: Total = SubTotal − Descuento + Traslados −
    Retenciones."""
    subtotal = discount = D(0)
    for item in body["items"]:
        importe, item_discount, _taxes = concept_parts(item)
        subtotal += importe
        discount += item_discount
    taxes_total = sum((cents(v) if k[0] == "T" else -cents(v) for k, v in document_taxes(body).items()), D(0))
    return cents(subtotal) - cents(discount) + taxes_total

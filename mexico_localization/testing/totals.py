"""Our model of how FacturaAPI and SAT total a CFDI body, for the tests of both tiers: the CFDI a
body produces must equal what ERPNext says the customer paid."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from mexico_localization.cfdi.money import cents, micros


def sat_total(body: dict[str, Any]) -> D:
    """Our model of how FacturaAPI and SAT total a body: concept amounts and taxes at six decimals
    (Anexo 20: Importe = Cantidad × ValorUnitario; each tax on its concept's base), document sums in
    cents."""
    subtotal = discount = transferred = withheld = D(0)
    for item in body["items"]:
        quantity = D(str(item["quantity"]))
        importe = micros(quantity * D(str(item["product"]["price"])))
        subtotal += importe
        discount += D(str(item.get("discount") or 0))
        base = importe - D(str(item.get("discount") or 0))
        for tax in item["product"].get("taxes") or ():
            factor = tax.get("factor", "Tasa")
            if factor == "Exento":
                continue
            amount = micros(D(str(tax["rate"])) * (quantity if factor == "Cuota" else base))
            if tax.get("withholding"):
                withheld += amount
            else:
                transferred += amount
    return cents(subtotal) - cents(discount) + cents(transferred) - cents(withheld)

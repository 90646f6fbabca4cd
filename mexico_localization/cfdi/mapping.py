"""A sale becomes FacturaAPI's invoice body (CFDI 4.0 ingreso), following design.md:
net unit prices with `tax_included: false` and explicit taxes, Decimal money, the payment form
net of change, PUE/PPD, the 70-hour date rule and the place of issue. The concept bases are fitted
(cfdi/arithmetic.py) so that the CFDI's total is what the customer paid, and IEPS is stated inside the
price unless the receiver asked to see it apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mexico_localization.cfdi.arithmetic import fit_to_total, fold_ieps, priced
from mexico_localization.cfdi.catalogs import PUBLIC_NAME
from mexico_localization.cfdi.model import Line, Receiver, Sale, Tax
from mexico_localization.cfdi.money import as_number
from mexico_localization.cfdi.payment_form import dominant_form
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.cfdi.validation import blocking, sale_problems

MAX_DATE_AGE = timedelta(hours=70)  # FacturaAPI refuses dates older than 72 h; keep a margin


@dataclass(frozen=True)
class BuiltInvoice:
    body: dict[str, Any]
    late_stamp: bool          # posting date too old to send: FacturaAPI dates the CFDI now
    left_out: tuple[str, ...] = ()  # free items (price 0): SAT admits no concept without a unit value


def build_invoice(sale: Sale, now: datetime, customer: str = "") -> BuiltInvoice:
    """The FacturaAPI body for `sale`, or CfdiDataError listing every blocking problem."""
    problems = blocking(sale_problems(sale, customer))
    if problems:
        raise CfdiDataError(problems)
    receiver = sale.receiver
    ppd = sale.outstanding_amount > 0
    body: dict[str, Any] = {
        "type": "I",
        "customer": customer_body(receiver, sale.expedition_zip),
        "use": receiver.cfdi_use,
        "payment_form": "99" if ppd else dominant_form([(sale.payments, sale.change_amount)]),
        "payment_method": "PPD" if ppd else "PUE",
        "items": [concept(line) for line in stated_lines(sale.lines, receiver, sale.grand_total or None)],
        "address": {"zip": sale.expedition_zip},
    }
    if sale.currency != "MXN":
        body["currency"], body["exchange"] = sale.currency, as_number(sale.exchange_rate)
    if sale.series:
        body["series"] = sale.series
    if sale.folio:
        body["folio_number"] = sale.folio
    late = now - sale.posting > MAX_DATE_AGE
    if not late:
        body["date"] = sale.posting.isoformat(timespec="seconds")
    return BuiltInvoice(body, late, tuple(line.item_code for line in sale.lines if free(line)))


def stated_lines(lines: Sequence[Line], receiver: Receiver, paid: Decimal | None) -> tuple[Line, ...]:
    """The lines as the CFDI states them: free items left out, IEPS inside the price unless the receiver
    asked for it apart (never público en general), bases fitted to `paid` when it is known."""
    kept = [line for line in lines if not free(line)]
    if not (receiver.ieps_breakdown and not receiver.is_public):
        kept = [fold_ieps(line) for line in kept]
    return fit_to_total(kept, paid) if paid is not None else tuple(kept)


def free(line: Line) -> bool:
    """An item given away (price and amount 0). Anexo 20 (Concepto, ValorUnitario) wants a unit value
    above zero: it cannot be a concept, so it is left out of the CFDI and noted on its record."""
    return line.unit_price == 0 and line.net_amount == 0


def customer_body(receiver: Receiver, expedition_zip: str) -> dict[str, Any]:
    """The receptor as FacturaAPI takes it, for every CFDI type (Anexo 20, Receptor): público en
    general and foreign receivers are domiciled at the place of issue; a foreign one is sent with its
    country and its own tax id (FacturaAPI writes XEXX010101000 and NumRegIdTrib from them)."""
    body: dict[str, Any] = {
        "legal_name": PUBLIC_NAME if receiver.is_public else receiver.legal_name.strip(),
        "tax_id": receiver.tax_id.strip().upper(),
        "tax_system": receiver.tax_system,
        "address": {"zip": expedition_zip if receiver.is_public else receiver.zip},
    }
    if receiver.country != "MEX":
        body["address"] = {"zip": expedition_zip, "country": receiver.country}
        body["tax_id"] = receiver.foreign_tax_id or ""
    if receiver.email:
        body["email"] = receiver.email
    return body


def concept(line: Line) -> dict[str, Any]:
    """One CFDI concept: unit price before discount, the line's total discount, explicit taxes. A line
    discounted to zero keeps its price and carries the whole discount; with no base left for a tax
    (Anexo 20: Base above zero), it is no tax object (ObjetoImp 01)."""
    if line.net_amount == 0 and line.taxability != "01":
        line = replace(line, taxes=(), taxability="01")
    price, discount = priced(line)  # the concept's base is the line's (fitted) net amount
    product: dict[str, Any] = {
        "description": line.description[:1000] or line.item_code,
        "product_key": line.product_key,
        "unit_key": line.unit_key,
        "price": as_number(price),
        "tax_included": False,
        "taxability": line.taxability,
        "taxes": [] if line.taxability in ("01", "08") else [tax_body(t) for t in line.taxes],
        "sku": line.item_code,
    }
    if line.unit_name:
        product["unit_name"] = line.unit_name
    return {"quantity": as_number(line.quantity), "discount": as_number(discount), "product": product}


def tax_body(tax: Tax) -> dict[str, Any]:
    # The spec requires `rate` on every tax, Exento included (where it is 0 and ignored).
    body: dict[str, Any] = {"type": tax.type, "rate": 0 if tax.factor == "Exento" else as_number(tax.rate)}
    if tax.factor != "Tasa":
        body["factor"] = tax.factor
    if tax.withholding:
        body["withholding"] = True
    if tax.ieps_mode:
        body["ieps_mode"] = tax.ieps_mode
    return body

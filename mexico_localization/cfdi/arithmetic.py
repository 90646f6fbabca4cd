"""SAT's arithmetic for a CFDI's amounts, and the concept bases fitted so that a CFDI's total is what
the customer paid (tax-included shelf prices above all).

The arithmetic (Anexo 20, Guía de llenado, Concepto and Impuestos): Importe = Cantidad ×
ValorUnitario and each concept tax at six decimals; IEPS joins the IVA base (LIVA art. 12, and
FacturaAPI's default `ieps_mode`, sum_before_taxes); the document's SubTotal, Descuento and each
Traslado (per Impuesto, TipoFactor, TasaOCuota) or Retención (per Impuesto) rounded to cents; Total =
SubTotal − Descuento + trasladados − retenidos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal

from mexico_localization.cfdi.model import Line, Tax
from mexico_localization.cfdi.money import CENT, MICRO, cents, micros

NO_TAX_OBJECT = "01"
IEPS_NOT_STATED = "08"   # c_ObjetoImp "No traslado del IVA, No desglose IEPS"


@dataclass(frozen=True)
class ConceptAmounts:
    importe: Decimal
    discount: Decimal
    taxes: tuple[tuple[tuple, Decimal], ...]   # ((group, withheld), amount): the document groups it joins


def priced(line: Line) -> tuple[Decimal, Decimal]:
    """The concept's unit value and discount: the unit price before discount, and the discount that
    brings Cantidad × ValorUnitario down to the line's base. A price that already carries every
    discount (or that rounding put under the base) is raised to the base's unit price, rounded up."""
    price = micros(line.unit_price)
    if micros(line.quantity * price) < line.net_amount:
        price = (line.net_amount / line.quantity).quantize(MICRO, ROUND_CEILING)
    return price, micros(line.quantity * price) - line.net_amount


def taxed(line: Line, base: Decimal) -> tuple[tuple[Tax, Decimal, Decimal], ...]:
    """Each tax of a concept with the base it applies to and its amount, IEPS first since it joins the
    IVA base (LIVA art. 12); an exempt tax has a base and no amount."""
    if line.taxability in (NO_TAX_OBJECT, IEPS_NOT_STATED):
        return ()
    found = []
    ieps = Decimal(0)
    for tax in sorted(line.taxes, key=lambda t: t.type != "IEPS"):
        on = base + ieps if tax.type == "IVA" and not tax.withholding else base
        if tax.factor == "Exento":
            found.append((tax, on, Decimal(0)))
            continue
        amount = micros((line.quantity if tax.factor == "Cuota" else on) * tax.rate)
        if tax.type == "IEPS" and not tax.withholding:
            ieps += amount
        found.append((tax, on, amount))
    return tuple(found)


def tax_amounts(line: Line, base: Decimal) -> tuple[tuple[tuple, Decimal], ...]:
    """Each tax of a concept on `base`, keyed by the document group it joins (Traslado per Impuesto,
    TipoFactor and TasaOCuota; Retención per Impuesto)."""
    return tuple(((((tax.type,), True) if tax.withholding else ((tax.type, tax.factor, tax.rate), False)), amount)
                 for tax, _on, amount in taxed(line, base) if tax.factor != "Exento")


def tax_bases(lines: Sequence[Line]) -> tuple[tuple[Tax, Decimal], ...]:
    """Each tax of the lines (as a CFDI states them) with its summed base, in the order first seen."""
    bases: dict[Tax, Decimal] = {}
    for line in lines:
        for tax, on, _amount in taxed(line, line.net_amount):
            bases[tax] = bases.get(tax, Decimal(0)) + on
    return tuple(bases.items())


def concept_amounts(line: Line) -> ConceptAmounts:
    price, discount = priced(line)
    return ConceptAmounts(micros(line.quantity * price), discount, tax_amounts(line, line.net_amount))


def document_total(concepts: Sequence[ConceptAmounts]) -> Decimal:
    """Total = SubTotal − Descuento + Σ Traslados − Σ Retenciones, each document amount in cents."""
    return _rounded(_summed(concepts))


def _summed(concepts: Sequence[ConceptAmounts]) -> tuple[Decimal, Decimal, dict[tuple, Decimal]]:
    importe = discount = Decimal(0)
    groups: dict[tuple, Decimal] = {}
    for c in concepts:
        importe += c.importe
        discount += c.discount
        for key, amount in c.taxes:
            groups[key] = groups.get(key, Decimal(0)) + amount
    return importe, discount, groups


def _rounded(sums: tuple[Decimal, Decimal, dict[tuple, Decimal]], plus: ConceptAmounts | None = None) -> Decimal:
    importe, discount, groups = sums
    if plus is not None:
        importe, discount, groups = importe + plus.importe, discount + plus.discount, dict(groups)
        for key, amount in plus.taxes:
            groups[key] = groups.get(key, Decimal(0)) + amount
    taxes = sum((-cents(v) if withheld else cents(v) for (_group, withheld), v in groups.items()), Decimal(0))
    return cents(importe) - cents(discount) + taxes


def gross_factor(line: Line) -> Decimal:
    """What one peso of base costs the customer, taxes included (Cuota taxes, per unit, left aside)."""
    per_peso = replace(line, quantity=Decimal(1), taxes=tuple(t for t in line.taxes if t.factor != "Cuota"))
    return Decimal(1) + sum((-amount if withheld else amount
                             for (_group, withheld), amount in tax_amounts(per_peso, Decimal(1))), Decimal(0))


def fold_ieps(line: Line) -> Line:
    """IEPS stated inside the price (LIEPS art. 19-II: only an IEPS taxpayer who asks sees it apart):
    the concept's base carries the IEPS and only IVA is itemized, on the same amount it had before. A
    line left with no tax is c_ObjetoImp 08 ("No traslado del IVA, No desglose IEPS")."""
    ieps = [t for t in line.taxes if t.type == "IEPS" and not t.withholding]
    if not ieps or line.taxability == NO_TAX_OBJECT:
        return line
    folded = sum((amount for (group, withheld), amount in tax_amounts(line, line.net_amount)
                  if not withheld and group[0] == "IEPS"), Decimal(0))
    share = folded / line.net_amount if line.net_amount else Decimal(0)
    others = tuple(t for t in line.taxes if t not in ieps)
    return replace(line, net_amount=line.net_amount + folded, unit_price=micros(line.unit_price * (1 + share)),
                   taxes=others, taxability=line.taxability if others else IEPS_NOT_STATED)


def charged_total(grand_total: Decimal, shelf_total: Decimal | None, lines: int,
                  paid: Decimal | None = None) -> Decimal:
    """What the customer is charged for a sale. With tax-included prices it is the shelf total (ERPNext's
    own `total + taxes not included − discount`), which ERPNext's grand total matches only when its
    net amounts, rounded to cents, land within 5 centavos of it (adjust_grand_total_for_inclusive_tax;
    37 items at $1.00 give a grand total of 36.91). The shelf total stands only when what was paid
    (net of change; refunded, for a return) covers it: a sale left owing, or settled at the grand total,
    is what ERPNext's receivable says. A gap larger than a centavo per line is not rounding (a discount
    on the net total, say), and the grand total stands."""
    if shelf_total is None or abs(shelf_total - grand_total) > CENT * max(lines, 1):
        return grand_total
    if paid is not None and abs(paid) < abs(shelf_total):
        return grand_total
    return shelf_total


def fit_to_total(lines: Sequence[Line], target: Decimal) -> tuple[Line, ...]:
    """The lines with their bases moved (at six decimals) so that SAT's total of their concepts is
    `target`, what the customer paid. ERPNext keeps net amounts in cents and totals tax-included
    prices gross, so its net amounts can total a few centavos off: at most one centavo per line (and
    one more) is fitted; a larger gap is not rounding, and the lines are left as they are.

    The gap is spread over the lines in proportion to what each costs, then the last centavos are
    found on the largest line, whose total SAT's arithmetic makes monotonic in its base. Only when
    two document roundings flip at the same micro-peso (a gap of two centavos with no value between)
    can a centavo stay unmatched; the result is then the closest total from below or above."""
    lines = tuple(lines)
    movable = [i for i, line in enumerate(lines) if line.net_amount > 0]
    gap = target - document_total([concept_amounts(line) for line in lines])
    if gap == 0 or not movable or abs(gap) > CENT * (len(movable) + 1):
        return lines
    factors = {i: gross_factor(lines[i]) for i in movable}
    spread = sum((lines[i].net_amount * factors[i] for i in movable), Decimal(0))
    fitted = list(lines)
    for i in movable:
        share = gap * lines[i].net_amount / spread  # the line's part of the gap, in base
        fitted[i] = replace(lines[i], net_amount=max(MICRO, micros(lines[i].net_amount + share)))
    for i in sorted(movable, key=lambda i: -fitted[i].net_amount)[:3]:
        if document_total([concept_amounts(line) for line in fitted]) == target:
            break
        fitted[i] = _settle(fitted, i, target)
    return tuple(fitted)


def _settle(lines: list[Line], k: int, target: Decimal) -> Line:
    """Line `k` with the base nearest its own (micro-pesos, within three centavos) whose document total
    is `target`, else the one that comes closest. The search runs with the unit price raised above the
    range, so that only the discount moves and the total cannot step back; the line keeps its own
    price when that gives the same total."""
    others = _summed([concept_amounts(line) for i, line in enumerate(lines) if i != k])
    own = lines[k]
    reach = Decimal("0.03")
    high = own.net_amount + reach
    line = replace(own, unit_price=max(own.unit_price, (high / own.quantity).quantize(MICRO, ROUND_CEILING)))

    def total(micro: int, of: Line = line) -> Decimal:
        return _rounded(others, concept_amounts(replace(of, net_amount=micro * MICRO)))

    lo, hi, start = max(1, int((own.net_amount - reach) / MICRO)), int(high / MICRO), int(own.net_amount / MICRO)
    if total(start) < target:      # the smallest base above that reaches the target
        lo = start
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if total(mid) < target else (lo, mid)
        best = lo
    else:                          # the largest base below that does not pass it
        hi = start
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (lo, mid - 1) if total(mid) > target else (mid, hi)
        best = lo
    if total(best) != target:
        best = min((best - 1, best, best + 1), key=lambda m: abs(total(m) - target))
    if total(best, own) == total(best):
        return replace(own, net_amount=best * MICRO)
    return replace(line, net_amount=best * MICRO)


__all__ = ["ConceptAmounts", "charged_total", "concept_amounts", "document_total", "fit_to_total", "fold_ieps",
           "priced", "tax_bases"]

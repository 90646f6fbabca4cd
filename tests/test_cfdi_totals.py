"""Property: for any generated POS sale, the CFDI total our body produces (by SAT's arithmetic, modelled
apart from the builder in testing/totals.py) is what the customer paid, to the centavo.

Tax-excluded prices: ERPNext (taxes_and_totals.py) rounds each item's net amount to cents, accumulates
each tax row unrounded over the items and rounds the row; with one rate per row this is SAT's own
arithmetic, and the CFDI's total is grand_total (never rounded_total: the peso rounding adjustment is
not a taxable concept).

Tax-included shelf prices (Mexican retail's norm): the customer pays the sum of the gross line amounts,
less any document discount. ERPNext keeps net amounts rounded to cents (net = amount ÷ (1 + the
cumulated tax fraction)), so they can total a few centavos off; the builder fits the concept bases at
six decimals (cfdi/arithmetic.py) until SAT's total is what was paid. Modelled here: IVA 16/8/0 and
exempt, IEPS 8 % / 26.5 % / 53 % with IVA on price + IEPS (LIVA art. 12) or alone, IEPS stated or
inside the price, line and document discounts, weighed quantities, nominative CFDIs, credit notes and
globals.
"""

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from mexico_localization.cfdi.credit_note import build_credit_note
from mexico_localization.cfdi.global_cfdi import Period, Ticket, build_global
from mexico_localization.cfdi.mapping import build_invoice
from mexico_localization.cfdi.model import Line, Payment, Tax
from mexico_localization.testing.totals import sat_total
from tests.cfdi_samples import NOW, receiver, sale

RATES = {"IVA16": Tax("IVA", Decimal("0.16")), "IVA8": Tax("IVA", Decimal("0.08")),
         "IVA0": Tax("IVA", Decimal(0)), "EXENTO": Tax("IVA", Decimal(0), factor="Exento")}
IEPS = {rate: Tax("IEPS", Decimal(rate)) for rate in ("0.08", "0.265", "0.53")}
CENT = Decimal("0.01")
UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"


def erpnext_round(value) -> Decimal:
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(CENT, ROUND_HALF_UP)


@st.composite
def pos_lines(draw):
    rate_key = draw(st.sampled_from(sorted(RATES)))  # one IVA rate per sale: one ERPNext tax row
    lines = []
    for n in range(draw(st.integers(1, 12))):
        weighed = draw(st.booleans())
        qty = draw(st.decimals("0.005", "25", places=3)) if weighed else Decimal(draw(st.integers(1, 40)))
        price = draw(st.decimals("0.5", "5000", places=2))
        discount_pct = draw(st.sampled_from([0, 0, 5, 10, 12.5, 33]))
        rate = erpnext_round(float(price) * (1 - discount_pct / 100))          # ERPNext's item rate
        net = erpnext_round(float(qty) * float(rate))                         # item net_amount
        lines.append(Line(f"ITEM-{n}", "x", qty, price, net, "01010101", "H87", taxes=(RATES[rate_key],)))
    return tuple(lines)


def erpnext_grand_total(lines) -> Decimal:
    net_total = sum((line.net_amount for line in lines), Decimal(0))
    tax_row = 0.0
    for line in lines:
        tax = line.taxes[0]
        if tax.factor != "Exento":
            tax_row += float(line.net_amount) * float(tax.rate)
    return net_total + erpnext_round(tax_row)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(pos_lines())
@example((Line("W", "x", Decimal("24.797"), Decimal("0.50"), Decimal("12.40"), "01010101", "H87",
               taxes=(RATES["EXENTO"],)),) + (Line("U", "x", Decimal(1), Decimal("0.50"), Decimal("0.50"),
                                                   "01010101", "H87", taxes=(RATES["EXENTO"],)),) * 4)
def test_tax_excluded_prices_total_erpnexts_grand_total_to_the_centavo(lines):
    grand_total = erpnext_grand_total(lines)
    built = build_invoice(sale(lines=lines, grand_total=grand_total, change_amount=Decimal(0)), NOW)
    assert sat_total(built.body) == grand_total


def treatment_fraction(taxes) -> Decimal:
    """ERPNext's cumulated tax fraction: IEPS on net total, IVA on the previous row's total."""
    ieps = sum((t.rate for t in taxes if t.type == "IEPS"), Decimal(0))
    iva = sum((t.rate for t in taxes if t.type == "IVA" and t.factor == "Tasa"), Decimal(0))
    return ieps + iva * (1 + ieps)


@st.composite
def treatments(draw):
    iva = draw(st.sampled_from(sorted(RATES)))
    ieps = draw(st.sampled_from([None, None, None, *sorted(IEPS)]))
    if ieps and draw(st.integers(0, 4)) == 0:
        return (IEPS[ieps],)                      # IEPS alone (no IVA row for the item)
    return (IEPS[ieps], RATES[iva]) if ieps else (RATES[iva],)


@st.composite
def included_sales(draw):
    """Shelf prices with taxes included, as ERPNext keeps such a sale: gross amounts, net amounts in
    cents, an optional document discount on the grand total spread over the net amounts."""
    lines, gross = [], Decimal(0)
    for n in range(draw(st.integers(1, 40))):
        weighed = draw(st.integers(0, 3)) == 0
        qty = draw(st.decimals("0.005", "12", places=3)) if weighed else Decimal(draw(st.integers(1, 40)))
        shelf = draw(st.one_of(st.sampled_from([Decimal("1.00"), Decimal("19.90"), Decimal("9.90"),
                                                Decimal("0.50"), Decimal("99.00")]),
                               st.decimals("0.5", "3000", places=2)))
        discount_pct = draw(st.sampled_from([0, 0, 0, 5, 10, 12.5, 33]))
        rate = erpnext_round(shelf * (1 - Decimal(str(discount_pct)) / 100))
        amount = erpnext_round(qty * rate)
        taxes = draw(treatments())
        net = erpnext_round(amount / (1 + treatment_fraction(taxes)))
        list_net = shelf / (1 + treatment_fraction(taxes))
        lines.append(Line(f"ITEM-{n}", "x", qty, list_net, net, "01010101", "H87", taxes=taxes))
        gross += amount
    discount = Decimal(0)
    if draw(st.integers(0, 4)) == 0 and gross > 1:
        discount = erpnext_round(gross * Decimal(draw(st.sampled_from(["0.05", "0.1", "0.155"]))))
        lines = [replace(line, net_amount=erpnext_round(line.net_amount - discount * line.net_amount / gross))
                 for line in lines]
    assume(gross - discount > 0)  # a sale worth nothing has no payment form (validated apart)
    return tuple(lines), gross - discount


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(included_sales(), st.booleans())
@example(((Line("PAN", "x", Decimal(1), Decimal(1) / Decimal("1.16"), Decimal("0.86"), "01010101", "H87",
                taxes=(RATES["IVA16"],)),) * 37, Decimal("37.00")), False)
def test_tax_included_prices_total_what_the_customer_paid_to_the_centavo(included, ieps_apart):
    """37 loaves at $1.00 used to give a CFDI of 36.91 for 37.00 paid."""
    lines, paid = included
    who = receiver(ieps_breakdown=ieps_apart)
    built = build_invoice(sale(lines=lines, grand_total=paid, receiver=who, change_amount=Decimal(0),
                               payments=(Payment("01", paid),)), NOW)
    assert sat_total(built.body) == paid


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(included_sales())
def test_a_credit_note_for_a_tax_included_return_totals_the_refund(included):
    lines, paid = included
    negative = tuple(replace(line, quantity=-line.quantity, net_amount=-line.net_amount) for line in lines)
    sale_return = sale(lines=negative, grand_total=-paid, payments=(Payment("01", -paid),), change_amount=Decimal(0))
    assert sat_total(build_credit_note(sale_return, UUID, NOW).body) == paid


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(included_sales(), min_size=1, max_size=30))
def test_a_global_of_tax_included_tickets_totals_what_the_tickets_were_paid(tickets):
    period = Period("day", NOW.date(), NOW.date())
    found = [Ticket(f"T-{n}", lines, (Payment("01", paid),), total=paid) for n, (lines, paid) in enumerate(tickets)]
    assert sat_total(build_global(found, period, "06600").body) == sum(paid for _lines, paid in tickets)

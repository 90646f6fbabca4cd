"""Property: for any generated POS sale, the CFDI total our body produces equals ERPNext's grand
total to the centavo.

ERPNext (taxes_and_totals.py) rounds each item's net amount to cents, accumulates each tax row
unrounded over the items and rounds the row; SAT computes concept taxes at six decimals and rounds
the document sums. With one rate per ERPNext tax row these agree exactly; the CFDI carries
grand_total, never rounded_total (the peso rounding adjustment is not a taxable concept).
"""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mexico_localization.cfdi.mapping import build_invoice
from mexico_localization.cfdi.model import Line, Tax
from mexico_localization.testing.totals import sat_total
from tests.cfdi_samples import NOW, sale

RATES = {"IVA16": Tax("IVA", Decimal("0.16")), "IVA8": Tax("IVA", Decimal("0.08")),
         "IVA0": Tax("IVA", Decimal(0)), "EXENTO": Tax("IVA", Decimal(0), factor="Exento")}


def erpnext_round(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


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
def test_body_total_equals_erpnext_grand_total_to_the_centavo(lines):
    grand_total = erpnext_grand_total(lines)
    built = build_invoice(sale(lines=lines, grand_total=grand_total, change_amount=Decimal(0)), NOW)
    assert sat_total(built.body) == grand_total

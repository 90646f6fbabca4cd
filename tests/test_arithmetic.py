"""SAT's arithmetic and the fitting of concept bases to what the customer paid (cfdi/arithmetic.py),
by hand-checked cases; the generated ones are in test_cfdi_totals.py."""

from decimal import Decimal as D

from mexico_localization.cfdi.arithmetic import (
    IEPS_NOT_STATED,
    charged_total,
    concept_amounts,
    document_total,
    fit_to_total,
    fold_ieps,
)
from mexico_localization.cfdi.mapping import concept
from mexico_localization.cfdi.model import Line, Tax
from mexico_localization.testing.totals import sat_total

IVA16, IEPS8 = Tax("IVA", D("0.16")), Tax("IEPS", D("0.08"))


def loaf(net="0.86") -> Line:
    return Line("PAN", "Bolillo", D(1), D(net), D(net), "50181900", "H87", taxes=(IVA16,))


def test_erpnexts_net_amounts_of_37_one_peso_loaves_total_36_91_and_the_fit_brings_37_00():
    lines = [loaf()] * 37
    assert document_total([concept_amounts(line) for line in lines]) == D("36.91")
    fitted = fit_to_total(lines, D("37.00"))
    assert sat_total({"items": [concept(line) for line in fitted]}) == D("37.00")
    assert all(abs(line.net_amount - D(1) / D("1.16")) < D("0.0001") for line in fitted)  # each ≈ 0.862069


def test_the_shelf_total_is_what_a_tax_included_sale_charges_unless_the_gap_is_not_rounding():
    assert charged_total(D("36.91"), D("37.00"), lines=37) == D("37.00")
    assert charged_total(D("185.60"), None, lines=1) == D("185.60")          # tax-excluded prices
    assert charged_total(D("88.40"), D("90.00"), lines=2) == D("88.40")      # a discount on the net total
    assert charged_total(D("36.91"), D("37.00"), lines=37, paid=D("37.00")) == D("37.00")
    assert charged_total(D("36.91"), D("37.00"), lines=37, paid=D("36.91")) == D("36.91")  # charged ERPNext's
    assert charged_total(D("36.91"), D("37.00"), lines=37, paid=D("20.00")) == D("36.91")  # owed: the receivable
    assert charged_total(D("-36.91"), D("-37.00"), lines=37, paid=D("-37.00")) == D("-37.00")  # refunded


def test_a_gap_larger_than_rounding_is_left_alone():
    lines = [loaf()] * 3
    assert fit_to_total(lines, D("10.00")) == tuple(lines)


def test_ieps_joins_the_iva_base_and_document_taxes_round_per_rate():
    """3 snacks at $20 with IEPS 8 % + IVA 16 %: base 47.89, IEPS 3.83, IVA on 51.72 = 8.28; 60.00."""
    snacks = Line("BOTANA", "Papas", D(3), D("15.963333"), D("47.89"), "50192100", "H87", taxes=(IEPS8, IVA16))
    amounts = concept_amounts(snacks)
    assert dict(amounts.taxes)[(("IVA", "Tasa", D("0.16")), False)] == D("8.275392")  # 0.16 × (47.89 + 3.8312)
    assert document_total([amounts]) == D("60.00")


def test_ieps_folded_into_the_price_keeps_the_same_iva_and_total():
    snacks = Line("BOTANA", "Papas", D(3), D("15.963333"), D("47.89"), "50192100", "H87", taxes=(IEPS8, IVA16))
    folded = fold_ieps(snacks)
    assert folded.taxes == (IVA16,) and folded.net_amount == D("51.721200")
    assert document_total([concept_amounts(folded)]) == document_total([concept_amounts(snacks)])
    assert fold_ieps(Line("X", "x", D(1), D(10), D(10), "50192100", "H87", taxes=(IEPS8,))).taxability \
        == IEPS_NOT_STATED

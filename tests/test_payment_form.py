"""One payment-form rule (cfdi/payment_form.py) for a sale's own CFDI and for the global: the form
that settled the most, summed across rows of the same form, change out of cash."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from mexico_localization.cfdi.global_cfdi import Period, Ticket, build_global
from mexico_localization.cfdi.mapping import build_invoice
from mexico_localization.cfdi.model import Payment
from mexico_localization.cfdi.payment_form import dominant_form, settled_by_form
from tests.cfdi_samples import IVA16, NOW, line, sale

# Cash in pesos, cash in dollars (a Mode of Payment of its own, SAT form 01 too) and a card.
MIXED = (Payment("01", D(50), "Efectivo"), Payment("01", D(50), "Efectivo USD"), Payment("04", D(60), "Tarjeta"))


def test_cash_in_two_currencies_counts_as_one_form():
    assert settled_by_form([(MIXED, D(0))]) == {"01": D(100), "04": D(60)}
    assert dominant_form([(MIXED, D(0))]) == "01"


def test_the_nominative_cfdi_and_the_global_agree_on_a_mixed_ticket():
    lines = (line(quantity=D(1), unit_price=D("137.93"), net_amount=D("137.93"), taxes=(IVA16,)),)
    nominative = build_invoice(sale(lines=lines, payments=MIXED, change_amount=D(0), grand_total=D(160)), NOW)
    ticket = Ticket("T-1", lines, MIXED, D(0))
    day = date(2026, 11, 25)
    global_ = build_global([ticket], Period("day", day, day), "06600")
    assert nominative.body["payment_form"] == global_.body["payment_form"] == "01"


def test_change_comes_out_of_cash_before_forms_are_compared():
    paid = (Payment("01", D(100), "Efectivo"), Payment("01", D(20), "Efectivo USD"), Payment("28", D(90), "Débito"))
    assert dominant_form([(paid, D(40))]) == "28"  # cash settled 80
    assert dominant_form([(paid, D(0))]) == "01"


def test_a_tie_goes_to_cash_and_nothing_received_is_cash():
    assert dominant_form([((Payment("04", D(50)), Payment("01", D(50))), D(0))]) == "01"
    assert dominant_form([]) == "01"

"""The global CFDI to público en general: periods, one concept per ticket, totals, payment form, chunks."""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mexico_localization.cfdi.global_cfdi import (
    DAY,
    FORTNIGHT,
    MAX_TICKETS,
    MONTH,
    SAT_PERIODICITY,
    TWO_MONTHS,
    WEEK,
    Ticket,
    build_global,
    chunked,
    period_of,
    ticket_concepts,
)
from mexico_localization.cfdi.model import Payment, Tax
from mexico_localization.cfdi.payment_form import dominant_form
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.testing.totals import sat_total
from tests.cfdi_samples import IVA16, line

IVA0 = Tax("IVA", D(0))
DAY_25 = period_of(date(2026, 11, 25), DAY)


def ticket(name="T-1", lines=None, payments=None, change=D(0)) -> Ticket:
    return Ticket(name, tuple(lines or (line(),)), tuple(payments or (Payment("01", D("185.60"), "Efectivo"),)),
                  change)


def test_a_day_of_tickets_becomes_one_concept_per_ticket():
    tickets = [ticket("T-1"), ticket("T-2", lines=(line(quantity=D(1), net_amount=D("80.00")),),
                                     payments=(Payment("04", D("92.80"), "Tarjeta"),))]
    built = build_global(tickets, DAY_25, "06600", series="G")
    assert built.body == {
        "type": "I",
        "customer": {"legal_name": "PUBLICO EN GENERAL", "tax_id": "XAXX010101000", "tax_system": "616",
                     "address": {"zip": "06600"}},
        "use": "S01", "payment_form": "01", "payment_method": "PUE",
        "items": [
            {"quantity": 1, "discount": 0, "product": {
                "description": "Venta", "product_key": "01010101", "unit_key": "ACT", "price": 160,
                "tax_included": False, "taxability": "02", "taxes": [{"type": "IVA", "rate": 0.16}], "sku": "T-1"}},
            {"quantity": 1, "discount": 0, "product": {
                "description": "Venta", "product_key": "01010101", "unit_key": "ACT", "price": 80,
                "tax_included": False, "taxability": "02", "taxes": [{"type": "IVA", "rate": 0.16}], "sku": "T-2"}},
        ],
        "address": {"zip": "06600"},
        "global": {"periodicity": "day", "months": "11", "year": 2026},
        "series": "G",
    }
    assert sat_total(built.body) == D("278.40") and not built.late_stamp and "date" not in built.body


def test_a_ticket_mixing_tax_treatments_gets_one_concept_for_each_under_its_number():
    mixed = ticket(lines=(line(net_amount=D("100")), line(item_code="B", net_amount=D("50"), taxes=(IVA0,)),
                          line(item_code="C", net_amount=D("20")), line(item_code="D", net_amount=D("5"),
                                                                          taxes=(), taxability="01")))
    concepts = ticket_concepts(mixed)
    assert [(c.item_code, c.net_amount, c.taxes, c.taxability) for c in concepts] == [
        ("T-1", D("120"), (IVA16,), "02"), ("T-1", D("50"), (IVA0,), "02"), ("T-1", D("5"), (), "01")]
    assert {(c.quantity, c.product_key, c.unit_key, c.description) for c in concepts} == {
        (D(1), "01010101", "ACT", "Venta")}


def test_returns_before_the_global_are_netted_and_a_fully_returned_ticket_drops_out():
    partly = ticket("T-1", lines=(line(), line(quantity=D(-1), net_amount=D("-80.00"))))
    fully = ticket("T-2", lines=(line(), line(quantity=D(-2), net_amount=D("-160.00"))))
    assert [c.net_amount for c in ticket_concepts(partly)] == [D("80.00")]
    assert ticket_concepts(fully) == []
    built = build_global([partly, fully], DAY_25, "06600")
    assert [i["product"]["sku"] for i in built.body["items"]] == ["T-1"]
    with pytest.raises(CfdiDataError) as raised:
        build_global([fully], DAY_25, "06600")
    assert [p.code for p in raised.value.problems] == ["global_empty"]


def global_form(tickets) -> str:
    return dominant_form((t.payments, t.change_amount) for t in tickets)


def test_payment_form_is_the_one_that_received_the_most_net_of_change():
    cash_with_change = ticket("T-1", payments=(Payment("01", D(500)),), change=D("314.40"))   # 185.60 cash
    card = ticket("T-2", payments=(Payment("04", D("185.60")), Payment("01", D(10))), change=D(10))  # 185.60 card
    bigger_card = ticket("T-3", payments=(Payment("28", D("185.60")),))
    assert global_form([cash_with_change, card]) == "01"      # a tie goes to cash
    assert global_form([cash_with_change, card, bigger_card, card]) == "04"
    assert global_form([ticket(payments=(Payment("01", D(-5)),))]) == "01"


def test_problems_are_listed_in_words_before_anything_is_sent():
    bad = [ticket("T-1", payments=(Payment("", D(100), "Vales"),),
                  lines=(line(taxes=(Tax("IEPS", D("1.5"), factor="Cuota"),)), line(taxes=(Tax("IVA", D("0.11")),))))]
    with pytest.raises(CfdiDataError) as raised:
        build_global(bad, DAY_25, "066")
    assert [p.code for p in raised.value.problems] == ["expedition_zip", "payment_form", "global_cuota", "iva_rate"]
    assert "Vales" in str(raised.value) and "T-1" in str(raised.value)


@pytest.mark.parametrize(("day", "periodicity", "start", "end", "months"), [
    (date(2026, 11, 25), DAY, date(2026, 11, 25), date(2026, 11, 25), "11"),
    (date(2026, 11, 25), WEEK, date(2026, 11, 23), date(2026, 11, 29), "11"),
    (date(2026, 12, 1), WEEK, date(2026, 12, 1), date(2026, 12, 6), "12"),     # the week is cut at the month start
    (date(2026, 11, 30), WEEK, date(2026, 11, 30), date(2026, 11, 30), "11"),  # ... and at its end
    (date(2026, 2, 15), FORTNIGHT, date(2026, 2, 1), date(2026, 2, 15), "02"),
    (date(2026, 2, 16), FORTNIGHT, date(2026, 2, 16), date(2026, 2, 28), "02"),
    (date(2028, 2, 29), MONTH, date(2028, 2, 1), date(2028, 2, 29), "02"),
    (date(2026, 1, 31), TWO_MONTHS, date(2026, 1, 1), date(2026, 2, 28), "13"),
    (date(2026, 12, 3), TWO_MONTHS, date(2026, 11, 1), date(2026, 12, 31), "18"),
])
def test_periods_and_their_sat_month_keys(day, periodicity, start, end, months):
    period = period_of(day, periodicity)
    assert (period.start, period.end, period.months, period.year) == (start, end, months, start.year)
    assert period.as_facturapi() == {"periodicity": periodicity, "months": months, "year": start.year}


def test_the_deadline_is_24_hours_after_the_period_closes():
    week = period_of(date(2026, 11, 25), WEEK)
    assert str(week.closes_at()) == "2026-11-30 00:00:00" and str(week.deadline()) == "2026-12-01 00:00:00"
    assert DAY_25.key == "20261125" and week.key == "20261123-20261129"
    assert SAT_PERIODICITY == {"day": "01", "week": "02", "fortnight": "03", "month": "04", "two_months": "05"}


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
       st.sampled_from([DAY, WEEK, FORTNIGHT, MONTH, TWO_MONTHS]))
def test_every_day_falls_in_a_period_that_contains_it_and_stays_in_one_month_key(day, periodicity):
    period = period_of(day, periodicity)
    assert period.start <= day <= period.end
    assert period_of(period.start, periodicity) == period == period_of(period.end, periodicity)
    assert period.start.year == period.end.year
    if periodicity != TWO_MONTHS:
        assert period.start.month == period.end.month


def test_tickets_are_chunked_in_order_and_a_global_never_exceeds_facturapis_item_limit():
    names = [f"T-{n}" for n in range(5)]
    assert chunked(names, 2) == [["T-0", "T-1"], ["T-2", "T-3"], ["T-4"]]
    assert chunked(names, 0) == [[n] for n in names] and len(chunked(["x"] * 4000, 9999)[0]) == MAX_TICKETS
    withheld = [Tax("ISR", D(n) / 10000, withholding=True) for n in range(1, 5002)]
    wide = ticket(lines=tuple(line(item_code=str(n), taxes=(Tax("IVA", D("0.16")), isr))
                              for n, isr in enumerate(withheld)))
    with pytest.raises(CfdiDataError) as raised:
        build_global([wide], DAY_25, "06600")
    assert [p.code for p in raised.value.problems] == ["global_too_many"]

"""Self-invoicing rules that need no database: the ticket's link, the cut-off, the typed total, the
uses a buyer is offered and what the page shows of an e-mail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from mexico_localization.cfdi import self_invoice
from mexico_localization.cfdi.catalogs import CFDI_USES
from mexico_localization.cfdi.ticket import new_ticket_code, normalized


def test_the_ticket_link_opens_the_page_with_its_code():
    code = new_ticket_code()
    url = self_invoice.ticket_url("https://facturas.mitienda.mx/ ", code)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "facturas.mitienda.mx", "/factura")
    assert normalized(parse_qs(parts.query)["codigo"][0]) == code


@pytest.mark.parametrize(("sold", "until"), [
    (date(2026, 1, 15), date(2026, 1, 31)), (date(2028, 2, 3), date(2028, 2, 29)),   # leap year
    (date(2026, 2, 28), date(2026, 2, 28)), (date(2026, 12, 31), date(2026, 12, 31)),
])
def test_by_default_a_ticket_can_be_self_invoiced_until_the_end_of_its_month(sold, until):
    assert self_invoice.deadline(sold, self_invoice.END_OF_MONTH) == until
    assert self_invoice.deadline(sold, None) == until


def test_a_term_in_days_counts_from_the_sale():
    assert self_invoice.deadline(date(2026, 1, 30), self_invoice.DAYS_AFTER, 3) == date(2026, 2, 2)
    assert self_invoice.deadline(date(2026, 1, 30), self_invoice.DAYS_AFTER, 0) == date(2026, 1, 30)
    assert self_invoice.deadline(date(2026, 1, 30), self_invoice.DAYS_AFTER, None) == date(2026, 1, 31)


@pytest.mark.parametrize(("typed", "amount"), [
    ("19.90", "19.90"), ("$19.90", "19.90"), ("19.9", "19.90"), (" 19,90 ", "19.90"), ("$1,234.50", "1234.50"),
    ("1,234", "1234.00"), ("1234", "1234.00"), ("$ 1 234.50 MXN", "1234.50"), ("189.90 M.N.", "189.90"),
])
def test_the_total_is_read_as_mexican_buyers_type_it(typed, amount):
    assert self_invoice.typed_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", None, "abc", "-19.90", "NaN", "Infinity", "19.90.1", "1e400"])
def test_what_is_not_an_amount_matches_nothing(typed):
    assert not self_invoice.total_matches(typed, [Decimal("19.90")])


def test_the_total_matches_what_the_ticket_prints_to_the_centavo():
    printed = [Decimal("116.49"), Decimal("116.50")]  # grand total and rounded total
    assert self_invoice.total_matches("116.49", printed)
    assert self_invoice.total_matches("116.5", printed)
    assert not self_invoice.total_matches("116.48", printed)
    assert not self_invoice.total_matches("116", printed)
    assert not self_invoice.total_matches("0", [Decimal("0"), Decimal("0")])  # an empty total opens nothing


def test_the_uses_offered_are_sat_s_for_the_regime_and_persona_and_are_a_purchase_s():
    person = "GODE561231GR8"   # persona física
    company = "EKU9003173C9"   # persona moral
    assert "D01" in self_invoice.uses_for("605", person)
    assert "G03" not in self_invoice.uses_for("605", person)          # salaried: no business expenses
    assert "G03" in self_invoice.uses_for("601", company)
    assert not {u for u in self_invoice.uses_for("601", company) if u.startswith("D")}  # deductions are personal
    assert self_invoice.uses_for("616", person) == ["S01"]
    for regime in ("601", "605", "612", "626"):
        offered = set(self_invoice.uses_for(regime, company if regime == "601" else person))
        assert not offered & {"CP01", "CN01", "G02"}
        assert all(regime in CFDI_USES[u].regimes for u in offered)


def test_an_email_is_shown_masked():
    assert self_invoice.masked_email("juana.perez@example.com") == "j•••@example.com"
    assert self_invoice.masked_email("") == self_invoice.masked_email("not-an-address") == ""


def test_generic_rfcs_are_not_a_buyer_s():
    assert self_invoice.is_generic("xaxx010101000")
    assert self_invoice.is_generic("XEXX-010101-000")
    assert not self_invoice.is_generic("GODE561231GR8")

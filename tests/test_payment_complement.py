"""Payment complements: oldest-first allocation, installments, balances, taxes of the paid share."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mexico_localization.cfdi.model import Tax
from mexico_localization.cfdi.payment_complement import (
    DeferredSale,
    Received,
    allocate,
    build_payment_complement,
    complement_deadline,
    related_document,
)
from mexico_localization.cfdi.problems import CfdiDataError
from tests.cfdi_samples import CDMX, IVA16, NOW, line, receiver

U1, U2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def deferred(name="S-1", uuid=U1, days_ago=10, total=D("1160.00"), **kw) -> DeferredSale:
    return DeferredSale(name, uuid, NOW - timedelta(days=days_ago), total,
                        (line(quantity=D(10), unit_price=D(100), net_amount=D("1000.00")),), **kw)


def test_a_payment_goes_to_the_oldest_sale_first_and_the_excess_is_left_over():
    newer, older = deferred("S-2", U2, days_ago=3), deferred("S-1", U1, days_ago=9)
    allocations, left = allocate(D(1500), [newer, older])
    assert [(s.name, a) for s, a in allocations] == [("S-1", D("1160.00")), ("S-2", D("340.00"))]
    assert left == 0
    allocations, left = allocate(D(3000), [newer, older])
    assert left == D("680.00")


def test_installments_balances_and_the_taxes_of_the_paid_share():
    second = deferred(paid=D("580.00"), installments=1)
    doc = related_document(second, D("290.00"))
    assert doc == {"uuid": U1, "amount": 290, "installment": 2, "last_balance": 580, "taxability": "02",
                   "taxes": [{"type": "IVA", "rate": 0.16, "base": 250}]}


def test_credit_notes_reduce_the_balance():
    sale = deferred(paid=D(100), credited=D("116.00"))
    assert sale.balance == D("944.00")
    assert allocate(D(2000), [sale])[0] == [(sale, D("944.00"))]


def test_mixed_rates_and_withholdings_keep_their_own_bases():
    sale = DeferredSale("S-1", U1, NOW, D("1080.00"), (
        line(net_amount=D("500.00"), taxes=(IVA16,)),
        line(item_code="B", net_amount=D("500.00"), taxes=(Tax("IVA", D(0)),)),
        line(item_code="C", net_amount=D("0.00"), taxes=(), taxability="01")))
    doc = related_document(sale, D("540.00"))
    assert doc["taxes"] == [{"type": "IVA", "rate": 0.16, "base": 250}, {"type": "IVA", "rate": 0, "base": 250}]


def test_the_body_fits_facturapis_pago_shape():
    paid = Received("03", datetime(2026, 11, 20, 10, 30, tzinfo=CDMX), D(500), reference="SPEI-123", mode="Banco")
    sale = deferred()
    body = build_payment_complement(receiver(), paid, [(sale, D(500))], "06600")
    assert body["type"] == "P" and body["address"] == {"zip": "06600"}
    assert body["customer"]["tax_id"] == "EKU9003173C9"
    [complement] = body["complements"]
    assert complement["type"] == "pago"
    [data] = complement["data"]
    assert (data["payment_form"], data["date"], data["numOperacion"]) == ("03", "2026-11-20T10:30:00-06:00", "SPEI-123")
    assert data["related_documents"][0]["amount"] == 500


def test_a_payment_needs_a_real_form_and_a_balance_to_apply_to():
    paid = Received("99", NOW, D(10), mode="Por definir")
    with pytest.raises(CfdiDataError) as raised:
        build_payment_complement(receiver(), paid, [], "06600")
    assert [p.code for p in raised.value.problems] == ["payment_form", "complement_nothing_due"]
    with pytest.raises(CfdiDataError) as raised:
        build_payment_complement(receiver(), Received("03", NOW, D(5000)), [(deferred(), D(5000))], "06600")
    assert [p.code for p in raised.value.problems] == ["complement_over_balance"]


@pytest.mark.parametrize(("paid_on", "due"), [(date(2026, 11, 20), date(2026, 12, 5)),
                                              (date(2026, 12, 31), date(2027, 1, 5))])
def test_the_sat_deadline_is_the_5th_of_the_next_month(paid_on, due):
    assert complement_deadline(paid_on) == due


@given(st.lists(st.decimals(min_value=1, max_value=10000, places=2), min_size=1, max_size=6),
       st.decimals(min_value=0, max_value=60000, places=2))
def test_allocation_never_exceeds_a_balance_and_accounts_for_every_peso(totals, amount):
    sales = [deferred(f"S-{i}", U1, days_ago=i, total=t) for i, t in enumerate(totals)]
    allocations, left = allocate(amount, sales)
    assert all(0 < a <= s.balance for s, a in allocations)
    assert sum(a for _, a in allocations) + left == amount
    assert left == 0 or sum(a for _, a in allocations) == sum(totals)


def test_a_foreign_customers_complement_carries_the_same_receiver_as_its_invoice():
    """Anexo 20, Receptor: XEXX010101000 with the residence and the foreign tax id, the place of issue's zip."""
    from mexico_localization.cfdi.mapping import customer_body
    from mexico_localization.cfdi.model import Receiver

    foreign = Receiver("ACME INC", "XEXX010101000", "616", "", "S01", country="USA", foreign_tax_id="12-3456789")
    paid = Received("03", NOW, D(500))
    body = build_payment_complement(foreign, paid, [(deferred(), D(500))], "06600")
    assert body["customer"] == customer_body(foreign, "06600")
    assert body["customer"]["address"] == {"zip": "06600", "country": "USA"}
    assert body["customer"]["tax_id"] == "12-3456789"


def test_a_related_document_without_taxes_still_carries_its_taxes_list():
    """The spec marks a related document's taxes required: a sale of no tax object sends it empty."""
    untaxed = DeferredSale("S-0", U1, NOW - timedelta(days=3), D(100),
                           (line(quantity=D(1), unit_price=D(100), net_amount=D(100), taxes=(), taxability="01"),))
    body = build_payment_complement(receiver(), Received("03", NOW, D(100)), [(untaxed, D(100))], "06600")
    [document] = body["complements"][0]["data"][0]["related_documents"]
    assert (document["taxability"], document["taxes"]) == ("01", [])


def test_a_payment_is_dated_at_or_after_the_sales_it_pays_and_never_in_the_future():
    from mexico_localization.cfdi.payment_complement import payment_time

    sold = datetime(2026, 11, 25, 18, 40, tzinfo=CDMX)
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=CDMX)
    later = datetime(2026, 11, 26, 9, 0, tzinfo=CDMX)
    assert payment_time(noon, later, [sold]) == sold              # paid the same day, after the sale at 18:40
    assert payment_time(sold, later, [sold]) == sold              # a till payment: the sale's own moment
    assert payment_time(noon + timedelta(days=1), later, [sold]) == later  # never ahead of now
    assert payment_time(noon, later, []) == noon


SNACKS = line(item_code="BOTANA", quantity=D(3), unit_price=D("15.963333"), net_amount=D("47.89"),
              taxes=(Tax("IEPS", D("0.08")), IVA16))


def stamped_snacks_xml(ieps_apart: bool) -> bytes:
    from mexico_localization.cfdi.mapping import build_invoice
    from mexico_localization.cfdi.model import Payment
    from mexico_localization.testing.emulator.documents import invoice_xml, new_invoice, stamp
    from tests.cfdi_samples import sale

    built = build_invoice(sale(lines=(SNACKS,), grand_total=D("60.00"), payments=(Payment("99", D(0)),),
                               outstanding_amount=D("60.00"), receiver=receiver(ieps_breakdown=ieps_apart)), NOW)
    invoice = new_invoice(built.body, "org", 1)
    stamp(invoice)
    assert invoice["total"] == 60.0
    return invoice_xml(invoice)


@pytest.mark.parametrize("ieps_apart", [False, True])
def test_the_paid_share_of_the_stamped_invoices_own_tax_lines_iva_base_with_ieps(ieps_apart):
    """3 snacks at $20 (IEPS 8 % + IVA 16 %, LIVA art. 12 puts IEPS in the IVA base), $40 paid: the IVA
    base is 34.48, not the 31.93 of the net amount; IEPS shows only where the invoice showed it."""
    from mexico_localization.cfdi.stamped_xml import stamped_tax_bases

    bases = stamped_tax_bases(stamped_snacks_xml(ieps_apart))
    sale = DeferredSale("S-1", U1, NOW, D("60.00"), (SNACKS,), bases=bases)
    taxes = {t["type"]: t["base"] for t in related_document(sale, D(40))["taxes"]}
    assert taxes == ({"IEPS": 31.926667, "IVA": 34.480800} if ieps_apart else {"IVA": 34.4808})


def test_without_a_readable_xml_the_bases_come_from_the_lines_as_stated():
    from mexico_localization.cfdi.stamped_xml import stamped_tax_bases

    assert stamped_tax_bases(b"<not xml") is None and stamped_tax_bases(b"<Comprobante/>") is None
    sale = DeferredSale("S-1", U1, NOW, D("60.00"), (SNACKS,))
    taxes = {t["type"]: t["base"] for t in related_document(sale, D(40))["taxes"]}
    assert taxes == {"IEPS": 31.926667, "IVA": 34.4808}


def usd_sale(**kw) -> DeferredSale:
    return deferred(total=D("116.00"), currency="USD", **kw)


@pytest.mark.parametrize(("sale_currency", "paid_in", "rate", "rates", "expected"), [
    ("USD", "MXN", D(1), (("USD", D("17.25")),), {"currency": "USD", "exchange": 0.0579710145}),  # USD per MXN
    ("USD", "USD", D("17.25"), (), {"currency": "USD"}),                                       # same: 1, implied
    ("MXN", "USD", D("17.25"), (), {"exchange": 17.25}),                                       # MXN per USD
])
def test_a_complement_states_each_related_cfdis_currency_and_its_equivalence_to_the_payments(
        sale_currency, paid_in, rate, rates, expected):
    """Pagos 2.0: ImpPagado and ImpSaldoAnt are in MonedaDR; EquivalenciaDR is the units of MonedaDR
    worth one unit of MonedaP when they differ."""
    sale = deferred(total=D("116.00"), currency=sale_currency)
    paid = Received("03", NOW, D(116), currency=paid_in, exchange_rate=rate, rates=rates)
    body = build_payment_complement(receiver(), paid, [(sale, D(116))], "06600")
    [data] = body["complements"][0]["data"]
    [doc] = data["related_documents"]
    assert {k: doc[k] for k in ("currency", "exchange") if k in doc} == expected
    assert (data.get("currency"), data.get("exchange")) == ((None, None) if paid_in == "MXN" else (paid_in, 17.25))


def test_a_missing_rate_for_the_related_cfdis_currency_is_named():
    with pytest.raises(CfdiDataError) as raised:
        build_payment_complement(receiver(), Received("03", NOW, D(116)), [(usd_sale(), D(116))], "06600")
    assert [p.code for p in raised.value.problems] == ["complement_exchange"]


def test_a_till_payment_in_several_forms_is_one_pago_node_per_form_each_a_further_installment():
    """Pagos 2.0: FormaDePagoP is one per Pago node; $300 cash and $200 card on a $1,160 PPD sale are two
    payments: installment 1 (balance 1,160) and installment 2 (balance 860)."""
    from mexico_localization.cfdi.payment_complement import build_payments, till_payments

    payments = till_payments(deferred(), {"04": D(200), "01": D(300), "28": D(0)}, NOW)
    body = build_payments(receiver(), payments, "06600")
    nodes = body["complements"][0]["data"]
    assert [(n["payment_form"], n["related_documents"][0]["amount"], n["related_documents"][0]["installment"],
             n["related_documents"][0]["last_balance"]) for n in nodes] == [("01", 300, 1, 1160), ("04", 200, 2, 860)]

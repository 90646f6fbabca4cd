"""Returns as CFDI de egreso and substitutes: relations, use, payment form, amounts."""

from decimal import Decimal as D

import pytest

from mexico_localization.cfdi.catalogs import PUBLIC_RFC
from mexico_localization.cfdi.credit_note import as_substitute, build_credit_note
from mexico_localization.cfdi.mapping import build_invoice
from mexico_localization.cfdi.model import Payment, Receiver
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.testing.totals import sat_total
from tests.cfdi_samples import NOW, line, receiver, sale

UUID = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"


def a_return(**changes):
    base = dict(name="ACC-PSINV-RET-1", lines=(line(quantity=D(-1), net_amount=D("-80.00")),),
                payments=(Payment("01", D("-92.80"), "Efectivo"),), change_amount=D(0), grand_total=D("-92.80"))
    return sale(**{**base, **changes})


def test_a_return_is_an_egreso_related_03_to_the_original():
    built = build_credit_note(a_return(), UUID, NOW)
    body = built.body
    assert (body["type"], body["use"], body["payment_form"], body["payment_method"]) == ("E", "G02", "01", "PUE")
    assert body["related_documents"] == [{"relationship": "03", "documents": [UUID]}]
    [item] = body["items"]
    assert (item["quantity"], item["product"]["price"], item["discount"]) == (1, 80, 0)
    assert item["product"]["taxes"] == [{"type": "IVA", "rate": 0.16}]
    assert body["customer"]["tax_id"] == "EKU9003173C9"
    assert sat_total(built.body) == D("92.80")


def test_a_walk_in_return_goes_to_publico_en_general_with_use_s01():
    public = Receiver("Mostrador", PUBLIC_RFC, "616", "", "S01", is_public=True)
    body = build_credit_note(a_return(receiver=public), UUID, NOW).body
    assert body["customer"] == {"legal_name": "PUBLICO EN GENERAL", "tax_id": PUBLIC_RFC, "tax_system": "616",
                                "address": {"zip": "06600"}}
    assert body["use"] == "S01"


def test_without_a_refund_on_the_return_the_original_payment_form_is_used():
    body = build_credit_note(a_return(payments=()), UUID, NOW, refund=(Payment("28", D(100), "Débito"),)).body
    assert body["payment_form"] == "28"
    with pytest.raises(CfdiDataError) as raised:
        build_credit_note(a_return(payments=()), UUID, NOW)
    assert [p.code for p in raised.value.problems] == ["no_payment"]


def test_receiver_problems_block_the_egreso_too():
    with pytest.raises(CfdiDataError) as raised:
        build_credit_note(a_return(receiver=Receiver("", "", "", "", "")), UUID, NOW)
    assert {"rfc_missing", "regime_missing"} <= {p.code for p in raised.value.problems}


def test_a_substitute_carries_relation_04_to_the_cfdi_it_replaces():
    built = as_substitute(build_invoice(sale(), NOW), UUID)
    assert built.body["related_documents"] == [{"relationship": "04", "documents": [UUID]}]
    assert built.body["type"] == "I" and sat_total(built.body) == D("185.60")


@pytest.mark.parametrize(("regime", "use"), [
    ("601", "G02"), ("612", "G02"), ("626", "G02"),
    ("605", "S01"), ("607", "S01"), ("608", "S01"), ("610", "S01"), ("611", "S01"), ("614", "S01"),
    ("615", "S01"), ("616", "S01"),
])
def test_a_credit_note_uses_g02_only_where_the_receivers_regime_allows_it(regime, use):
    """c_UsoCFDI: G02 admits the business regimes only; S01 admits every regime."""
    persona_rfc = "EKU9003173C9" if regime in ("601", "626") else "GODE561231GR8"
    sale_return = sale(receiver=receiver(tax_system=regime, tax_id=persona_rfc, cfdi_use="S01"),
                       lines=(line(quantity=D(-1), net_amount=D("-80.00")),), grand_total=D("-92.80"),
                       payments=(), change_amount=D(0))
    body = build_credit_note(sale_return, UUID, NOW, refund=(Payment("01", D("92.80")),)).body
    assert body["use"] == use


@pytest.mark.parametrize(("balance_due", "refund", "form"), [
    (D("500.00"), (), "15"),                                       # unpaid PPD sale: the balance is reduced
    (D("500.00"), (Payment("03", D(100), "Transferencia"),), "15"),
    (D("20.00"), (Payment("03", D(100), "Transferencia"),), "03"),  # mostly paid back as the sale was paid
])
def test_a_return_that_only_lowers_an_unpaid_balance_is_settled_by_condonation(balance_due, refund, form):
    """A credit note on a PPD sale still owed moves no money: FormaPago 15 (Condonación), not the
    original's form, nor a "no payment" block."""
    body = build_credit_note(a_return(payments=()), UUID, NOW, refund=refund, balance_due=balance_due).body
    assert (body["payment_form"], body["payment_method"]) == (form, "PUE")

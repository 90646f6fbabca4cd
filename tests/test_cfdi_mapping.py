"""A sale becomes the FacturaAPI body: taxes, discounts, payment form, PPD, dates, currency."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from mexico_localization.cfdi.mapping import build_invoice
from mexico_localization.cfdi.model import Payment, Receiver, Tax
from mexico_localization.cfdi.payment_form import dominant_form
from mexico_localization.cfdi.problems import CfdiDataError
from mexico_localization.testing.totals import sat_total
from tests.cfdi_samples import IVA16, NOW, line, receiver, sale


def body_of(**changes):
    return build_invoice(sale(**changes), NOW).body


def test_nominative_sale_body():
    built = build_invoice(sale(), NOW)
    assert built.body == {
        "type": "I",
        "customer": {"legal_name": "ESCUELA KEMPER URGATE", "tax_id": "EKU9003173C9", "tax_system": "601",
                     "address": {"zip": "26015"}, "email": "compras@example.com"},
        "use": "G03", "payment_form": "01", "payment_method": "PUE",
        "items": [{"quantity": 2, "discount": 0, "product": {
            "description": "Café de olla 250 g", "product_key": "50201706", "unit_key": "H87", "price": 80,
            "tax_included": False, "taxability": "02", "taxes": [{"type": "IVA", "rate": 0.16}],
            "sku": "CAFE-250", "unit_name": "Pieza"}}],
        "address": {"zip": "06600"}, "series": "POS1", "date": "2026-11-25T11:55:00-06:00",
    }
    assert sat_total(built.body) == D("185.60") and not built.late_stamp


def test_line_discount_is_sent_as_the_total_discount_of_the_line():
    [item] = body_of(lines=(line(quantity=D(3), unit_price=D("100"), net_amount=D("270.00")),))["items"]
    assert (item["quantity"], item["product"]["price"], item["discount"]) == (3, 100, 30)


def test_a_price_that_already_carries_the_discount_is_sent_net():
    [item] = body_of(lines=(line(quantity=D(3), unit_price=D("80"), net_amount=D("255.00")),))["items"]
    assert item["product"]["price"] == 85 and item["discount"] == 0


@pytest.mark.parametrize(("taxes", "taxability", "expected"), [
    ((Tax("IVA", D("0.08")),), "02", [{"type": "IVA", "rate": 0.08}]),
    ((Tax("IVA", D(0)),), "02", [{"type": "IVA", "rate": 0}]),
    ((Tax("IVA", D(0), factor="Exento"),), "02", [{"type": "IVA", "rate": 0, "factor": "Exento"}]),
    ((Tax("IEPS", D("0.08")), IVA16), "02", [{"type": "IEPS", "rate": 0.08}, {"type": "IVA", "rate": 0.16}]),
    ((Tax("IEPS", D("1.5"), factor="Cuota"),), "02", [{"type": "IEPS", "rate": 1.5, "factor": "Cuota"}]),
    ((IVA16, Tax("ISR", D("0.0125"), withholding=True)), "02",
     [{"type": "IVA", "rate": 0.16}, {"type": "ISR", "rate": 0.0125, "withholding": True}]),
    ((), "01", []),
])
def test_tax_situations_for_a_receiver_who_asked_for_ieps_apart(taxes, taxability, expected):
    [item] = body_of(lines=(line(taxes=taxes, taxability=taxability),),
                     receiver=receiver(ieps_breakdown=True))["items"]
    assert item["product"]["taxes"] == expected and item["product"]["taxability"] == taxability


IEPS8 = Tax("IEPS", D("0.08"))


PUBLIC_WHO_ASKS = receiver(legal_name="PUBLICO EN GENERAL", tax_id="XAXX010101000", tax_system="616", zip="",
                           cfdi_use="S01", is_public=True, ieps_breakdown=True)


@pytest.mark.parametrize("who", [receiver(), PUBLIC_WHO_ASKS])
def test_ieps_is_inside_the_price_unless_an_ieps_taxpayer_asked_for_it_apart(who):
    """LIEPS art. 19-II: IEPS is stated apart only to an IEPS taxpayer who asks; everyone else (público
    en general included) gets it inside the price, IVA still on price + IEPS (LIVA art. 12)."""
    snacks = line(quantity=D(3), unit_price=D("15.96"), net_amount=D("47.89"), taxes=(IEPS8, IVA16))
    built = build_invoice(sale(lines=(snacks,), receiver=who, grand_total=D("60.00")), NOW)
    [item] = built.body["items"]
    assert item["product"]["taxes"] == [{"type": "IVA", "rate": 0.16}]
    assert item["product"]["taxability"] == "02"
    base = D(str(item["product"]["price"])) * 3 - D(str(item["discount"]))
    assert abs(base - D("51.72")) < D("0.01")          # 47.89 + IEPS 3.83
    assert sat_total(built.body) == D("60.00")


def test_ieps_alone_inside_the_price_is_no_iva_and_no_ieps_stated():
    """c_ObjetoImp 08, "No traslado del IVA, No desglose IEPS": an IEPS-only good sold to someone who
    may not see IEPS apart."""
    drink = line(quantity=D(1), unit_price=D("20"), net_amount=D("20.00"), taxes=(IEPS8,))
    [item] = body_of(lines=(drink,), grand_total=D("21.60"))["items"]
    assert (item["product"]["taxability"], item["product"]["taxes"]) == ("08", [])
    assert D(str(item["product"]["price"])) - D(str(item["discount"])) == D("21.60")
    [stated] = body_of(lines=(drink,), grand_total=D("21.60"), receiver=receiver(ieps_breakdown=True))["items"]
    assert (stated["product"]["taxability"], stated["product"]["taxes"]) == ("02", [{"type": "IEPS", "rate": 0.08}])


def test_payment_form_is_the_largest_net_of_change():
    card_and_cash = (Payment("04", D(100)), Payment("01", D(150)))
    assert dominant_form([(card_and_cash, D(0))]) == "01"
    assert dominant_form([(card_and_cash, D(60))]) == "04"  # cash really settled 90
    assert dominant_form([((Payment("28", D(200)), Payment("03", D(0))), D("14.4"))]) == "28"
    assert dominant_form([((), D(0))]) == "01"


def test_outstanding_balance_is_ppd_with_form_99():
    body = body_of(payments=(Payment("01", D(100)),), outstanding_amount=D("85.60"), change_amount=D(0))
    assert (body["payment_method"], body["payment_form"]) == ("PPD", "99")


def test_dates_older_than_70_hours_are_omitted_and_flagged():
    built = build_invoice(sale(posting=NOW - timedelta(hours=71)), NOW)
    assert "date" not in built.body and built.late_stamp
    assert build_invoice(sale(posting=NOW - timedelta(hours=69)), NOW).body["date"].endswith("-06:00")


def test_foreign_currency_carries_the_exchange_rate():
    body = body_of(currency="USD", exchange_rate=D("17.2534"))
    assert (body["currency"], body["exchange"]) == ("USD", 17.2534)


def test_public_receiver_uses_the_place_of_issue_zip():
    public = Receiver("Mostrador", "XAXX010101000", "616", "", "S01", is_public=True)
    customer = body_of(receiver=public)["customer"]
    assert customer == {"legal_name": "PUBLICO EN GENERAL", "tax_id": "XAXX010101000", "tax_system": "616",
                        "address": {"zip": "06600"}}


def test_foreign_receiver_sends_country_and_own_tax_id():
    foreign = Receiver("ACME INC", "XEXX010101000", "616", "", "S01", country="USA", foreign_tax_id="12-3456789")
    customer = body_of(receiver=foreign)["customer"]
    assert customer["address"] == {"zip": "06600", "country": "USA"} and customer["tax_id"] == "12-3456789"


def test_folio_and_series():
    body = body_of(folio=1042, series="T01")
    assert (body["folio_number"], body["series"]) == (1042, "T01")


def test_blocking_problems_stop_the_build_and_are_all_listed():
    with pytest.raises(CfdiDataError) as caught:
        build_invoice(sale(receiver=receiver(tax_id="", cfdi_use=""), lines=(line(product_key=""),)), NOW)
    assert [p.code for p in caught.value.problems] == ["rfc_missing", "use_missing", "product_key"]


def test_warnings_do_not_stop_the_build():
    built = build_invoice(sale(receiver=receiver(tax_id="EKU9003173C8")), NOW)
    assert built.body["customer"]["tax_id"] == "EKU9003173C8"


def test_a_free_item_is_left_out_and_a_fully_discounted_one_is_no_tax_object():
    """Anexo 20: ValorUnitario above zero, and a tax's Base above zero."""
    gift = line(item_code="REGALO", quantity=D(1), unit_price=D(0), net_amount=D(0))
    promo = line(item_code="PROMO", quantity=D(2), unit_price=D("19.90"), net_amount=D(0))
    built = build_invoice(sale(lines=(line(), gift, promo)), NOW)
    assert built.left_out == ("REGALO",)
    skus = [item["product"]["sku"] for item in built.body["items"]]
    assert skus == ["CAFE-250", "PROMO"]
    [_, promo_body] = built.body["items"]
    assert (promo_body["product"]["price"], promo_body["discount"]) == (19.9, 39.8)
    assert (promo_body["product"]["taxability"], promo_body["product"]["taxes"]) == ("01", [])
    assert sat_total(built.body) == D("185.60")

from decimal import Decimal as D

import pytest

from mexico_localization.cfdi import rfc
from mexico_localization.cfdi.catalogs import CFDI_USES, REGIMES
from mexico_localization.cfdi.model import Line, Payment, Receiver, Tax
from mexico_localization.cfdi.rfc import has_valid_shape
from mexico_localization.cfdi.validation import (
    ZIP_PATTERN,
    line_problems,
    receiver_problems,
    sale_problems,
    valid_product_key,
    valid_unit_key,
)
from tests.cfdi_samples import receiver, sale

# SAT's published test RFCs: their check digits are right.
SAT_TEST_RFCS = ["EKU9003173C9", "CACX7605101P8", "GODE561231GR8", "URE180429TM6", "XIA190128J61", "IIA040805DZ4"]


@pytest.mark.parametrize("value", SAT_TEST_RFCS)
def test_check_digit_of_sat_test_rfcs(value):
    assert rfc.check_digit_matches(value)


@pytest.mark.parametrize(("value", "persona"), [
    ("EKU9003173C9", "Moral"), ("CACX7605101P8", "Física"), ("EKU900317", None), ("EKU9013173C9", None),
    ("EKU9003323C9", None), ("1KU9003173C9", None), ("ÑAÑ010101AB1", "Moral"),
])
def test_rfc_shape_and_persona(value, persona):
    assert rfc.persona(value) == persona


def test_rfc_is_normalized():
    assert rfc.normalize(" eku-900317 3c9 ") == "EKU9003173C9"


def codes(problems):
    return [p.code for p in problems]


def test_a_good_receiver_has_no_problems():
    assert receiver_problems(receiver(), "C") == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"tax_id": ""}, ["rfc_missing"]),
    ({"tax_id": "EKU90031"}, ["rfc_shape"]),
    ({"legal_name": ""}, ["legal_name_missing"]),
    ({"legal_name": "ESCUELA KEMPER URGATE S.A. DE C.V."}, ["legal_name_regime"]),
    ({"tax_system": ""}, ["regime_missing"]),
    ({"tax_system": "699"}, ["regime_unknown"]),
    ({"tax_system": "605"}, ["regime_persona", "use_regime"]),
    ({"cfdi_use": ""}, ["use_missing"]),
    ({"cfdi_use": "X99"}, ["use_unknown"]),
    ({"cfdi_use": "D01"}, ["use_persona", "use_regime"]),
    ({"zip": "660"}, ["zip_missing"]),
])
def test_each_receiver_problem_is_named(changes, expected):
    assert codes(receiver_problems(receiver(**changes), "C")) == expected


def test_wrong_check_digit_warns_but_does_not_block():
    [problem] = receiver_problems(receiver(tax_id="EKU9003173C8"), "Café Luna")
    assert problem.code == "rfc_check_digit" and not problem.blocking
    assert "EKU9003173C8" in problem.text and "Café Luna" in problem.text


def test_person_with_personal_deduction_use():
    person = receiver(tax_id="CACX7605101P8", legal_name="XOCHILT CASAS CHAVEZ", tax_system="612",
                      cfdi_use="D01")
    assert receiver_problems(person, "C") == []


def test_use_regime_message_lists_what_is_allowed():
    [problem] = receiver_problems(receiver(tax_id="CACX7605101P8", legal_name="XOCHILT CASAS CHAVEZ",
                                           tax_system="605", cfdi_use="G03"), "C")
    assert problem.code == "use_regime" and "S01" in problem.text and "D01" in problem.text


def test_public_and_foreign_receivers_follow_sat_rules():
    public = Receiver("PUBLICO EN GENERAL", "XAXX010101000", "616", "06600", "S01", is_public=True)
    assert receiver_problems(public, "C") == []
    assert codes(receiver_problems(Receiver("X", "XAXX010101000", "601", "", "G03", is_public=True), "C")) == [
        "public_rules"]
    foreign = Receiver("ACME INC", "XEXX010101000", "616", "06600", "S01", country="USA", foreign_tax_id="12-34")
    assert receiver_problems(foreign, "C") == []
    assert codes(receiver_problems(Receiver("ACME", "", "601", "", "G03", country="USA"), "C")) == [
        "foreign_rules"]


def test_line_problems():
    bad = Line("X", "X", D(0), D(-1), D(-1), "123", "h87", taxes=(Tax("IVA", D("0.15")),))
    assert codes(line_problems(bad, "Nos")) == ["product_key", "unit_key", "quantity", "negative_amount", "iva_rate"]


def test_sale_problems_are_all_reported_at_once():
    broken = sale(receiver=receiver(tax_id="", zip=""), expedition_zip="",
                  payments=(Payment("", D(100), mode="Vales"),))
    found = codes(sale_problems(broken, "C"))
    assert found == ["rfc_missing", "zip_missing", "expedition_zip", "payment_form"]


def test_catalogs_are_consistent():
    for use in CFDI_USES.values():
        assert use.regimes <= set(REGIMES), use.code
    assert REGIMES["616"].fisica and not REGIMES["616"].moral
    assert "616" in CFDI_USES["S01"].regimes and "616" not in CFDI_USES["G03"].regimes


@pytest.mark.parametrize("bad", ["06600\n", "0660٠", "06600 ", "\u0966\u0966\u0966\u0966\u0966", "6600"])
def test_a_zip_is_five_ascii_digits_and_nothing_else(bad):
    assert ZIP_PATTERN.fullmatch("06600")
    assert not ZIP_PATTERN.fullmatch(bad)
    assert any(p.code == "zip_missing" for p in receiver_problems(receiver(zip=bad), "X"))


@pytest.mark.parametrize("bad", ["50201706\n", "5020170٦", "５０２０１７０６"])
def test_keys_and_rfcs_take_ascii_digits_only(bad):
    assert valid_product_key("50201706") and not valid_product_key(bad)
    assert not valid_unit_key("H87\n") and valid_unit_key("H87")
    assert has_valid_shape("EKU9003173C9") and not has_valid_shape("EKU9003173C9\n")
    assert not has_valid_shape("EKU９００３１７3C9")


@pytest.mark.parametrize(("regime", "rfc_value"), [("628", "EKU9003173C9"), ("629", "GODE561231GR8"),
                                                   ("630", "GODE561231GR8")])
def test_the_newer_regimes_are_known(regime, rfc_value):
    found = receiver_problems(receiver(tax_system=regime, tax_id=rfc_value, cfdi_use="S01"), "X")
    assert not [p for p in found if p.code.startswith("regime")]


@pytest.mark.parametrize("name", ["ACME SAB DE CV", "ACME S.A.S.", "ACME S. de R.L.", "ACME SPR DE RL",
                                  "ACME S.A.P.I. DE C.V.", "ACME S.C.", "ACME IAP", "ACME S EN C"])
def test_every_corporate_regime_suffix_is_caught(name):
    found = receiver_problems(receiver(legal_name=name), "X")
    assert "legal_name_regime" in [p.code for p in found]


@pytest.mark.parametrize("name", ["ESCUELA KEMPER URGATE", "SASTRERIA GOMEZ", "MESAS Y SILLAS", "CASA SAC"])
def test_names_that_only_look_like_a_suffix_pass(name):
    assert "legal_name_regime" not in [p.code for p in receiver_problems(receiver(legal_name=name), "X")]


def test_a_series_longer_than_25_characters_is_caught():
    assert "series_too_long" in [p.code for p in sale_problems(sale(series="S" * 26))]
    assert "series_too_long" not in [p.code for p in sale_problems(sale(series="S" * 25))]


def test_a_foreign_receiver_needs_its_country():
    foreign = receiver(tax_id="XEXX010101000", tax_system="616", cfdi_use="S01", country="")
    assert "foreign_residence" in [p.code for p in receiver_problems(foreign, "X")]
    assert receiver_problems(receiver(tax_id="XEXX010101000", tax_system="616", cfdi_use="S01", country="USA"),
                             "X") == []
    assert rfc.normalize(" eku-900317 3c9 ") == "EKU9003173C9"


def test_a_sales_invoice_names_its_own_place_to_fix():
    """A Sales Invoice's place of issue and series are its company row's, not a POS Profile's; an
    invoice due today whose payment form was not chosen says so (its CFDI would be PUE)."""
    broken = sale(expedition_zip="", series="S" * 30, document="Sales Invoice", payments=(Payment("", D(116)),))
    assert codes(sale_problems(broken, "C")) == ["company_expedition_zip", "company_series_too_long",
                                                 "invoice_payment_form"]
    assert codes(sale_problems(sale(expedition_zip="", series="S" * 30), "C")) == ["expedition_zip",
                                                                                    "series_too_long"]

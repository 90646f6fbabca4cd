"""The ticket's CFDI block: SAT's verification URL and the self-invoice code."""

import itertools
import re
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from mexico_localization.cfdi.ticket import (
    ALPHABET,
    RANDOM_SYMBOLS,
    new_ticket_code,
    normalized,
    plain_total,
    verification_url,
)

UUID = "5fb2822e-396d-4725-8521-cdc4bdd20ccf"


def test_the_verification_url_is_the_one_anexo_20_defines():
    url = verification_url(UUID, "EKU9003173C9", "XAXX010101000", D("1160.50"),
                           "…kUl4mRz3Pj0yVwA9Q4mQ1cNw==")
    assert url == ("https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?"
                   "id=5FB2822E-396D-4725-8521-CDC4BDD20CCF&re=EKU9003173C9&rr=XAXX010101000&tt=1160.5"
                   "&fe=mQ1cNw%3D%3D")


def test_an_ampersand_in_an_rfc_is_escaped_and_the_total_loses_only_non_significant_zeros():
    assert "&re=%26OL9003173C9&" in verification_url(UUID, "&OL9003173C9", "EKU9003173C9", D(1), "12345678")
    assert [plain_total(D(v)) for v in ("116.000000", "0.10", "37", "1234567.123456")] == \
        ["116", "0.1", "37", "1234567.123456"]


def test_a_ticket_code_is_random_grouped_and_its_own_check_accepts_it():
    codes = {new_ticket_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in itertools.islice(codes, 200):
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]",
                            code)
        assert normalized(code) == code
        assert normalized(code.lower().replace("-", " ").replace("0", "o").replace("1", "l")) == code


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.data())
def test_every_single_wrong_symbol_and_every_adjacent_swap_is_caught(data):
    code = new_ticket_code().replace("-", "")
    at = data.draw(st.integers(0, RANDOM_SYMBOLS))
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != code[at]]))
    assert normalized(code[:at] + wrong + code[at + 1:]) is None
    swap = data.draw(st.integers(0, RANDOM_SYMBOLS - 1))
    swapped = code[:swap] + code[swap + 1] + code[swap] + code[swap + 2:]
    if swapped != code:
        assert normalized(swapped) is None or _is_luhn_blind_spot(code[swap], code[swap + 1])


def _is_luhn_blind_spot(a: str, b: str) -> bool:
    """Luhn mod N misses the swap of the two symbols whose doubled values wrap onto each other."""
    return {ALPHABET.index(a), ALPHABET.index(b)} == {0, 31}


def test_what_cannot_be_a_code_is_refused_before_any_look_up():
    assert [normalized(x) for x in ("", "ACC-PSINV-2026-00001", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PU")] == \
        [None] * 4


def test_the_qr_is_made_of_what_the_stamped_xml_states():
    from mexico_localization.cfdi.stamped_xml import qr_fields
    from mexico_localization.testing.emulator.documents import invoice_xml, new_invoice, stamp
    from tests.conftest import ingreso_body

    invoice = new_invoice(ingreso_body(), "org", 7)
    stamp(invoice)
    fields = qr_fields(invoice_xml(invoice, "EKU9003173C9"))
    assert (fields.uuid, fields.issuer_rfc, fields.receiver_rfc) == (invoice["uuid"], "EKU9003173C9",
                                                                    invoice["customer"]["tax_id"])
    assert fields.total == D(f"{invoice['total']:.2f}") and fields.seal == invoice["stamp"]["signature"]
    assert qr_fields(b"<cfdi:Comprobante xmlns:cfdi='x'/>") is None and qr_fields(b"not xml") is None

"""Malformed answers after a stamp, and files that are not the CFDI's: each is an InvalidResponse at
the client (retryable, outcome unknown: the next try looks the CFDI up), and the exchange that
carried it is reported before anything raises, so its Integration Request is never lost."""

from __future__ import annotations

import pytest

from mexico_localization.facturapi import Client, InvalidResponse, RateLimited
from mexico_localization.facturapi.errors import parse_envelope
from mexico_localization.facturapi.shapes import file_problem, invoice_problem
from tests.conftest import ingreso_body

KEY, EXTERNAL = "site:POS Invoice:ACC-PSINV-0009:stamp:1", "site:0009"


def create(client: Client) -> dict:
    return client.create_invoice(ingreso_body(), idempotency_key=KEY, external_id=EXTERNAL).invoice


@pytest.mark.parametrize("garbage", [
    {"stamp": "timbrado"}, {"stamp": {"date": "ayer"}}, {"total": "mucho"}, {"total": float("nan")},
    {"total": True}, {"uuid": 12345}, {"stamp": {"date": "2026-11-25T18:00:00Z", "sat_signature": ["x"]}},
    {"id": None}, {"canceled_at": "2026-13-45"},
])
def test_a_stamped_invoice_with_a_malformed_field_is_an_invalid_response(client, emulator, exchanges, garbage):
    if garbage.get("total") != garbage.get("total"):  # NaN does not survive JSON: send its text
        garbage = {"total": "NaN"}
    emulator.add_fault("create_invoice", "malformed", set=garbage)
    with pytest.raises(InvalidResponse) as raised:
        create(client)
    assert raised.value.retryable and raised.value.outcome_unknown
    [exchange] = exchanges
    assert exchange.status == 200 and exchange.response_body is not None, "the answer is on record"
    assert not exchange.ok and exchange.error_kind == "InvalidResponse", "recorded as the failure it is"
    assert emulator.state.summary()["stamps_per_external_id"] == {EXTERNAL: 1}, "it did stamp"


@pytest.mark.parametrize(("fault", "params"), [
    ("malformed", {"set": {"total_pages": "many"}}),
    ("malformed", {"set": {"total_pages": 2.5}}),
    ("malformed", {"item": "not an invoice"}),
    ("malformed", {"item": {"id": "x", "stamp": 7}}),
])
def test_a_malformed_invoice_list_is_an_invalid_response(client, emulator, exchanges, fault, params):
    create(client)
    emulator.add_fault("search_invoices", fault, **params)
    with pytest.raises(InvalidResponse):
        client.find_by_external_id(EXTERNAL)
    assert exchanges[-1].operation == "search_invoices" and exchanges[-1].status == 200


@pytest.mark.parametrize("advice", ["inf", "1e308", "99999999999"])
def test_an_absurd_retry_after_is_capped_at_a_day(client, emulator, advice):
    emulator.add_fault("create_invoice", "rate_limit", retry_after=advice)
    with pytest.raises(RateLimited) as raised:
        create(client)
    assert raised.value.retry_after == 86400


def test_an_error_whose_errors_is_not_a_list_keeps_its_body(client, emulator, exchanges):
    assert parse_envelope(400, {"code": "invalid_request", "message": "x", "errors": 7}).details == ()
    assert parse_envelope(400, {"code": "invalid_request", "errors": {"path": "a"}}).code == "invalid_request"
    emulator.add_fault("create_invoice", "server_error", status=400, code="invalid_request")
    with pytest.raises(Exception):  # noqa: B017 (the kind is tested elsewhere; the record is the point)
        create(client)
    assert exchanges[-1].response_body and exchanges[-1].status == 400


# --- files ---------------------------------------------------------------------------------------

def test_a_web_page_is_never_taken_for_the_xml_or_the_pdf(client, emulator, exchanges):
    invoice = create(client)
    for fmt in ("xml", "pdf"):
        emulator.add_fault("download", "web_page")
        with pytest.raises(InvalidResponse, match="web page"):
            client.download_invoice(invoice["id"], fmt, uuid=invoice["uuid"])
        assert exchanges[-1].operation == f"download_{fmt}" and exchanges[-1].status == 200
        assert "web page" in exchanges[-1].error


def test_an_xml_of_another_cfdi_is_refused_and_the_right_one_kept(client, emulator):
    invoice = create(client)
    emulator.add_fault("download", "other_uuid")
    with pytest.raises(InvalidResponse, match="not " + invoice["uuid"]):
        client.download_invoice(invoice["id"], "xml", uuid=invoice["uuid"])
    xml = client.download_invoice(invoice["id"], "xml", uuid=invoice["uuid"])
    assert invoice["uuid"].encode() in xml
    assert client.download_invoice(invoice["id"], "pdf", uuid=invoice["uuid"]).startswith(b"%PDF-")


def test_file_rules():
    cfdi = (b'<?xml version="1.0"?><cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" '
            b'xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital"><cfdi:Complemento>'
            b'<tfd:TimbreFiscalDigital UUID="ABC"/></cfdi:Complemento></cfdi:Comprobante>')
    assert file_problem("xml", "application/xml", cfdi, "abc") is None
    assert "not abc" in file_problem("xml", "application/xml", cfdi.replace(b"ABC", b"XYZ"), "abc")
    assert "DTD" in file_problem("xml", "application/xml", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', None)
    assert "not XML" in file_problem("xml", "application/xml", b"{}", None)
    assert "CFDI 4.0" in file_problem("xml", "application/xml", b"<Acuse/>", "abc")
    assert file_problem("xml", "application/xml", b"<Acuse/>", None) is None  # a cancellation receipt
    assert file_problem("pdf", "application/pdf", b"%PDF-1.4 ...", None) is None
    assert "empty" in file_problem("pdf", "application/pdf", b"", None)
    assert invoice_problem({"id": "x", "total": "185.60", "stamp": None}) is None

"""Requests we send and answers the emulator gives, checked against FacturaAPI's own OpenAPI spec.

Injected gateway faults (502/503 from something between us and FacturaAPI) are not FacturaAPI's
answers and are left out; everything else the emulator can say is exercised here.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from mexico_localization.facturapi import Client, Exchange, FacturapiError, Secret
from tests.conftest import PLANTED_KEY, ingreso_body

openapi = pytest.importorskip("tests.contract.openapi")
if not openapi.spec_path().exists():
    pytest.skip(f"FacturaAPI's OpenAPI spec is not at {openapi.spec_path()} (a user's clone has no ../shared); "
                "set FACTURAPI_OPENAPI_SPEC to run the contract tests", allow_module_level=True)


def egreso_body() -> dict:
    return {
        "type": "E", "customer": ingreso_body()["customer"], "payment_form": "01", "payment_method": "PUE",
        "use": "G02", "related_documents": [{"relationship": "03",
                                             "documents": ["39c85a3f-275b-4341-b259-e8971d9f8a94"]}],
        "items": [{"quantity": 1, "product": {"description": "Devolución de mercancía", "product_key": "84111506",
                                              "unit_key": "ACT", "price": 80.0, "tax_included": False,
                                              "taxes": [{"type": "IVA", "rate": 0.16}]}}],
    }


def pago_body() -> dict:
    return {
        "type": "P", "customer": ingreso_body()["customer"],
        "complements": [{"type": "pago", "data": [{
            "payment_form": "03", "date": "2026-11-25T10:00:00-06:00",
            "related_documents": [{"uuid": "39c85a3f-275b-4341-b259-e8971d9f8a94", "amount": 116.0,
                                   "installment": 1, "last_balance": 232.0,
                                   "taxes": [{"base": 100.0, "type": "IVA", "rate": 0.16}]}]}]}],
    }


def global_body() -> dict:
    return ingreso_body(
        customer={"legal_name": "PUBLICO EN GENERAL", "tax_id": "XAXX010101000", "tax_system": "616",
                  "address": {"zip": "06600"}},
        use="S01", **{"global": {"periodicity": "day", "months": "11", "year": 2026}},
        items=[{"quantity": 1, "product": {"description": "Venta", "product_key": "01010101", "unit_key": "ACT",
                                           "price": 100.0, "tax_included": False, "sku": "ACC-PSINV-0001",
                                           "taxes": [{"type": "IVA", "rate": 0.16}]}}])


def run_everything(emulator) -> list[Exchange]:
    """Every operation the client has, with every answer kind FacturaAPI itself can give."""
    exchanges: list[Exchange] = []
    with Client(emulator.url, Secret(PLANTED_KEY), timeout=(2, 2), on_exchange=exchanges.append) as client:

        def expect_error(call, *args, **kwargs):
            with pytest.raises(FacturapiError):
                call(*args, **kwargs)

        client.ping()
        invoices = [client.create_invoice(body, idempotency_key=f"k{n}", external_id=f"e{n}").invoice
                    for n, body in enumerate([ingreso_body(), egreso_body(), pago_body(), global_body()])]
        client.create_invoice(ingreso_body(), idempotency_key="k0", external_id="e0")  # replay
        emulator.add_fault("create_invoice", "pending")
        pending = client.create_invoice(ingreso_body(), idempotency_key="p", external_id="p").invoice
        client.retrieve_invoice(pending["id"])
        client.refresh_invoice_status(invoices[0]["id"])
        client.find_by_external_id("e0")
        emulator.cancel_outside(invoices[2]["id"], "02")
        list(client.cancellations_since(datetime(2026, 1, 1, tzinfo=timezone.utc)))
        for fmt in ("xml", "pdf", "zip"):
            client.download_invoice(invoices[0]["id"], fmt)
        client.email_invoice(invoices[0]["id"])
        client.email_invoice(invoices[0]["id"], "a@example.com")
        client.email_invoice(invoices[0]["id"], ["a@example.com", "b@example.com"])
        expect_error(client.download_cancellation_receipt, invoices[0]["id"], "pdf")
        client.cancel_invoice(invoices[0]["id"], "01", substitution=invoices[3]["uuid"])
        for fmt in ("xml", "pdf"):
            client.download_cancellation_receipt(invoices[0]["id"], fmt)
        expect_error(client.cancel_invoice, invoices[0]["id"], "02")                      # 409
        expect_error(client.cancel_invoice, "000000000000000000000000", "02")             # 404
        expect_error(client.download_invoice, pending["id"] + "x", "xml")                  # 404 on download
        expect_error(client.retrieve_invoice, "000000000000000000000000")                  # 404
        expect_error(client.create_invoice, {"type": "I"}, idempotency_key="v", external_id="v")  # 400
        expect_error(client.create_invoice, ingreso_body(date="2020-01-01T00:00:00Z"),
                     idempotency_key="d", external_id="d")
        for kind in ("sat_rejection", "rate_limit", "in_use", "validation"):
            emulator.add_fault("create_invoice", kind)
            expect_error(client.create_invoice, ingreso_body(), idempotency_key=kind, external_id=kind)
        emulator.add_fault("create_invoice", "server_error", status=500)
        expect_error(client.create_invoice, ingreso_body(), idempotency_key="500", external_id="500")
        customer = ingreso_body()["customer"]
        client.create_customer(customer)
        client.create_customer(customer)                                                  # same data: 200
        emulator.add_sat_record(customer["tax_id"], customer["legal_name"], customer["tax_system"], "99999")
        expect_error(client.create_customer, customer)                                    # SAT disagrees: 400
        emulator.config.keys = frozenset({"sk_test_someone_elses_key_0000"})
        expect_error(client.ping)                                                           # 401
    return exchanges


@pytest.fixture(scope="module")
def exchanges():
    from mexico_localization.testing.emulator import Emulator

    with Emulator() as emulator:
        yield run_everything(emulator)


def test_the_scenario_covers_every_client_operation(exchanges):
    operations = {e.operation for e in exchanges}
    assert operations >= {"ping", "create_invoice", "retrieve_invoice", "refresh_status", "search_invoices",
                          "cancel_invoice", "download_xml", "download_pdf", "download_zip", "email_invoice",
                          "download_cancellation_receipt_xml", "download_cancellation_receipt_pdf",
                          "create_customer"}
    assert {e.status for e in exchanges} >= {200, 201, 202, 400, 401, 404, 409, 429, 500}


def test_every_request_we_send_fits_the_spec(exchanges):
    bad = {f"{e.method} {e.url}": p for e in exchanges
           if e.request_body is not None and e.request_body.get("idempotency_key") != "v"
           for p in [openapi.request_problems(e)] if p}
    assert bad == {}


def test_every_query_we_send_fits_the_spec(exchanges):
    bad = {f"{e.method} {e.url}": p for e in exchanges for p in [openapi.query_problems(e)] if p}
    assert bad == {}


def test_the_query_check_has_teeth():
    sent = Exchange("search_invoices", "GET", "http://x/v2/invoices?cancellation_status=verifying&colour=red"
                    "&date%5Bsince%5D=2026-01-01", {})
    assert len(openapi.query_problems(sent)) == 3


def test_every_answer_the_emulator_gives_fits_the_spec(exchanges):
    bad = {f"{e.operation} {e.status} {e.url}": p for e in exchanges for p in [openapi.response_problems(e)] if p}
    assert bad == {}


@pytest.mark.parametrize("body", [ingreso_body(), egreso_body(), pago_body(), global_body()],
                         ids=["ingreso", "egreso", "pago", "global"])
def test_sample_bodies_fit_their_type_branch(body):
    branch = openapi.CREATE_BRANCH[body["type"]]
    assert openapi.problems({**body, "idempotency_key": "k", "external_id": "e"},
                            f"/components/schemas/{branch}") == []


def test_the_contract_check_has_teeth():
    broken = ingreso_body(items="two coffees", payment_form=1)
    assert openapi.problems(broken, "/components/schemas/InvoiceIngresoInput")
    unstamped = {"id": "x", "created_at": "2026-11-25T00:00:00Z", "livemode": "no"}
    assert openapi.problems(unstamped, "/components/schemas/Invoice")
    assert openapi.problems({"legal": {"name": "x"}}, "/components/schemas/Organization")


def built_bodies() -> dict[str, dict]:
    """Bodies our mapping builds, one per situation it handles."""
    from dataclasses import replace
    from datetime import timedelta
    from decimal import Decimal as D

    from mexico_localization.cfdi.mapping import build_invoice
    from mexico_localization.cfdi.model import Payment, Receiver, Tax
    from tests.cfdi_samples import NOW, line, sale

    public = Receiver("Mostrador", "XAXX010101000", "616", "", "S01", is_public=True)
    foreign = Receiver("ACME INC", "XEXX010101000", "616", "", "S01", country="USA", foreign_tax_id="12-3456789")
    cases = {
        "nominative": sale(),
        "discounted": sale(lines=(line(quantity=D(3), unit_price=D(100), net_amount=D("270.00")),)),
        "weighed": sale(lines=(line(quantity=D("0.375"), unit_price=D("189.90"), net_amount=D("71.21")),)),
        "exempt_and_zero": sale(lines=(line(taxes=(Tax("IVA", D(0), factor="Exento"),)),
                                       line(item_code="B", taxes=(Tax("IVA", D(0)),)))),
        "ieps_and_withholding": sale(lines=(line(taxes=(Tax("IEPS", D("0.08")), Tax("IVA", D("0.16")),
                                                        Tax("ISR", D("0.0125"), withholding=True))),)),
        "ieps_apart": sale(receiver=replace(sale().receiver, ieps_breakdown=True),
                           lines=(line(taxes=(Tax("IEPS", D("0.08")), Tax("IVA", D("0.16")))),)),
        "ieps_alone_inside_price": sale(lines=(line(taxes=(Tax("IEPS", D("0.08")),)),), grand_total=D("172.80")),
        "tax_included_fitted": sale(lines=(line(quantity=D(1), unit_price=D("0.86"), net_amount=D("0.86")),) * 37,
                                    grand_total=D("37.00"), payments=(Payment("01", D("37.00")),),
                                    change_amount=D(0)),
        "no_object": sale(lines=(line(taxes=(), taxability="01"),)),
        "gift_and_full_discount": sale(lines=(line(), line(item_code="G", unit_price=D(0), net_amount=D(0)),
                                              line(item_code="P", unit_price=D("19.90"), net_amount=D(0)))),
        "public": sale(receiver=public),
        "foreign_usd": sale(receiver=foreign, currency="USD", exchange_rate=D("17.25")),
        "ppd": sale(payments=(Payment("01", D(100)),), outstanding_amount=D("85.60"), change_amount=D(0)),
        "late": sale(posting=NOW - timedelta(hours=80), folio=77),
    }
    bodies = {name: build_invoice(case, NOW).body for name, case in cases.items()}
    from mexico_localization.cfdi.global_cfdi import Ticket, build_global, period_of
    tickets = [Ticket("T-1", (line(),), (Payment("01", D("185.60"), "Efectivo"),)),
               Ticket("T-2", (line(), line(item_code="B", taxes=(Tax("IVA", D(0)),))), (Payment("04", D(400)),))]
    bodies["global"] = build_global(tickets, period_of(NOW.date(), "week"), "06600", "G").body
    from mexico_localization.cfdi.credit_note import as_substitute, build_credit_note
    uuid = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
    bodies["substitute"] = as_substitute(build_invoice(sale(), NOW), uuid).body
    bodies["credit_note"] = build_credit_note(sale(lines=(line(quantity=D(-1), net_amount=D("-80.00")),),
                                                   payments=(Payment("01", D("-92.80")),)), uuid, NOW).body
    from datetime import timedelta as td

    from mexico_localization.cfdi.payment_complement import DeferredSale, Received, build_payment_complement
    ppd = DeferredSale("S-1", uuid, NOW - td(days=9), D("185.60"), (line(),), paid=D(50), installments=1)
    bodies["payment_complement"] = build_payment_complement(
        sale().receiver, Received("03", NOW, D(100), reference="SPEI-1"), [(ppd, D(100))], "06600")
    usd = DeferredSale("S-3", uuid, NOW - td(days=4), D("116.00"), (line(),), currency="USD")
    bodies["payment_complement_usd_sale_mxn_payment"] = build_payment_complement(
        sale().receiver, Received("03", NOW, D(116), rates=(("USD", D("17.25")),)), [(usd, D(116))], "06600")
    bodies["payment_complement_mxn_sale_usd_payment"] = build_payment_complement(
        sale().receiver, Received("03", NOW, D(10), currency="USD", exchange_rate=D("17.25")), [(ppd, D(100))],
        "06600")
    from mexico_localization.cfdi.payment_complement import build_payments, till_payments
    bodies["payment_complement_till_two_forms"] = build_payments(
        sale().receiver, till_payments(ppd, {"01": D(50), "04": D(30)}, NOW), "06600")
    untaxed = DeferredSale("S-2", uuid, NOW - td(days=2), D(100), (line(taxes=(), taxability="01"),))
    bodies["payment_complement_foreign_untaxed"] = build_payment_complement(
        foreign, Received("03", NOW, D(100)), [(untaxed, D(100))], "06600")
    for regime, rfc_value in (("605", "GODE561231GR8"), ("601", "EKU9003173C9")):
        bodies[f"credit_note_{regime}"] = build_credit_note(
            sale(receiver=replace(sale().receiver, tax_system=regime, tax_id=rfc_value, cfdi_use="S01"),
                 lines=(line(quantity=D(-1), net_amount=D("-80.00")),), payments=(Payment("01", D("-92.80")),)),
            uuid, NOW).body
    return bodies


@pytest.mark.parametrize(("name", "body"), sorted(built_bodies().items()))
def test_bodies_our_mapping_builds_fit_the_spec(name, body):
    assert openapi.problems({**body, "idempotency_key": "k", "external_id": "e"},
                            f"/components/schemas/{openapi.CREATE_BRANCH[body['type']]}") == []

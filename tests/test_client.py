"""The client against the emulator over real HTTP: every operation, every error kind, every fault."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
import requests

from mexico_localization.facturapi import (
    AuthenticationError,
    Client,
    ConflictError,
    ConnectError,
    InvalidResponse,
    NotFoundError,
    OutcomeUnknown,
    RateLimited,
    Secret,
    ServiceUnavailable,
    StampingRejected,
    ValidationError,
)
from mexico_localization.facturapi.client import _transport_failure, base_url_problems
from mexico_localization.facturapi.errors import InProgress
from tests.conftest import PLANTED_KEY, ingreso_body


def create(client: Client, key: str = "site:POS Invoice:ACC-PSINV-0001:stamp:1", external_id: str = "site:0001",
           **overrides):
    return client.create_invoice(ingreso_body(**overrides), idempotency_key=key, external_id=external_id)


# --- happy paths ---------------------------------------------------------------------------------

def test_ping_reads_the_organization_and_records_the_exchange(client, exchanges):
    result = client.ping()
    assert result.checked_via == "organizations/me"
    assert result.key_environment == "Test"
    assert result.organization["legal"]["tax_id"] == "EKU9003173C9"
    assert result.organization["is_production_ready"] is True
    [exchange] = exchanges
    assert exchange.operation == "ping" and exchange.method == "GET" and exchange.status == 200
    assert exchange.url.endswith("/v2/organizations/me")
    assert exchange.request_headers["Authorization"] == "********"
    assert exchange.log_id and exchange.ok and exchange.duration_ms > 0


def test_ping_with_a_user_key_falls_back_to_check(emulator, exchanges):
    with Client(emulator.url, Secret("sk_user_0123456789abcdef"), on_exchange=exchanges.append) as client:
        result = client.ping()
    assert result.checked_via == "check" and result.organization is None
    assert result.key_environment == "User"
    assert [e.status for e in exchanges] == [401, 200]


def test_create_sends_idempotency_key_and_external_id_and_returns_the_stamp(client, emulator, exchanges):
    result = create(client)
    invoice = result.invoice
    assert not result.accepted
    assert invoice["status"] == "valid" and invoice["uuid"] and invoice["livemode"] is False
    assert invoice["stamp"]["sat_cert_number"] and invoice["stamp"]["sat_signature"]
    assert invoice["total"] == 185.60  # 2 × 80.00 + 16 % IVA
    sent = exchanges[-1].request_body
    assert sent["idempotency_key"] == "site:POS Invoice:ACC-PSINV-0001:stamp:1"
    assert sent["external_id"] == "site:0001"
    assert sent["address"] == {"zip": "06600"}


def test_expedition_zip_is_sent_as_the_place_of_issue(client, exchanges):
    body = ingreso_body()
    body.pop("address")
    client.create_invoice(body, idempotency_key="k", external_id="e", expedition_zip="44100")
    assert exchanges[-1].request_body["address"] == {"zip": "44100"}
    assert "address" not in body  # the caller's body is not changed


def test_create_refuses_to_go_without_idempotency_key_or_external_id(client):
    with pytest.raises(ValueError):
        client.create_invoice(ingreso_body(), idempotency_key="", external_id="x")
    with pytest.raises(ValueError):
        client.create_invoice(ingreso_body(), idempotency_key="k", external_id="")


def test_replayed_idempotency_key_returns_the_original_and_stamps_once(client, emulator):
    first, second = create(client).invoice, create(client).invoice
    assert first["id"] == second["id"] and first["uuid"] == second["uuid"]
    assert emulator.state.summary()["stamps"] == 1


def test_replayed_idempotency_key_in_error_mode_is_a_conflict(client, emulator):
    emulator.config.idempotency_replay = "error"
    create(client)
    with pytest.raises(ConflictError) as caught:
        create(client)
    assert caught.value.code == "conflict"
    assert emulator.state.summary()["stamps"] == 1


def test_202_means_pending_at_the_pac_then_valid_on_retrieve(client, emulator):
    emulator.add_fault("create_invoice", "pending", polls=2)
    result = create(client)
    assert result.accepted and result.invoice["status"] == "pending" and result.invoice["uuid"] is None
    assert client.retrieve_invoice(result.invoice["id"])["status"] == "pending"
    later = client.retrieve_invoice(result.invoice["id"])
    assert later["status"] == "valid" and later["uuid"]


def test_find_by_external_id_walks_every_page(client):
    for n in range(105):
        create(client, key=f"k{n}", external_id="site:same")
    create(client, key="other", external_id="site:other")
    found = client.find_by_external_id("site:same")
    assert len(found) == 105 and {i["external_id"] for i in found} == {"site:same"}
    assert client.find_by_external_id("site:nobody") == []


def test_cancellations_since_lists_what_was_cancelled_outside_the_client(client, emulator, exchanges):
    from datetime import datetime, timedelta, timezone

    kept, dashboard, asked, at_sat = (create(client, key=f"o{n}", external_id=f"o{n}").invoice for n in range(4))
    emulator.cancel_outside(dashboard["id"], "02")
    emulator.cancel_outside(asked["id"], "03", outcome="pending")
    emulator.cancel_outside(at_sat["id"], "02", at_sat=True)
    since = datetime.now(timezone.utc) - timedelta(days=1)
    found = {i["id"]: i["cancellation_status"] for i in client.cancellations_since(since)}
    assert found == {dashboard["id"]: "accepted", asked["id"]: "pending"}
    url = exchanges[-1].url
    assert "cancellation_status=accepted&cancellation_status=pending" in url and "date%5Bgte%5D=" in url
    assert list(client.cancellations_since(datetime.now(timezone.utc) + timedelta(hours=1))) == []
    # SAT's portal: FacturaAPI knows only once it refreshes the status from SAT.
    assert client.retrieve_invoice(at_sat["id"])["status"] == "valid"
    refreshed = client.refresh_invoice_status(at_sat["id"])
    assert (refreshed["status"], refreshed["cancellation_status"]) == ("canceled", "accepted")
    assert client.refresh_invoice_status(kept["id"])["status"] == "valid"


def test_downloads_are_bytes(client):
    invoice = create(client).invoice
    xml = client.download_invoice(invoice["id"], "xml")
    assert xml.startswith(b"<?xml") and invoice["uuid"].encode() in xml
    assert client.download_invoice(invoice["id"], "pdf").startswith(b"%PDF-")
    assert client.download_invoice(invoice["id"], "zip").startswith(b"PK")
    with pytest.raises(ValueError):
        client.download_invoice(invoice["id"], "html")


def test_download_records_a_size_not_the_bytes(client, exchanges):
    invoice = create(client).invoice
    client.download_invoice(invoice["id"], "pdf")
    assert exchanges[-1].response_body["bytes"] > 100
    assert "pdf" in exchanges[-1].response_body["content_type"]


def test_email(client, emulator):
    invoice = create(client).invoice
    assert client.email_invoice(invoice["id"], ["a@example.com"]) is True
    assert client.email_invoice(invoice["id"]) is True
    sent = emulator.state.summary()["emails"]
    assert [e["to"] for e in sent] == [["a@example.com"], "cliente@emulador.invalid"]


# --- cancellation --------------------------------------------------------------------------------

def test_cancel_accepted_then_receipt(client):
    invoice = create(client).invoice
    with pytest.raises(Exception) as early:
        client.download_cancellation_receipt(invoice["id"], "xml")
    assert early.value.code == "invoice_cancellation_receipt_unavailable"
    cancelled = client.cancel_invoice(invoice["id"], "02")
    assert cancelled["status"] == "canceled" and cancelled["cancellation_status"] == "accepted"
    assert invoice["uuid"].encode() in client.download_cancellation_receipt(invoice["id"], "xml")
    assert client.download_cancellation_receipt(invoice["id"], "pdf").startswith(b"%PDF-")


def test_cancel_pending_waits_for_the_receiver(client, emulator):
    emulator.config.cancellation = "pending"
    invoice = create(client).invoice
    answer = client.cancel_invoice(invoice["id"], "03")
    assert answer["status"] == "valid" and answer["cancellation_status"] == "pending"
    with pytest.raises(ConflictError) as again:
        client.cancel_invoice(invoice["id"], "03")
    assert again.value.code == "invoice_cancellation_in_progress"
    requests.post(emulator.url.replace("/v2", "/_emulator/invoices/") + invoice["id"] + "/cancellation",
                  json={"outcome": "rejected"}, timeout=5)
    assert client.retrieve_invoice(invoice["id"])["cancellation_status"] == "rejected"


def test_cancel_verifying_settles_on_retrieve(client, emulator):
    emulator.config.cancellation = "verifying"
    invoice = create(client).invoice
    assert client.cancel_invoice(invoice["id"], "02")["cancellation_status"] == "verifying"
    assert client.refresh_invoice_status(invoice["id"])["status"] == "canceled"


def test_cancel_with_substitution(client):
    original = create(client, key="a", external_id="a").invoice
    substitute = create(client, key="b", external_id="b").invoice
    cancelled = client.cancel_invoice(original["id"], "01", substitution=substitute["uuid"])
    assert cancelled["status"] == "canceled"
    assert cancelled["cancellation"]["substitution"] == substitute["uuid"]


@pytest.mark.parametrize(("motive", "substitution"), [("05", None), ("01", None), ("02", "some-uuid"), ("", None)])
def test_cancel_motive_rules_are_checked_before_sending(client, exchanges, motive, substitution):
    with pytest.raises(ValueError):
        client.cancel_invoice("abc", motive, substitution)
    assert exchanges == []


def test_cancel_unknown_invoice_is_not_found(client):
    with pytest.raises(NotFoundError) as caught:
        client.cancel_invoice("000000000000000000000000", "02")
    assert caught.value.code == "invoice_not_found" and caught.value.status == 404


def test_cancel_twice_is_a_conflict(client):
    invoice = create(client).invoice
    client.cancel_invoice(invoice["id"], "02")
    with pytest.raises(ConflictError) as caught:
        client.cancel_invoice(invoice["id"], "02")
    assert caught.value.code == "invoice_not_cancelable"


# --- errors from FacturaAPI ----------------------------------------------------------------------

def test_wrong_key_is_an_authentication_error(emulator, exchanges):
    emulator.config.keys = frozenset({"sk_test_the_only_good_key_1234"})
    with Client(emulator.url, Secret(PLANTED_KEY), on_exchange=exchanges.append) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.ping()
    assert caught.value.code == "api_key_invalid" and caught.value.status == 401
    assert not caught.value.retryable
    assert exchanges[0].error_kind == "AuthenticationError" and exchanges[0].status == 401


def test_validation_error_carries_each_detail(client):
    with pytest.raises(ValidationError) as caught:
        client.create_invoice({"type": "I"}, idempotency_key="k", external_id="e")
    error = caught.value
    assert error.code == "invalid_request" and error.status == 400 and not error.retryable
    assert {d.path for d in error.details} == {"customer", "items", "payment_form"}
    assert "customer" in error.summary()


def test_date_older_than_72_hours_is_refused(client):
    with pytest.raises(ValidationError) as caught:
        create(client, date="2020-01-01T10:00:00-06:00")
    assert caught.value.details == () and "72" in caught.value.message


def test_sat_rejection_carries_the_sat_code(client, emulator):
    emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40145")
    with pytest.raises(StampingRejected) as caught:
        create(client)
    error = caught.value
    assert error.sat_code == "CFDI40145" and error.code == "invoice_stamping_validation_error"
    assert not error.retryable and not error.outcome_unknown
    assert "sat:CFDI40145" in error.summary()
    assert emulator.state.summary()["stamps"] == 0


def test_pac_rejection_carries_the_pac_code(client, emulator):
    emulator.add_fault("create_invoice", "sat_rejection", sat_code="402", source="pac",
                       message="No se encontró el RFC en la LCO.")
    with pytest.raises(StampingRejected) as caught:
        create(client)
    assert caught.value.sat_code == "402"


def test_rate_limit_carries_retry_after(client, emulator):
    emulator.add_fault("*", "rate_limit", retry_after=7)
    with pytest.raises(RateLimited) as caught:
        client.ping()
    assert caught.value.retry_after == 7.0 and caught.value.retryable and caught.value.status == 429


@pytest.mark.parametrize(("status", "code"), [
    (500, "internal_error"), (502, "invoice_stamping_service_unavailable"), (503, "unknown_thing"),
])
def test_server_errors_heal_and_leave_the_outcome_unknown(client, emulator, status, code):
    emulator.add_fault("create_invoice", "server_error", status=status, code=code)
    with pytest.raises(ServiceUnavailable) as caught:
        create(client)
    assert caught.value.status == status and caught.value.retryable and caught.value.outcome_unknown


def test_idempotency_key_in_use_is_retryable(client, emulator):
    emulator.add_fault("create_invoice", "in_use")
    with pytest.raises(InProgress) as caught:
        create(client)
    assert caught.value.retryable and caught.value.code == "idempotency_key_in_use"


def test_concurrent_creates_with_one_key_stamp_once(emulator):
    emulator.config.stamp_latency_ms = 300
    outcomes: list[object] = []

    def attempt() -> None:
        with Client(emulator.url, Secret(PLANTED_KEY)) as client:
            try:
                outcomes.append(create(client).invoice["id"])
            except InProgress as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(o, InProgress) for o in outcomes) == 1
    assert emulator.state.summary()["stamps"] == 1


# --- faults on the wire --------------------------------------------------------------------------

def test_read_timeout_after_stamping_is_outcome_unknown_and_reconcilable(emulator, exchanges):
    emulator.add_fault("create_invoice", "timeout_after_stamp", delay=1.0)
    with Client(emulator.url, Secret(PLANTED_KEY), timeout=(2.0, 0.3), on_exchange=exchanges.append) as client:
        with pytest.raises(OutcomeUnknown) as caught:
            create(client, external_id="site:0042")
        assert caught.value.reason == "read_timeout" and caught.value.outcome_unknown
        assert exchanges[-1].status is None and "0.3 s" in exchanges[-1].error
        [found] = client.find_by_external_id("site:0042")  # what the job does before creating again
    assert found["status"] == "valid" and found["uuid"]


def test_reset_after_stamping_is_outcome_unknown(client, emulator):
    emulator.add_fault("create_invoice", "reset_after_stamp")
    with pytest.raises(OutcomeUnknown) as caught:
        create(client, external_id="site:0043")
    assert caught.value.reason == "reset"
    assert len(client.find_by_external_id("site:0043")) == 1


def test_reset_before_processing_stamps_nothing(client, emulator):
    emulator.add_fault("create_invoice", "reset")
    with pytest.raises(OutcomeUnknown):
        create(client, external_id="site:0044")
    assert client.find_by_external_id("site:0044") == []


def test_latency_is_only_slow(client, emulator, exchanges):
    emulator.add_fault("ping", "latency", ms=300)
    client.ping()
    assert exchanges[-1].duration_ms >= 290


def test_connection_refused_is_a_connect_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Client(f"http://127.0.0.1:{port}/v2", Secret(PLANTED_KEY)) as client:
        with pytest.raises(ConnectError) as caught:
            client.ping()
    assert caught.value.reason == "refused" and not caught.value.outcome_unknown and caught.value.retryable


def test_unknown_host_is_a_dns_error(monkeypatch):
    import socket

    real = socket.getaddrinfo

    def unresolvable(host, *args, **kwargs):
        if host == "nx.facturapi.io":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    with Client("https://nx.facturapi.io/v2", Secret(PLANTED_KEY), timeout=(3.0, 3.0)) as client:
        with pytest.raises(ConnectError) as caught:
            client.ping()
    assert caught.value.reason == "dns"


def test_tls_failure_is_a_connect_error(emulator):
    host, port = emulator.address
    with Client(f"https://{host}:{port}/v2", Secret(PLANTED_KEY)) as client:
        with pytest.raises(ConnectError) as caught:
            client.ping()
    assert caught.value.reason == "tls"


def test_connect_timeout_is_a_connect_error_not_an_unknown_outcome():
    error = _transport_failure(requests.exceptions.ConnectTimeout("timed out"), (5.0, 60.0))
    assert isinstance(error, ConnectError) and error.reason == "connect_timeout" and "5 s" in error.message


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        body = b"<html>proxy says hi</html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("status", "error"), [(200, InvalidResponse), (502, ServiceUnavailable)])
def test_non_json_answers_are_typed(status, error):
    handler = type("H", (_HtmlHandler,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with Client(f"http://127.0.0.1:{server.server_address[1]}/v2", Secret(PLANTED_KEY)) as client:
            with pytest.raises(error) as caught:
                client.ping()
        assert caught.value.status == status and caught.value.outcome_unknown
    finally:
        server.shutdown()
        server.server_close()


# --- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "ok"), [
    ("https://www.facturapi.io/v2", True), ("http://127.0.0.1:8787/v2", True), ("http://localhost:8787/v2", True),
    ("http://www.facturapi.io/v2", False), ("ftp://x/v2", False), ("www.facturapi.io/v2", False), ("", False),
    ("https://www.facturapi.io/v2?x=1", False),
    # The key goes to this host: FacturaAPI's own, or this machine's emulator, and nothing else.
    ("https://facturapi.io/v2", True), ("https://api.facturapi.io/v2", True), ("https://[::1]:8787/v2", True),
    ("https://evil.example/v2", False), ("https://facturapi.io.evil.example/v2", False),
    ("https://wwwfacturapi.io/v2", False), ("https://10.0.0.5/v2", False),
    # Credentials in the URL would be written into every Integration Request.
    ("https://user:pass@www.facturapi.io/v2", False), ("https://user@www.facturapi.io/v2", False),
    ("http://me:secret@127.0.0.1:8787/v2", False), ("https://www.facturapi.io:notaport/v2", False),
])
def test_base_url_rules(url, ok):
    assert (base_url_problems(url) == []) is ok


def test_client_takes_only_a_secret(emulator):
    with pytest.raises(TypeError):
        Client(emulator.url, PLANTED_KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Client("http://example.com/v2", Secret(PLANTED_KEY))


def test_a_broken_exchange_hook_does_not_break_the_call(emulator):
    def hook(exchange):
        raise RuntimeError("audit store down")

    with Client(emulator.url, Secret(PLANTED_KEY), on_exchange=hook) as client:
        assert create(client).invoice["status"] == "valid"

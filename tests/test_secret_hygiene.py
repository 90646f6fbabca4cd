"""The key never appears in an exchange, an error, a repr or a traceback with local variables.

Frappe's Error Log renders tracebacks with every frame's locals, so these tests render them the
same way (`capture_locals=True`) for every kind of failure the client can meet.
"""

from __future__ import annotations

import socket
import traceback

import pytest

from mexico_localization.facturapi import Client, FacturapiError, Secret
from tests.conftest import KEY_TAIL, PLANTED_KEY, ingreso_body


def rendered(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert KEY_TAIL not in text


FAULTS = [
    ("rate_limit", {}), ("server_error", {"status": 502}), ("reset", {}), ("sat_rejection", {}),
    ("validation", {}), ("in_use", {}), ("timeout_after_stamp", {"delay": 0.6}), ("reset_after_stamp", {}),
]


@pytest.mark.parametrize(("kind", "params"), FAULTS, ids=[f[0] for f in FAULTS])
def test_every_fault_leaves_no_key_behind(emulator, kind, params):
    exchanges = []
    emulator.add_fault("create_invoice", kind, **params)
    with Client(emulator.url, Secret(PLANTED_KEY), timeout=(2.0, 0.3), on_exchange=exchanges.append) as client:
        with pytest.raises(FacturapiError) as caught:
            client.create_invoice(ingreso_body(), idempotency_key="k", external_id="e")
        assert_clean(rendered(caught.value), str(caught.value), repr(caught.value), caught.value.summary(),
                     repr(exchanges), repr(client))
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_bad_key_answer_leaves_no_key_behind(emulator):
    emulator.config.keys = frozenset({"sk_test_some_other_key_000000"})
    exchanges = []
    with Client(emulator.url, Secret(PLANTED_KEY), on_exchange=exchanges.append) as client:
        with pytest.raises(FacturapiError) as caught:
            client.ping()
    assert_clean(rendered(caught.value), repr(exchanges))


def test_connection_failure_leaves_no_key_behind():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Client(f"http://127.0.0.1:{port}/v2", Secret(PLANTED_KEY)) as client:
        with pytest.raises(FacturapiError) as caught:
            client.ping()
    assert_clean(rendered(caught.value))


def test_an_exception_inside_the_send_path_is_masked(emulator):
    """http.client quotes a bad header value in its ValueError; the key must not survive that."""
    exchanges = []
    with Client(emulator.url, Secret(PLANTED_KEY[:12] + "\n" + PLANTED_KEY[12:]),
                on_exchange=exchanges.append) as client:
        with pytest.raises(FacturapiError) as caught:
            client.ping()
    text = rendered(caught.value) + repr(exchanges)
    assert PLANTED_KEY[12:] not in text and "ValueError" in text


def test_an_exception_raised_by_the_transport_is_masked(emulator, monkeypatch):
    """Whatever breaks inside requests' send (here: a job timeout-like exception) is converted and masked."""

    class JobTimeout(Exception):
        pass

    def explode(self, request, **kwargs):
        assert request.headers["Authorization"].endswith(KEY_TAIL)  # the key really was on the request
        raise JobTimeout(f"killed while sending {dict(request.headers)}")

    monkeypatch.setattr("requests.Session.send", explode)
    with Client(emulator.url, Secret(PLANTED_KEY)) as client:
        with pytest.raises(FacturapiError) as caught:
            client.ping()
    assert "JobTimeout" in caught.value.message
    assert_clean(rendered(caught.value), caught.value.summary())


def test_successful_exchanges_hold_no_key(client, exchanges):
    client.ping()
    invoice = client.create_invoice(ingreso_body(), idempotency_key="k", external_id="e").invoice
    client.download_invoice(invoice["id"], "xml")
    client.cancel_invoice(invoice["id"], "02")
    assert len(exchanges) == 4
    assert_clean(repr(exchanges))

"""What the emulator promises beyond the client tests: it never pretends to be live, it is
controllable over HTTP from another process, it serves requests in parallel, and it starts from
the command line."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import requests

from mexico_localization.facturapi import Client, NotFoundError, Secret
from mexico_localization.testing.emulator import EMULATOR_NAME
from tests.conftest import PLANTED_KEY, ingreso_body

AUTH = {"Authorization": f"Bearer {PLANTED_KEY}"}


def control(emulator, path: str) -> str:
    return emulator.url.replace("/v2", "/_emulator/") + path


def test_never_live_even_with_a_live_key(emulator):
    with Client(emulator.url, Secret("sk_live_0123456789abcdefXYZ")) as client:
        result = client.create_invoice(ingreso_body(), idempotency_key="k", external_id="e")
        assert result.invoice["livemode"] is False
        ping = client.ping()
        assert "SIN VALIDEZ FISCAL" in ping.organization["legal"]["name"]
        assert ping.emulator == EMULATOR_NAME


def test_names_itself_in_every_answer(emulator):
    for path, headers in (("/check", AUTH), ("/organizations/me", AUTH), ("/check", {}), ("/nope", AUTH)):
        answer = requests.get(emulator.url + path, headers=headers, timeout=5)
        assert answer.headers["X-Facturapi-Emulator"] == EMULATOR_NAME
        assert answer.headers["X-Facturapi-Log-Id"]


def test_error_envelope_without_credentials(emulator):
    answer = requests.get(emulator.url + "/check", timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "status": 401, "code": "missing_credentials",
                             "message": answer.json()["message"]}


def test_faults_and_config_over_http(emulator):
    assert requests.post(control(emulator, "faults"), json={"operation": "ping", "kind": "rate_limit",
                                                           "retry_after": 3}, timeout=5).ok
    answer = requests.get(emulator.url + "/organizations/me", headers=AUTH, timeout=5)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert requests.get(emulator.url + "/organizations/me", headers=AUTH, timeout=5).status_code == 200
    bad = requests.post(control(emulator, "faults"), json={"kind": "meteor"}, timeout=5)
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["message"]
    assert requests.post(control(emulator, "config"), json={"production_ready": False}, timeout=5).ok
    org = requests.get(emulator.url + "/organizations/me", headers=AUTH, timeout=5).json()
    assert org["is_production_ready"] is False and org["pending_steps"]


def test_state_and_reset_over_http(emulator):
    with Client(emulator.url, Secret(PLANTED_KEY)) as client:
        client.create_invoice(ingreso_body(), idempotency_key="k", external_id="site:1")
    state = requests.get(control(emulator, "state"), timeout=5).json()
    assert state["stamps"] == 1 and state["stamps_per_external_id"] == {"site:1": 1}
    assert state["calls"]["create_invoice"] == 1
    assert state["create_requests"] == [{"external_id": "site:1", "idempotency_key": "k"}]
    requests.post(control(emulator, "reset"), timeout=5)
    assert requests.get(control(emulator, "state"), timeout=5).json()["stamps"] == 0


def test_serves_requests_in_parallel(emulator):
    emulator.add_fault("create_invoice", "latency", ms=800)
    slow = threading.Thread(target=lambda: Client(emulator.url, Secret(PLANTED_KEY)).create_invoice(
        ingreso_body(), idempotency_key="slow", external_id="slow"))
    slow.start()
    time.sleep(0.1)
    started = time.monotonic()
    with Client(emulator.url, Secret(PLANTED_KEY)) as client:
        client.ping()
    assert time.monotonic() - started < 0.5
    slow.join()


def test_starts_from_the_command_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "mexico_localization.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline() + process.stdout.readline()
        assert EMULATOR_NAME in banner
        url = banner.split("Server URL: ")[1].split()[0]
        with Client(url, Secret(PLANTED_KEY)) as client:
            assert client.ping().organization["livemode"] is False
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_each_organization_sees_only_its_own_invoices(emulator):
    """Two keys of two organizations (a group with several RFCs): each stamps in its own organization,
    and neither can read, search or cancel the other's invoices."""
    other = "sk_test_SECONDORGANIZATION0000001"
    emulator.config.organizations = {other: {"id": "6a00000000000000000e0002", "tax_id": "AAA010101AAA",
                                             "legal_name": "SEGUNDA"}}
    try:
        with Client(emulator.url, Secret(PLANTED_KEY)) as first, Client(emulator.url, Secret(other)) as second:
            assert second.ping().organization["legal"]["tax_id"] == "AAA010101AAA"
            mine = first.create_invoice(ingreso_body(), idempotency_key="same-key", external_id="A-1").invoice
            theirs = second.create_invoice(ingreso_body(), idempotency_key="same-key", external_id="A-1").invoice
            assert mine["id"] != theirs["id"], "an idempotency key is the organization's own"
            assert [i["id"] for i in first.find_by_external_id("A-1")] == [mine["id"]]
            assert b"AAA010101AAA" in second.download_invoice(theirs["id"], "xml", uuid=theirs["uuid"])
            with pytest.raises(NotFoundError):
                first.retrieve_invoice(theirs["id"])
            with pytest.raises(NotFoundError):
                first.cancel_invoice(theirs["id"], "02")
        held = {i["id"]: i["organization"] for i in emulator.state.summary()["invoices"]}
        assert (held[mine["id"]], held[theirs["id"]]) == ("6a00000000000000000e0001", "6a00000000000000000e0002")
    finally:
        emulator.config.organizations = {}

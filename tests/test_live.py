"""Opt-in: the client against FacturaAPI's real *test* environment.

    FACTURAPI_TEST_KEY=sk_test_... python -m pytest -m live tests/test_live.py

Creates and cancels test invoices (no fiscal validity). Until someone has run this, fiscal output
is unverified against the real service (README). The key must be a test key: the test refuses a
live one so nobody stamps real CFDIs by accident.
"""

from __future__ import annotations

import os
import uuid

import pytest

from mexico_localization.facturapi import Client, Secret
from mexico_localization.facturapi.client import DEFAULT_BASE_URL
from tests.conftest import ingreso_body

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not os.environ.get("FACTURAPI_TEST_KEY"), reason="FACTURAPI_TEST_KEY is not set"),
]


@pytest.fixture
def live_client():
    secret = Secret(os.environ["FACTURAPI_TEST_KEY"])
    if secret.environment != "Test":
        pytest.fail("FACTURAPI_TEST_KEY must be an sk_test_ key")
    with Client(os.environ.get("FACTURAPI_URL", DEFAULT_BASE_URL), secret, timeout=(10, 90)) as client:
        yield client


def test_ping_reads_the_organization(live_client):
    result = live_client.ping()
    assert result.checked_via == "organizations/me" and result.organization["id"]


def test_create_find_download_cancel(live_client):
    external_id = f"ml-live-test:{uuid.uuid4()}"
    body = ingreso_body(customer={"legal_name": "PUBLICO EN GENERAL", "tax_id": "XAXX010101000",
                                  "tax_system": "616", "address": {"zip": "06600"}},
                        use="S01", address=None)
    body.pop("address")
    result = live_client.create_invoice(body, idempotency_key=external_id, external_id=external_id)
    invoice = result.invoice
    assert invoice["livemode"] is False and invoice["status"] in ("valid", "pending")
    assert [i["id"] for i in live_client.find_by_external_id(external_id)] == [invoice["id"]]
    replay = live_client.create_invoice(body, idempotency_key=external_id, external_id=external_id)
    assert replay.invoice["id"] == invoice["id"]
    if invoice["status"] == "valid":
        assert live_client.download_invoice(invoice["id"], "xml").lstrip().startswith(b"<?xml")
        assert live_client.cancel_invoice(invoice["id"], "02")["cancellation_status"] in (
            "accepted", "pending", "verifying")

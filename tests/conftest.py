"""Pytest tier: the pure core and the emulator, over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mexico_localization.facturapi import Client, Exchange, Secret
from mexico_localization.testing.emulator import Emulator

# A key nobody could mistake for another string: every leak test searches for it, and for its tail.
PLANTED_KEY = "sk_test_PLANTED0ml7f3a9c2e51b04d8eZQX"
KEY_TAIL = PLANTED_KEY[8:]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture
def exchanges() -> list[Exchange]:
    return []


@pytest.fixture
def client(emulator: Emulator, exchanges: list[Exchange]) -> Iterator[Client]:
    with Client(emulator.url, Secret(PLANTED_KEY), timeout=(2.0, 2.0), on_exchange=exchanges.append) as c:
        yield c


def ingreso_body(**overrides: object) -> dict:
    """A minimal nominative ingreso as the app will send it (net prices, explicit taxes)."""
    body = {
        "type": "I",
        "customer": {"legal_name": "DUNDER MIFFLIN", "tax_id": "DMI991231AB1", "tax_system": "601",
                     "email": "facturas@example.com", "address": {"zip": "06600"}},
        "items": [{"quantity": 2, "discount": 0, "product": {
            "description": "Café de olla 250 g", "product_key": "50201706", "unit_key": "H87",
            "price": 80.0, "tax_included": False, "taxability": "02",
            "taxes": [{"type": "IVA", "rate": 0.16}], "sku": "CAFE-250"}}],
        "payment_form": "01", "payment_method": "PUE", "use": "G03", "currency": "MXN",
        "series": "POS1", "address": {"zip": "06600"},
    }
    body.update(overrides)
    return body

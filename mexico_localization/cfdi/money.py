"""Money in Decimal: ERPNext's floats come in, exact amounts go out."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")  # CFDI concept amounts may carry six decimals


def dec(value: object) -> Decimal:
    """A Decimal from a float/str/int without binary noise (0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value or 0))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def micros(value: Decimal) -> Decimal:
    return value.quantize(MICRO, ROUND_HALF_UP)


def as_number(value: Decimal) -> float | int:
    """JSON number for FacturaAPI: an int when whole, else a float of the exact decimal."""
    return int(value) if value == value.to_integral_value() else float(value)

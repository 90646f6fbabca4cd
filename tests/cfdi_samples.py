"""Sales for the mapping tests, built the way the Frappe layer will gather them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

from mexico_localization.cfdi.model import Line, Payment, Receiver, Sale, Tax

CDMX = timezone(timedelta(hours=-6))
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=CDMX)
IVA16 = Tax("IVA", D("0.16"))


def receiver(**changes) -> Receiver:
    base = Receiver("ESCUELA KEMPER URGATE", "EKU9003173C9", "601", "26015", "G03", "compras@example.com")
    return replace(base, **changes)


def line(**changes) -> Line:
    base = Line("CAFE-250", "Café de olla 250 g", D(2), D("80.00"), D("160.00"), "50201706", "H87", "Pieza",
                (IVA16,))
    return replace(base, **changes)


def sale(**changes) -> Sale:
    base = Sale("ACC-PSINV-2026-00001", NOW - timedelta(minutes=5), "MXN", D(1), receiver(), (line(),),
                (Payment("01", D("200.00"), "Efectivo"),), change_amount=D("14.40"), grand_total=D("185.60"),
                expedition_zip="06600", series="POS1")
    return replace(base, **changes)


"""What a sale looks like to the CFDI mapping: plain values gathered from ERPNext, no frappe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Receiver:
    legal_name: str            # as on the Constancia de Situación Fiscal, without "S.A. de C.V."
    tax_id: str                # RFC; XAXX010101000 público en general; XEXX010101000 or own id abroad
    tax_system: str            # c_RegimenFiscal
    zip: str                   # DomicilioFiscalReceptor
    cfdi_use: str              # c_UsoCFDI
    email: str | None = None
    country: str = "MEX"       # ISO 3166-1 alpha-3; not MEX for a foreign receiver
    foreign_tax_id: str | None = None  # NumRegIdTrib of a foreign receiver
    is_public: bool = False    # a walk-in / "Público en General" customer
    ieps_breakdown: bool = False  # an IEPS taxpayer who asked to see IEPS apart (LIEPS art. 19-II)


@dataclass(frozen=True)
class Tax:
    type: str                  # IVA | IEPS | ISR
    rate: Decimal              # 0.16, 0.08, 0, ... (a Cuota is an amount per unit)
    factor: str = "Tasa"       # Tasa | Cuota | Exento
    withholding: bool = False  # retención
    ieps_mode: str | None = None


@dataclass(frozen=True)
class Line:
    item_code: str
    description: str
    quantity: Decimal
    unit_price: Decimal        # net of taxes, before the line's discount (price_list_rate or rate)
    net_amount: Decimal        # what ERPNext taxes: after every discount, before taxes
    product_key: str           # c_ClaveProdServ (8 digits)
    unit_key: str              # c_ClaveUnidad
    unit_name: str = ""
    taxes: tuple[Tax, ...] = ()
    taxability: str = "02"     # c_ObjetoImp


@dataclass(frozen=True)
class Payment:
    payment_form: str          # c_FormaPago of the Mode of Payment ("" when unmapped)
    amount: Decimal
    mode: str = ""             # the Mode of Payment's name, for messages


@dataclass(frozen=True)
class Sale:
    name: str                  # the POS Invoice's or Sales Invoice's name
    posting: datetime          # timezone-aware posting datetime
    currency: str
    exchange_rate: Decimal     # MXN per unit of currency
    receiver: Receiver
    lines: tuple[Line, ...]
    payments: tuple[Payment, ...] = ()
    change_amount: Decimal = Decimal(0)
    grand_total: Decimal = Decimal(0)
    outstanding_amount: Decimal = Decimal(0)
    expedition_zip: str = ""   # place of issue: the POS Profile's zip (a Sales Invoice: its company row's)
    series: str = ""
    folio: int | None = None
    notes: dict[str, str] = field(default_factory=dict)
    document: str = "POS Invoice"   # where its data lives, so a problem names the place to fix it

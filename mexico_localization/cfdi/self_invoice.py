"""The rules of self-invoicing (autofactura) that need no database: the ticket's link, until when a
ticket can be self-invoiced, the total a buyer types as second factor, the CFDI uses offered for a
regime, and what the page may show of an e-mail address."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from mexico_localization.cfdi import rfc as rfc_rules
from mexico_localization.cfdi.catalogs import CFDI_USES

PATH = "/factura"
END_OF_MONTH = "End of the Sale's Month"
DAYS_AFTER = "Days after the Sale"
CUTOFF_RULES = (END_OF_MONTH, DAYS_AFTER)
# A sale's CFDI de ingreso: not Pagos (CP01), Nómina (CN01), nor the uses of a credit note (G02).
NOT_FOR_A_SALE = frozenset({"CP01", "CN01", "G02"})
_DECIMAL_COMMA = re.compile(r",[0-9]{1,2}$")
MAX_AMOUNT = Decimal(10) ** 15  # no ticket is that big; beyond it a typed "total" is noise


def ticket_url(base_url: str, code: str) -> str:
    """What the ticket's QR holds: the store's public site, the portal, the code prefilled."""
    return f"{base_url.strip().rstrip('/')}{PATH}?codigo={quote(code, safe='-')}"


def deadline(sale_date: date, rule: str | None, days: int | None = None) -> date:
    """The last day a ticket can be self-invoiced. By default the end of the sale's month: its global
    CFDI is stamped and declared with that month (RMF rule 2.7.1.21), and a nominative CFDI issued
    later would land in another month than the sale and its IVA."""
    if rule == DAYS_AFTER and days is not None and int(days) >= 0:
        return sale_date + timedelta(days=int(days))
    return sale_date.replace(day=calendar.monthrange(sale_date.year, sale_date.month)[1])


def typed_amount(text: str | None) -> Decimal | None:
    """The total as a buyer types it ("$1,234.50", "1234.5", "1234,50", "19.90"), in pesos, or None."""
    cleaned = re.sub(r"[\s$]|MXN|M\.N\.", "", (text or "").upper())
    if "," in cleaned and "." not in cleaned and _DECIMAL_COMMA.search(cleaned):
        cleaned = cleaned.replace(",", ".")
    cleaned = cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 <= amount < MAX_AMOUNT:
        return None
    return amount.quantize(Decimal("0.01"))


def total_matches(typed: str | None, printed: list[Decimal]) -> bool:
    """The typed total is one the ticket prints (its total, or its rounded total)."""
    amount = typed_amount(typed)
    return amount is not None and any(amount == Decimal(p).quantize(Decimal("0.01")) for p in printed if p)


def uses_for(regime: str, tax_id: str) -> list[str]:
    """The CFDI uses a buyer may pick for a purchase: those SAT allows for their regime and persona
    (Anexo 20, c_UsoCFDI), without the uses of payments, payroll and credit notes."""
    persona = rfc_rules.persona(rfc_rules.normalize(tax_id)) if tax_id else None
    return [use.code for use in CFDI_USES.values()
            if use.code not in NOT_FOR_A_SALE and regime in use.regimes
            and (persona is None or (use.fisica if persona == "Física" else use.moral))]


def masked_email(email: str | None) -> str:
    """Enough of an address for its owner to recognise it, not for anyone else to read it."""
    local, _, domain = (email or "").partition("@")
    if not local or not domain:
        return ""
    return f"{local[0]}{'•' * 3}@{domain}"


def is_generic(tax_id: str | None) -> bool:
    """A generic RFC is not a buyer's: público en general is what the global already says, and a buyer
    abroad is invoiced by the store."""
    return rfc_rules.is_generic(rfc_rules.normalize(tax_id))

"""What a printed ticket carries for its CFDI: SAT's verification URL (the QR of Anexo 20, Apéndice 1)
and the self-invoice code a buyer types or scans: unguessable, and checksummed so that a typo is
caught before anything is looked up."""

from __future__ import annotations

import secrets
from decimal import Decimal
from urllib.parse import quote

SAT_VERIFY = "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford's base 32: no I, L, O, U
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
RANDOM_SYMBOLS = 12                            # 60 bits: not to be guessed, even at many tries a second


def verification_url(uuid: str, issuer_rfc: str, receiver_rfc: str, total: Decimal, seal: str) -> str:
    """SAT's URL for the CFDI's QR (Anexo 20, Apéndice 1): id the UUID, re and rr the RFCs (an "&" in
    an RFC escaped), tt the total without non-significant zeros, fe the last 8 characters of the
    issuer's seal (Sello)."""
    return (f"{SAT_VERIFY}?id={uuid.upper()}&re={quote(issuer_rfc.upper(), safe='')}"
            f"&rr={quote(receiver_rfc.upper(), safe='')}&tt={plain_total(total)}&fe={quote(seal[-8:], safe='')}")


def plain_total(total: Decimal) -> str:
    """At most 18 integer digits and 6 decimals, with no non-significant zeros (116.50 → 116.5)."""
    text = f"{Decimal(total).quantize(Decimal('0.000001')):f}".rstrip("0").rstrip(".")
    return text or "0"


def _check_symbol(symbols: str) -> str:
    """Luhn mod 32 over the base-32 symbols: catches every single wrong symbol and most swaps."""
    factor, total = 2, 0
    for char in reversed(symbols):
        addend = factor * ALPHABET.index(char)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_ticket_code() -> str:
    """A fresh code, grouped for reading aloud: XXXX-XXXX-XXXX-C."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return grouped(body + _check_symbol(body))


def grouped(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalized(typed: str) -> str | None:
    """The code as stored (grouped), from what a person typed (case, spaces, hyphens, O for 0, I or L
    for 1), or None when it cannot be one of ours."""
    symbols = "".join(ch for ch in (typed or "").upper() if ch not in " -").translate(LOOKALIKES)
    if len(symbols) != RANDOM_SYMBOLS + 1 or any(ch not in ALPHABET for ch in symbols):
        return None
    if _check_symbol(symbols[:-1]) != symbols[-1]:
        return None
    return grouped(symbols)

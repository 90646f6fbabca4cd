"""RFC (Registro Federal de Contribuyentes): shape, persona type and SAT's mod-11 check digit."""

from __future__ import annotations

import re

from mexico_localization.cfdi.catalogs import FOREIGN_RFC, PUBLIC_RFC

_SHAPE = re.compile(r"([A-ZÑ&]{3,4})([0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])([A-Z0-9]{2})([A0-9])")
_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ")}


def normalize(rfc: str | None) -> str:
    return re.sub(r"[\s\-]", "", (rfc or "")).upper()


def is_generic(rfc: str) -> bool:
    return rfc in (PUBLIC_RFC, FOREIGN_RFC)


def has_valid_shape(rfc: str) -> bool:
    return bool(_SHAPE.fullmatch(rfc))


def persona(rfc: str) -> str | None:
    """"Física" (13 characters), "Moral" (12), or None when the shape is wrong."""
    if not has_valid_shape(rfc):
        return None
    return "Física" if len(rfc) == 13 else "Moral"


def check_digit(rfc: str) -> str:
    """SAT's check digit for the first 11 (moral) or 12 (física) characters."""
    body = rfc[:-1].rjust(12)  # a moral RFC is padded with a leading space
    total = sum(_VALUES.get(char, 0) * (13 - position) for position, char in enumerate(body))
    digit = 11 - total % 11
    return "0" if digit == 11 else "A" if digit == 10 else str(digit)


def check_digit_matches(rfc: str) -> bool:
    return has_valid_shape(rfc) and rfc[-1] == check_digit(rfc)

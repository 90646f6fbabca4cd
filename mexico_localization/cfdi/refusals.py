"""Where a refused CFDI is fixed: the field a person changes, and on which record.

Read first from the `path` FacturaAPI's validation names (its body's field), else from SAT's error
code (Anexo 20's error matrix, CFDI40xxx; the PAC's 402 for an RFC not in SAT's list), else from the
attribute SAT's sentence names. The code numbers are the receiver rules SAT checks against its RFC
list since CFDI 4.0, as our FacturaAPI reference gives them, itself marked "verify"; 40143/40144 are
unconfirmed. Check them against SAT's current matrix: the attribute fallback still finds the field
when a number is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CUSTOMER, ITEM, UOM, PLACE_OF_ISSUE, SALE = "customer", "item", "uom", "place_of_issue", "sale"


@dataclass(frozen=True)
class Fix:
    place: str              # which record holds the field: customer, item, uom, place_of_issue, sale
    field: str              # the ERPNext field to change
    label: str              # its label (English; translated where shown)
    line: int | None = None  # the concept's position, for an item or a unit


LEGAL_NAME = Fix(CUSTOMER, "mx_legal_name", "Legal Name")
TAX_ID = Fix(CUSTOMER, "tax_id", "Tax ID")
REGIME = Fix(CUSTOMER, "mx_tax_regime", "Tax Regime")
FISCAL_ZIP = Fix(CUSTOMER, "mx_fiscal_zip", "Fiscal Zip Code")
CFDI_USE = Fix(CUSTOMER, "mx_cfdi_use", "CFDI Use")
EXPEDITION_ZIP = Fix(PLACE_OF_ISSUE, "mx_expedition_zip", "Expedition Zip (Place of Issue)")
PAYMENT_FORM = Fix(SALE, "mx_payment_form", "SAT Payment Form")

# FacturaAPI's body paths (its validation errors name them).
PATHS = {
    "customer.legal_name": LEGAL_NAME, "customer.tax_id": TAX_ID, "customer.tax_system": REGIME,
    "customer.address.zip": FISCAL_ZIP, "use": CFDI_USE, "address.zip": EXPEDITION_ZIP,
    "payment_form": PAYMENT_FORM,
}
LINE_PATH = re.compile(r"items\.(\d+)\.product\.(product_key|unit_key)")

# SAT's codes for the receiver checked against its RFC list, and the PAC's RFC not found.
CODES = {
    "CFDI40143": TAX_ID, "CFDI40144": TAX_ID, "402": TAX_ID,
    "CFDI40145": LEGAL_NAME,
    "CFDI40147": FISCAL_ZIP, "CFDI40148": FISCAL_ZIP,
    "CFDI40149": EXPEDITION_ZIP,
    "CFDI40157": REGIME, "CFDI40158": REGIME,
    "CFDI40161": CFDI_USE,
}

# The attribute SAT's sentence names, most specific first.
WORDS = (("DomicilioFiscalReceptor", FISCAL_ZIP), ("RegimenFiscalReceptor", REGIME), ("UsoCFDI", CFDI_USE),
         ("LugarExpedicion", EXPEDITION_ZIP), ("ClaveProdServ", None), ("ClaveUnidad", None),
         ("Nombre", LEGAL_NAME), ("RFC", TAX_ID))


def fix_for(code: str, message: str, path: str | None) -> Fix | None:
    """The field one refusal (FacturaAPI's answer or one of its details) points at, or None."""
    if path in PATHS:
        return PATHS[path]
    line = LINE_PATH.fullmatch(path or "")
    if line:
        return Fix(ITEM, "mx_product_key", "SAT Product Key", int(line[1])) if line[2] == "product_key" \
            else Fix(UOM, "mx_unit_key", "SAT Unit Key", int(line[1]))
    if code in CODES:
        return CODES[code]
    for word, fix in WORDS:
        if word.lower() in (message or "").lower():
            return fix
    return None


def first_fix(refusals: Iterable[tuple[str, str, str | None]]) -> Fix | None:
    """The first refusal of (code, message, path) that names a field."""
    for code, message, path in refusals:
        found = fix_for(code, message, path)
        if found:
            return found
    return None

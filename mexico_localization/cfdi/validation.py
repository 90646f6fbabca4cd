"""Every problem with a sale's fiscal data at once, before anything is sent to FacturaAPI."""

from __future__ import annotations

import re
from decimal import Decimal

from mexico_localization.cfdi import rfc as rfc_rules
from mexico_localization.cfdi.catalogs import CFDI_USES, FOREIGN_RFC, PAYMENT_FORMS, PUBLIC_RFC, REGIMES
from mexico_localization.cfdi.model import Line, Receiver, Sale
from mexico_localization.cfdi.problems import Problem, problem

# fullmatch and [0-9]: `$` would let "06600\n" through, and `\d` matches other scripts' digits.
ZIP_PATTERN = re.compile(r"[0-9]{5}")
_PRODUCT_KEY = re.compile(r"[0-9]{8}")
_UNIT_KEY = re.compile(r"[A-Z0-9]{1,3}")
# The corporate regime SAT's Constancia leaves out of a legal name (Anexo 20, Nombre of the receptor):
# S.A., S.A.B., S.A.P.I., S.A.S., S. de R.L., S. en C., S.C., S.P.R., A.C., I.A.P. and their "de C.V.",
# "de R.L." or "de R.I." endings, with or without dots and spaces.
_D, _S = r"\.?\s*", r"\s+"
_FORMS = [f"S{_D}A{_D}B", f"S{_D}A{_D}P{_D}I", f"S{_D}A{_D}S", f"S{_D}A", f"S{_D}DE{_S}R{_D}L",
          f"S{_D}EN{_S}C(?:{_D}POR{_S}A)?", f"S{_D}C{_D}(?:L|P)?", f"S{_D}P{_D}R", f"A{_D}C", f"I{_D}A{_D}P",
          f"S{_D}C{_D}S"]
_REGIME_SUFFIX = re.compile(rf"(?:^|[\s,])(?:{'|'.join(_FORMS)}){_D}(?:DE{_S}(?:C{_D}V|R{_D}[LI]|R{_D}S)){_D}?\s*$"
                            rf"|(?:^|[\s,])(?:{'|'.join(_FORMS)}){_D}\s*$", re.IGNORECASE)
_COUNTRY = re.compile(r"[A-Z]{3}")  # ResidenciaFiscal: c_Pais, ISO 3166-1 alpha-3
MAX_SERIES = 25  # Serie: up to 25 characters (Anexo 20)
IVA_RATES = (Decimal("0.16"), Decimal("0.08"), Decimal("0"))


def valid_product_key(key: str | None) -> bool:
    return bool(_PRODUCT_KEY.fullmatch(key or ""))


def valid_unit_key(key: str | None) -> bool:
    return bool(_UNIT_KEY.fullmatch(key or ""))


def receiver_problems(receiver: Receiver, customer: str) -> list[Problem]:
    """The receiver's data, checked as SAT will check it (format and catalogs; not the LCO)."""
    if receiver.is_public:
        return [] if (receiver.tax_id, receiver.tax_system, receiver.cfdi_use) == (PUBLIC_RFC, "616", "S01") \
            else [problem("public_rules")]
    if receiver.country != "MEX":
        found = [] if (receiver.tax_system, receiver.cfdi_use) == ("616", "S01") \
            else [problem("foreign_rules", customer=customer)]
        if not _COUNTRY.fullmatch(receiver.country or ""):
            found.append(problem("foreign_residence", customer=customer))
        return found
    found: list[Problem] = []
    tax_id = rfc_rules.normalize(receiver.tax_id)
    persona = rfc_rules.persona(tax_id)
    if not tax_id:
        found.append(problem("rfc_missing", customer=customer))
    elif persona is None:
        found.append(problem("rfc_shape", rfc=tax_id, customer=customer))
    elif not rfc_rules.is_generic(tax_id) and not rfc_rules.check_digit_matches(tax_id):
        found.append(problem("rfc_check_digit", blocking=False, rfc=tax_id, customer=customer))
    name = (receiver.legal_name or "").strip()
    if not name:
        found.append(problem("legal_name_missing", customer=customer))
    elif persona == "Moral" and _REGIME_SUFFIX.search(name):
        found.append(problem("legal_name_regime", name=name, customer=customer))
    found += _regime_and_use(receiver, customer, persona)
    if not ZIP_PATTERN.fullmatch(receiver.zip or ""):
        found.append(problem("zip_missing", customer=customer))
    return found


def _regime_and_use(receiver: Receiver, customer: str, persona: str | None) -> list[Problem]:
    found: list[Problem] = []
    regime = REGIMES.get(receiver.tax_system or "")
    if not receiver.tax_system:
        found.append(problem("regime_missing", customer=customer))
    elif regime is None:
        found.append(problem("regime_unknown", regime=receiver.tax_system, customer=customer))
    elif persona and not (regime.fisica if persona == "Física" else regime.moral):
        found.append(problem("regime_persona", regime=regime.code, regime_name=regime.description,
                             persona=persona.lower(), rfc=receiver.tax_id, customer=customer))
    use = CFDI_USES.get(receiver.cfdi_use or "")
    if not receiver.cfdi_use:
        found.append(problem("use_missing", customer=customer))
    elif use is None:
        found.append(problem("use_unknown", use=receiver.cfdi_use, customer=customer))
    else:
        if persona and not (use.fisica if persona == "Física" else use.moral):
            found.append(problem("use_persona", use=use.code, use_name=use.description, persona=persona.lower(),
                                 customer=customer))
        if regime is not None and regime.code not in use.regimes:
            allowed = ", ".join(sorted(u.code for u in CFDI_USES.values() if regime.code in u.regimes))
            found.append(problem("use_regime", use=use.code, use_name=use.description, regime=regime.code,
                                 customer=customer, allowed=allowed))
    return found


def line_problems(line: Line, uom: str = "") -> list[Problem]:
    found: list[Problem] = []
    if not valid_product_key(line.product_key):
        found.append(problem("product_key", item=line.item_code))
    if not valid_unit_key(line.unit_key):
        found.append(problem("unit_key", item=line.item_code, uom=uom or line.unit_name or "?"))
    if line.quantity <= 0:
        found.append(problem("quantity", item=line.item_code, quantity=line.quantity))
    if line.net_amount < 0 or line.unit_price < 0:
        found.append(problem("negative_amount", item=line.item_code))
    return found + tax_problems(line)


def tax_problems(line: Line) -> list[Problem]:
    return [problem("iva_rate", item=line.item_code, rate=tax.rate * 100) for tax in line.taxes
            if tax.type == "IVA" and not tax.withholding and tax.factor == "Tasa" and tax.rate not in IVA_RATES]


def sale_problems(sale: Sale, customer: str = "") -> list[Problem]:
    """Every problem that would make FacturaAPI or SAT refuse this sale's CFDI."""
    found = receiver_problems(sale.receiver, customer or sale.receiver.legal_name)
    pos = sale.document == "POS Invoice"
    if not ZIP_PATTERN.fullmatch(sale.expedition_zip or ""):
        found.append(problem("expedition_zip") if pos else problem("company_expedition_zip"))
    if len(sale.series or "") > MAX_SERIES:
        found.append(problem("series_too_long" if pos else "company_series_too_long", series=sale.series,
                             limit=MAX_SERIES))
    if not sale.lines:
        found.append(problem("no_lines"))
    for line in sale.lines:
        found += line_problems(line)
    paid = [p for p in sale.payments if p.amount > 0]
    for payment in paid:
        if not payment.payment_form and not payment.mode:  # a Sales Invoice due today, its form not chosen
            found.append(problem("invoice_payment_form", invoice=sale.name))
        elif payment.payment_form not in PAYMENT_FORMS:
            found.append(problem("payment_form", mode=payment.mode or payment.payment_form or "?"))
    if not paid and sale.outstanding_amount <= 0:
        found.append(problem("no_payment"))
    if sale.currency != "MXN" and sale.exchange_rate <= 0:
        found.append(problem("exchange_rate", currency=sale.currency))
    return found


def blocking(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.blocking]


__all__ = ["FOREIGN_RFC", "blocking", "line_problems", "receiver_problems", "sale_problems", "tax_problems",
           "valid_product_key", "valid_unit_key"]

"""What is wrong with a sale's fiscal data, in words a finance user or cashier can act on.

Templates are English with named fields; the Frappe layer passes each through `_()` before
formatting, and the Spanish translations ship in translations/es.csv.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    code: str
    template: str
    params: dict[str, str] = field(default_factory=dict)
    blocking: bool = True   # False: worth a warning, SAT may still accept it

    @property
    def text(self) -> str:
        return self.template.format(**self.params)


class CfdiDataError(ValueError):
    """The sale cannot become a CFDI until these problems are fixed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


T = {
    "rfc_missing": "The customer {customer} has no RFC (Tax ID).",
    "rfc_shape": "The RFC {rfc} of {customer} is not valid: 12 characters for a company, 13 for a person "
                 "(letters, date of birth or incorporation YYMMDD, 3-character homoclave).",
    "rfc_check_digit": "The RFC {rfc} of {customer} fails SAT's check digit: compare it with the Constancia de "
                       "Situación Fiscal.",
    "legal_name_missing": "The customer {customer} has no legal name as written on the Constancia de Situación "
                          "Fiscal.",
    "legal_name_regime": "The legal name \"{name}\" of {customer} must be written without the corporate regime "
                         "(e.g. without \"S.A. de C.V.\"), exactly as on the Constancia de Situación Fiscal.",
    "regime_missing": "The customer {customer} has no tax regime (Régimen Fiscal).",
    "regime_unknown": "The tax regime {regime} of {customer} is not in SAT's catalog.",
    "regime_persona": "The tax regime {regime} ({regime_name}) does not apply to a persona {persona} (RFC {rfc}) "
                      "for {customer}.",
    "use_missing": "The customer {customer} has no CFDI use (Uso del CFDI).",
    "use_unknown": "The CFDI use {use} of {customer} is not in SAT's catalog.",
    "use_regime": "The CFDI use {use} ({use_name}) is not allowed with the tax regime {regime} for {customer}: "
                  "use one of {allowed}.",
    "use_persona": "The CFDI use {use} ({use_name}) does not apply to a persona {persona} for {customer}.",
    "zip_missing": "The customer {customer} has no fiscal zip code (5 digits, as on the Constancia).",
    "public_rules": "A sale to público en general is issued to RFC XAXX010101000, regime 616 and use S01.",
    "foreign_rules": "A foreign customer ({customer}) is issued with regime 616 and use S01.",
    "foreign_residence": "{customer} has the foreign RFC XEXX010101000: fill in its Fiscal Residence (the country, "
                         "ISO alpha-3, e.g. USA) and its Foreign Tax ID on the Customer.",
    "expedition_zip": "The POS Profile has no place of issue: set its 5-digit Expedition Zip.",
    "company_expedition_zip": "The company has no place of issue for its Sales Invoices: set the 5-digit Place of "
                              "Issue (Zip) on its row in E Invoice Setting's Companies.",
    "company_series_too_long": "The CFDI Series \"{series}\" for Sales Invoices is longer than SAT's {limit} "
                               "characters: shorten it on the company's row in E Invoice Setting.",
    "invoice_payment_form": "Invoice {invoice} is due on its own date, so its CFDI says PUE (paid): choose the SAT "
                            "Payment Form it is paid with, or give it a later due date (PPD, paid later).",
    "product_key": "Item {item} has no valid SAT product key (8 digits, c_ClaveProdServ): set it on the Item or "
                   "its Item Group.",
    "unit_key": "Item {item} has no valid SAT unit key (c_ClaveUnidad) for its unit {uom}: set it on the UOM.",
    "quantity": "Item {item} has a quantity of {quantity}; a CFDI concept needs a positive quantity.",
    "negative_amount": "Item {item} has a negative amount; returns are issued as credit notes (CFDI de egreso).",
    "tax_unknown": "The tax account {account} is not mapped to IVA, IEPS or ISR, so its tax would be left out "
                   "of the CFDI: set its SAT Tax.",
    "iva_rate": "Item {item} has an IVA rate of {rate} %; SAT allows 16 %, 8 % (border region), 0 % or exempt.",
    "payment_form": "The mode of payment {mode} has no SAT payment form (c_FormaPago): set it on the Mode of "
                    "Payment.",
    "no_payment": "The sale has no payment and nothing outstanding, so it has no payment form.",
    "exchange_rate": "The sale is in {currency} without an exchange rate to MXN.",
    "no_lines": "The sale has no items.",
    "global_cuota": "Ticket {ticket} has item {item} with a fixed-amount tax (Cuota), which a global CFDI concept "
                    "cannot carry: issue that ticket a nominative CFDI.",
    "complement_nothing_due": "The payment is not applied to any deferred (PPD) sale with a balance left.",
    "complement_over_balance": "The payment applies {amount} to {sale}, whose CFDI balance is only {balance}.",
    "complement_exchange": "The payment in {payment_currency} pays {sale}, a CFDI in {currency}: record the "
                           "{currency} exchange rate of the payment date on the Payment Entry.",
    "global_too_many": "The global CFDI would have {count} concepts; FacturaAPI accepts {limit}: lower Tickets per "
                       "Global CFDI in E Invoice Setting and issue it again.",
    "series_too_long": "The CFDI Series \"{series}\" of this till is longer than SAT's {limit} characters: shorten it "
                       "on the POS Profile.",
    "global_empty": "The global CFDI has no ticket with an amount left to invoice (all were returned).",
    "global_cancelled_ticket": "Ticket {ticket} was cancelled in ERPNext while this global CFDI held it: a sale "
                               "that did not happen cannot be declared. Ask for its removal from the global (or "
                               "undo the cancellation) before the global is issued.",
}


def problem(code: str, blocking: bool = True, **params: object) -> Problem:
    return Problem(code, T[code], {k: str(v) for k, v in params.items()}, blocking)

"""Payment complements (CFDI tipo P, Pagos 2.0) for deferred (PPD) sales: the allocation of a
payment across them, their installments and balances, the taxes of each paid portion, the body
FacturaAPI takes, and SAT's deadline.

- A payment is applied oldest sale first; what exceeds every balance stays unallocated.
- Per related CFDI: installment = complements so far + 1, last balance = total − paid − credited,
  and each tax at the paid share of the related CFDI's own base (Pagos 2.0, ImpuestosDR: the taxes of
  the paid portion), read from its stamped XML where there is one: an IVA base there includes IEPS
  (LIVA art. 12).
- RMF 2.7.1.35: the complement is due by the 5th calendar day of the month after the payment
  (verify the current RMF with an accountant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from mexico_localization.cfdi.arithmetic import tax_bases
from mexico_localization.cfdi.catalogs import PAYMENT_FORMS
from mexico_localization.cfdi.mapping import customer_body, tax_body
from mexico_localization.cfdi.model import Line, Receiver, Tax
from mexico_localization.cfdi.money import as_number, cents, micros
from mexico_localization.cfdi.problems import CfdiDataError, Problem, problem

TO_BE_DEFINED = "99"   # "Por definir": the PPD sale's own form, never a payment's


@dataclass(frozen=True)
class DeferredSale:
    """A stamped PPD CFDI and where it stands."""

    name: str                  # the sale (POS Invoice or Sales Invoice)
    uuid: str
    posted: datetime
    total: Decimal             # the CFDI's total
    lines: tuple[Line, ...]    # as the CFDI states them: its tax bases when its XML gives none
    paid: Decimal = Decimal(0)       # stamped complements so far
    credited: Decimal = Decimal(0)   # credit notes related to it
    installments: int = 0            # stamped complements so far
    currency: str = "MXN"
    bases: tuple[tuple[Tax, Decimal], ...] | None = None   # each tax's base, from the stamped XML

    @property
    def balance(self) -> Decimal:
        return max(Decimal(0), self.total - self.paid - self.credited)


@dataclass(frozen=True)
class Received:
    """One payment as the Payment Entry records it."""

    payment_form: str          # c_FormaPago of its Mode of Payment
    paid_at: datetime          # timezone-aware
    amount: Decimal
    currency: str = "MXN"
    exchange_rate: Decimal = Decimal(1)
    reference: str = ""        # NumOperacion (the bank reference)
    mode: str = ""             # for messages
    rates: tuple[tuple[str, Decimal], ...] = ()   # MXN per unit of a related CFDI's currency, on the payment date


def allocate(amount: Decimal, sales: Sequence[DeferredSale]) -> tuple[list[tuple[DeferredSale, Decimal]], Decimal]:
    """The payment applied oldest sale first; returns the allocations and what was left over."""
    left = amount
    allocations = []
    for sale in sorted(sales, key=lambda s: (s.posted, s.name)):
        if left <= 0:
            break
        share = min(sale.balance, left)
        if share > 0:
            allocations.append((sale, share))
            left -= share
    return allocations, left


def paid_taxes(sale: DeferredSale, amount: Decimal) -> tuple[str, list[dict[str, Any]]]:
    """ObjetoImpDR and the taxes of the paid share of `sale`, each at its share of its base."""
    share = amount / sale.total if sale.total else Decimal(0)
    taxes = []
    for tax, base in (sale.bases if sale.bases is not None else tax_bases(sale.lines)):
        body = tax_body(tax)
        body["base"] = as_number(micros(base * share))
        taxes.append(body)
    return ("02" if taxes else "01"), taxes


def equivalence(sale: DeferredSale, payment: Received) -> Decimal | None:
    """EquivalenciaDR (Pagos 2.0): units of the related CFDI's currency worth one unit of the payment's,
    on the payment date; 1 for the same currency, None when the rate of the CFDI's currency is missing."""
    if sale.currency == payment.currency:
        return Decimal(1)
    rate = Decimal(1) if sale.currency == "MXN" else dict(payment.rates).get(sale.currency)
    if not rate:
        return None
    return (payment.exchange_rate / rate).quantize(Decimal("0.0000000001"))


def related_document(sale: DeferredSale, amount: Decimal, payment: Received | None = None) -> dict[str, Any]:
    """One DoctoRelacionado: amounts in the related CFDI's own currency (MonedaDR), with its
    EquivalenciaDR to the payment's currency when they differ."""
    taxability, taxes = paid_taxes(sale, amount)
    document: dict[str, Any] = {"uuid": sale.uuid, "amount": as_number(cents(amount)),
                                "installment": sale.installments + 1, "last_balance": as_number(cents(sale.balance)),
                                "taxability": taxability, "taxes": taxes}  # required by the spec, even empty
    if sale.currency != "MXN":
        document["currency"] = sale.currency
    if payment is not None and sale.currency != payment.currency:
        document["exchange"] = as_number(equivalence(sale, payment) or Decimal(0))
    return document


def payment_time(paid_on: datetime, now: datetime, sold_at: Sequence[datetime]) -> datetime:
    """FechaPago: when the payment was received, never before the sales it pays (a payment cannot
    precede its invoice) nor in the future (SAT refuses both); a till payment is its sale's moment."""
    return min(max(paid_on, *sold_at), now) if sold_at else min(paid_on, now)


def complement_deadline(paid_on: date) -> date:
    """RMF 2.7.1.35: by the 5th calendar day of the month after the payment."""
    year, month = (paid_on.year + 1, 1) if paid_on.month == 12 else (paid_on.year, paid_on.month + 1)
    return date(year, month, 5)


Allocations = Sequence[tuple[DeferredSale, Decimal]]


def build_payment_complement(receiver: Receiver, payment: Received, allocations: Allocations,
                             expedition_zip: str) -> dict[str, Any]:
    """FacturaAPI's body for one payment complement, or CfdiDataError listing every problem."""
    return build_payments(receiver, [(payment, allocations)], expedition_zip)


def build_payments(receiver: Receiver, payments: Sequence[tuple[Received, Allocations]],
                   expedition_zip: str) -> dict[str, Any]:
    """One CFDI de pago with a Pago node per payment (Pagos 2.0 admits several), or CfdiDataError."""
    found = [p for payment, allocations in payments for p in payment_problems(payment, allocations)]
    if found:
        raise CfdiDataError(found)
    return {"type": "P", "customer": customer_body(receiver, expedition_zip),
            "complements": [{"type": "pago", "data": [payment_node(p, a) for p, a in payments]}],
            "address": {"zip": expedition_zip}}


def payment_problems(payment: Received, allocations: Allocations) -> list[Problem]:
    found = []
    if payment.payment_form not in PAYMENT_FORMS or payment.payment_form == TO_BE_DEFINED:
        found.append(problem("payment_form", mode=payment.mode or payment.payment_form or "?"))
    if not allocations:
        found.append(problem("complement_nothing_due"))
    for sale, amount in allocations:
        if amount > sale.balance:
            found.append(problem("complement_over_balance", sale=sale.name, amount=amount, balance=sale.balance))
        if equivalence(sale, payment) is None:
            found.append(problem("complement_exchange", sale=sale.name, currency=sale.currency,
                                 payment_currency=payment.currency))
    return found


def payment_node(payment: Received, allocations: Allocations) -> dict[str, Any]:
    data: dict[str, Any] = {"payment_form": payment.payment_form, "date": payment.paid_at.isoformat(timespec="seconds"),
                            "related_documents": [related_document(s, a, payment) for s, a in allocations]}
    if payment.currency != "MXN":
        data["currency"], data["exchange"] = payment.currency, as_number(payment.exchange_rate)
    if payment.reference:
        data["numOperacion"] = payment.reference[:100]
    return data


def till_payments(sale: DeferredSale, settled: dict[str, Decimal], paid_at: datetime, currency: str = "MXN",
                  exchange_rate: Decimal = Decimal(1)) -> list[tuple[Received, Allocations]]:
    """A PPD sale paid in part at the till with several forms: one payment per form (largest first),
    each a further installment of the sale with the balance the previous one left (Pagos 2.0: a Pago
    node has one FormaDePagoP)."""
    found: list[tuple[Received, Allocations]] = []
    for form, amount in sorted(((f, a) for f, a in settled.items() if a > 0), key=lambda fa: (-fa[1], fa[0])):
        found.append((Received(form, paid_at, amount, currency, exchange_rate), [(sale, amount)]))
        sale = replace(sale, paid=sale.paid + amount, installments=sale.installments + 1)
    return found

"""The SAT payment form (c_FormaPago) a PUE CFDI declares for what the till received: one rule for
a sale's own CFDI, a global CFDI and a till payment's complement.

Anexo 20, Guía de llenado (FormaPago): when several forms were used, the one with which the
greatest amount was paid. The change handed back comes out of cash (out of the largest form when
no cash was received), so what is compared is what each form really settled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from mexico_localization.cfdi.model import Payment

CASH = "01"
Receipt = tuple[Sequence[Payment], Decimal]  # one ticket's payments and the change handed back


def settled_by_form(receipts: Iterable[Receipt]) -> dict[str, Decimal]:
    """What each SAT form settled across the tickets (returns netted in arrive as negative payments)."""
    settled: dict[str, Decimal] = {}
    for payments, change in receipts:
        amounts: dict[str, Decimal] = {}
        for payment in payments:
            amounts[payment.payment_form] = amounts.get(payment.payment_form, Decimal(0)) + payment.amount
        received = {form: amount for form, amount in amounts.items() if amount > 0}
        if change and received:
            taker = CASH if CASH in received else max(received, key=lambda form: received[form])
            amounts[taker] -= change
        for form, amount in amounts.items():
            settled[form] = settled.get(form, Decimal(0)) + amount
    return settled


def dominant_form(receipts: Iterable[Receipt]) -> str:
    """The form that settled the most (a tie goes to cash); cash when nothing was received."""
    settled = {form: amount for form, amount in settled_by_form(receipts).items() if amount > 0}
    return max(settled, key=lambda form: (settled[form], form == CASH)) if settled else CASH

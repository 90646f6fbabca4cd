"""A CFDI row's kind, and the builder the stamping job asks for its body."""

from __future__ import annotations

from collections.abc import Callable

from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.einvoice.kinds import credit_note, global_invoice, payment_complement, sale, substitute

SALE, SUBSTITUTE, CREDIT_NOTE, GLOBAL, PAYMENT_COMPLEMENT = (
    "sale", "substitute", "credit note", "global", "payment complement")

BUILDERS: dict[str, Callable[[object], BuiltInvoice]] = {
    SALE: sale.build,
    SUBSTITUTE: substitute.build,
    CREDIT_NOTE: credit_note.build,
    GLOBAL: global_invoice.build,
    PAYMENT_COMPLEMENT: payment_complement.build,
}


def kind_of(row) -> str:
    if row.cfdi_type == "P":
        return PAYMENT_COMPLEMENT
    if row.cfdi_type == "E":
        return CREDIT_NOTE
    if row.is_global:
        return GLOBAL
    return SUBSTITUTE if row.substitutes else SALE


def build(row) -> BuiltInvoice:
    """The body FacturaAPI takes for this row, or CfdiDataError naming every problem."""
    return BUILDERS[kind_of(row)](row)

"""A POS return becomes a CFDI de egreso related to the CFDI of the sale it returns, and a
corrected sale a substitute CFDI: the relations SAT expects (c_TipoRelacion), built on the
ingreso mapping so amounts, taxes and the receiver follow the same rules.

- Return of merchandise: type E, relation 03 ("Devolución de mercancía sobre facturas o traslados
  previos") to the original's UUID (the global's UUID for a walk-in ticket), PUE, use G02 where
  c_UsoCFDI admits it for the receiver's regime, else S01, the payment form of the refund.
- A return that only lowers what the buyer still owes on a PPD sale moves no money: its form is 15
  (Condonación), as SAT's CFDI FAQ and PACs advise for a credit note on an unpaid invoice (verify with
  your accountant); what exceeds the balance went back as the sale was paid.
- Substitution: the new CFDI carries relation 04 ("Sustitución de los CFDI previos") to the UUID
  it replaces; the old one is then cancelled with motive 01 naming the new one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from mexico_localization.cfdi.catalogs import CFDI_USES
from mexico_localization.cfdi.mapping import BuiltInvoice, build_invoice
from mexico_localization.cfdi.model import Line, Payment, Sale

RETURN_RELATION = "03"
SUBSTITUTION_RELATION = "04"
CREDIT_NOTE_USE = "G02"          # Devoluciones, descuentos o bonificaciones
CONDONATION = "15"               # c_FormaPago: the credit note settles part of a debt, no money moves
NO_TAX_EFFECT_USE = "S01"        # the only use regime 616 (público en general, foreign) admits besides CP01
# A person cancels with 02 or 03. 01 only through a substitution (Re-issue CFDI); 04 ("operación
# nominativa relacionada en una factura global") only for a global, when a ticket gets its own CFDI.
USER_MOTIVES = ("02", "03")


def credit_note_use(regime: str) -> str:
    """G02 where c_UsoCFDI allows it for the receiver's regime, else S01 (allowed for every regime): a
    receiver in regime 605, 607, 608, 610, 611, 614, 615 or 616 may not receive G02."""
    return CREDIT_NOTE_USE if regime in CFDI_USES[CREDIT_NOTE_USE].regimes else NO_TAX_EFFECT_USE


def positive(line: Line) -> Line:
    """A return line as ERPNext keeps it (negative quantity and amount) as the concept it refunds."""
    return replace(line, quantity=abs(line.quantity), net_amount=abs(line.net_amount),
                   unit_price=abs(line.unit_price))


def settlement(amount: Decimal, balance_due: Decimal, refund: tuple[Payment, ...]) -> tuple[Payment, ...]:
    """How a credit note of `amount` settles when the return records no payment of its own: first
    against what the buyer still owes on the original (Condonación), the rest as the sale was paid."""
    against_balance = min(max(balance_due, Decimal(0)), amount)
    rest = amount - against_balance
    paid = sum((p.amount for p in refund if p.amount > 0), Decimal(0))
    back = tuple(replace(p, amount=p.amount * rest / paid) for p in refund if p.amount > 0) if rest and paid else ()
    return ((Payment(CONDONATION, against_balance, "Condonación"),) if against_balance else ()) + back


def build_credit_note(sale_return: Sale, related_uuid: str, now: datetime,
                      refund: tuple[Payment, ...] = (), balance_due: Decimal = Decimal(0)) -> BuiltInvoice:
    """The egreso for a return, or CfdiDataError listing every problem. `refund`: how the money went
    back when the return itself records no payment (the original sale's payments); `balance_due`: what
    the buyer still owed on the original's CFDI (a PPD sale)."""
    receiver = sale_return.receiver
    use = credit_note_use(receiver.tax_system)
    payments = (tuple(replace(p, amount=abs(p.amount)) for p in sale_return.payments if p.amount)
                or settlement(abs(sale_return.grand_total), balance_due, refund))
    sale = replace(sale_return, receiver=replace(receiver, cfdi_use=use), payments=payments,
                   lines=tuple(positive(line) for line in sale_return.lines),
                   change_amount=abs(sale_return.change_amount), outstanding_amount=Decimal(0),
                   grand_total=abs(sale_return.grand_total))
    built = build_invoice(sale, now)
    body = {**built.body, "type": "E", "payment_method": "PUE",
            "related_documents": [{"relationship": RETURN_RELATION, "documents": [related_uuid]}]}
    return BuiltInvoice(body, built.late_stamp, built.left_out)


def as_substitute(built: BuiltInvoice, replaced_uuid: str) -> BuiltInvoice:
    """The same CFDI, related to the one it replaces (Re-issue CFDI)."""
    related = [*built.body.get("related_documents", []),
               {"relationship": SUBSTITUTION_RELATION, "documents": [replaced_uuid]}]
    return BuiltInvoice({**built.body, "related_documents": related}, built.late_stamp, built.left_out)

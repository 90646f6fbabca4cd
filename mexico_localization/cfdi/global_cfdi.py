"""The periodic global CFDI to público en general (RMF 2.7.1.21, SAT's "Guía de llenado del CFDI
global"): its periods, one concept per ticket, the body FacturaAPI takes, and chunks that respect
FacturaAPI's item limit.

A ticket becomes one concept (ClaveProdServ 01010101, unit ACT, quantity 1, description "Venta",
NoIdentificacion = the ticket number) per tax treatment: a ticket that mixes, say, IVA 16 % and 0 %
lines gets one concept for each, under the same ticket number, so every concept's tax base is its
own amount. Returns of a ticket made before its global is issued are netted into its concepts; a
fully returned ticket drops out. IEPS is inside the price (público en general never receives it
apart, LIEPS art. 19-II), and the concepts' bases are fitted so that the global's total is what the
tickets were paid (cfdi/arithmetic.py).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mexico_localization.cfdi.arithmetic import fit_to_total, fold_ieps
from mexico_localization.cfdi.catalogs import PAYMENT_FORMS, PUBLIC_NAME, PUBLIC_RFC
from mexico_localization.cfdi.mapping import BuiltInvoice, concept
from mexico_localization.cfdi.model import Line, Payment, Tax
from mexico_localization.cfdi.payment_form import dominant_form
from mexico_localization.cfdi.problems import CfdiDataError, Problem, problem
from mexico_localization.cfdi.validation import ZIP_PATTERN, tax_problems

PRODUCT_KEY = "01010101"   # "No existe en el catálogo": SAT's key for a global concept
UNIT_KEY = "ACT"           # Actividad
DESCRIPTION = "Venta"
MAX_CONCEPTS = 5000        # FacturaAPI's maxItems on an invoice
MAX_TICKETS = 1500         # per global: room for three tax treatments per ticket within MAX_CONCEPTS

DAY, WEEK, FORTNIGHT, MONTH, TWO_MONTHS = "day", "week", "fortnight", "month", "two_months"
SAT_PERIODICITY = {DAY: "01", WEEK: "02", FORTNIGHT: "03", MONTH: "04", TWO_MONTHS: "05"}


@dataclass(frozen=True)
class Period:
    """The days one global CFDI covers (both ends included), never across a month end (a bimester for
    `two_months`): SAT's InformacionGlobal names a single month or bimester."""

    periodicity: str
    start: date
    end: date

    @property
    def months(self) -> str:
        """SAT c_Meses: "01".."12", or "13".."18" for the bimesters January–February .. November–December."""
        if self.periodicity == TWO_MONTHS:
            return str(12 + (self.start.month + 1) // 2)
        return f"{self.start.month:02d}"

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def key(self) -> str:
        return f"{self.start:%Y%m%d}" if self.start == self.end else f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    def closes_at(self) -> datetime:
        """The (naive, site-time) moment the period closes: midnight after its last day."""
        return datetime.combine(self.end + timedelta(days=1), time())

    def deadline(self) -> datetime:
        """RMF 2.7.1.21: the global is issued within the 24 hours after the period closes."""
        return self.closes_at() + timedelta(hours=24)

    def as_facturapi(self) -> dict[str, Any]:
        return {"periodicity": self.periodicity, "months": self.months, "year": self.year}


def period_of(day: date, periodicity: str) -> Period:
    """The period `day` falls in. Weeks run Monday to Sunday, cut at a month end; fortnights are
    the 1st–15th and the 16th–end of month."""
    last = calendar.monthrange(day.year, day.month)[1]
    month_start, month_end = day.replace(day=1), day.replace(day=last)
    if periodicity == DAY:
        return Period(DAY, day, day)
    if periodicity == WEEK:
        monday = day - timedelta(days=day.weekday())
        return Period(WEEK, max(monday, month_start), min(monday + timedelta(days=6), month_end))
    if periodicity == FORTNIGHT:
        return Period(FORTNIGHT, *((month_start, day.replace(day=15)) if day.day <= 15
                                   else (day.replace(day=16), month_end)))
    if periodicity == MONTH:
        return Period(MONTH, month_start, month_end)
    if periodicity == TWO_MONTHS:
        first = day.replace(month=day.month - (day.month + 1) % 2, day=1)
        second = first.replace(month=first.month + 1)
        return Period(TWO_MONTHS, first, second.replace(day=calendar.monthrange(second.year, second.month)[1]))
    raise ValueError(f"unknown periodicity {periodicity!r}")


@dataclass(frozen=True)
class Ticket:
    """A walk-in sale as the global sees it: its lines in MXN (the company currency), with the lines
    of returns made against it before the global was issued (negative amounts) netted in."""

    name: str
    lines: tuple[Line, ...]
    payments: tuple[Payment, ...] = ()
    change_amount: Decimal = Decimal(0)
    total: Decimal | None = None   # what the ticket was paid, net of its netted returns (MXN)


def ticket_concepts(ticket: Ticket) -> list[Line]:
    """One quantity-1 concept per tax treatment of the ticket, in the order first seen."""
    totals: dict[tuple[str, tuple[Tax, ...]], Decimal] = {}
    for line in map(fold_ieps, ticket.lines):
        treatment = (line.taxability, line.taxes if line.taxability != "01" else ())
        totals[treatment] = totals.get(treatment, Decimal(0)) + line.net_amount
    return [Line(item_code=ticket.name, description=DESCRIPTION, quantity=Decimal(1), unit_price=amount,
                 net_amount=amount, product_key=PRODUCT_KEY, unit_key=UNIT_KEY, taxes=taxes, taxability=taxability)
            for (taxability, taxes), amount in totals.items() if amount > 0]


def global_problems(tickets: Sequence[Ticket], expedition_zip: str) -> list[Problem]:
    found: list[Problem] = []
    if not ZIP_PATTERN.fullmatch(expedition_zip or ""):
        found.append(problem("expedition_zip"))
    seen: set[str] = set()
    for ticket in tickets:
        for payment in ticket.payments:
            if payment.amount > 0 and payment.payment_form not in PAYMENT_FORMS and payment.mode not in seen:
                seen.add(payment.mode)
                found.append(problem("payment_form", mode=payment.mode or payment.payment_form or "?"))
        for line in ticket.lines:
            found += tax_problems(line)
            if any(tax.factor == "Cuota" for tax in line.taxes):
                found.append(problem("global_cuota", ticket=ticket.name, item=line.item_code))
    if not any(ticket_concepts(t) for t in tickets):
        found.append(problem("global_empty"))
    return found


def build_global(tickets: Sequence[Ticket], period: Period, expedition_zip: str, series: str = "") -> BuiltInvoice:
    """FacturaAPI's body for one global CFDI, or CfdiDataError listing every problem. FacturaAPI
    dates it when it stamps it (inside the 72 hours it accepts), so no `date` is sent."""
    found = global_problems(tickets, expedition_zip)
    if found:
        raise CfdiDataError(found)
    concepts = [c for ticket in tickets for c in ticket_concepts(ticket)]
    if len(concepts) > MAX_CONCEPTS:
        raise CfdiDataError([problem("global_too_many", count=len(concepts), limit=MAX_CONCEPTS)])
    if all(t.total is not None for t in tickets):
        concepts = list(fit_to_total(concepts, sum((t.total or Decimal(0) for t in tickets), Decimal(0))))
    body: dict[str, Any] = {
        "type": "I",
        "customer": {"legal_name": PUBLIC_NAME, "tax_id": PUBLIC_RFC, "tax_system": "616",
                     "address": {"zip": expedition_zip}},
        "use": "S01",
        "payment_form": dominant_form((t.payments, t.change_amount) for t in tickets),
        "payment_method": "PUE",
        "items": [concept(c) for c in concepts],
        "address": {"zip": expedition_zip},
        "global": period.as_facturapi(),
    }
    if series:
        body["series"] = series
    return BuiltInvoice(body, late_stamp=False)


def chunked(names: Sequence[str], size: int) -> list[list[str]]:
    """Tickets in order, `size` to a global CFDI (at most MAX_TICKETS)."""
    size = max(1, min(size, MAX_TICKETS))
    return [list(names[i:i + size]) for i in range(0, len(names), size)]

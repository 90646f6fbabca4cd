"""The global CFDI to público en general: its rows (a period's, an "Each ticket" sale's, a re-issue
without the tickets that left it) and its body.

A ticket belongs to a global once its `mx_cfdi` names the global's row; the assignment is one
conditional UPDATE, so a global being assembled and a nominative request can never both take the
same ticket. Nothing here commits: the caller's transaction holds the tickets and the row together.
"""

from __future__ import annotations

from collections import defaultdict

import frappe
from frappe.utils import flt, getdate, now_datetime

from mexico_localization.cfdi.credit_note import as_substitute
from mexico_localization.cfdi.global_cfdi import (
    DAY,
    FORTNIGHT,
    MONTH,
    TWO_MONTHS,
    WEEK,
    Period,
    build_global,
    period_of,
)
from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.cfdi.problems import CfdiDataError, problem
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.gather import charged, charged_in_company_currency, returns_in, tickets_from_invoices
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE, new_row
from mexico_localization.einvoice.settings import get_settings

EACH_TICKET = "Each ticket"
PERIODICITY = {"Daily": DAY, "Weekly": WEEK, "Fortnightly": FORTNIGHT, "Monthly": MONTH, "Bimonthly": TWO_MONTHS}


def periodicity(settings=None) -> str | None:
    """FacturaAPI's word for the setting; None for "Each ticket"."""
    value = (settings or get_settings()).get("global_periodicity") or "Daily"
    return None if value == EACH_TICKET else PERIODICITY[value]


def create_global(company: str, zip_: str, period: Period, names: list[str], series: str = "",
                  previous: str | None = None, first: str | None = None, **extra) -> str | None:
    """Takes the tickets still free (or, re-issuing, still on `previous`) and writes their global's
    row, Queued, in the caller's transaction; the stamp job runs after its commit. None when no
    ticket was free (nothing was written)."""
    name = first or global_name(zip_, period)
    holder = "mx_cfdi = %(previous)s" if previous else "ifnull(mx_cfdi, '') = ''"
    frappe.db.sql(f"""update `tabPOS Invoice` set mx_cfdi = %(name)s
                      where name in %(names)s and docstatus = 1 and {holder}""",  # noqa: S608 (fixed text)
                  {"name": name, "names": tuple(names), "previous": previous})
    taken = frappe.get_all("POS Invoice", filters={"mx_cfdi": name, "is_return": 0, "docstatus": 1},
                           order_by="posting_date, name",
                           fields=["name", "posting_date", "currency"])
    if not taken:
        return None
    returns = _returns_of([t.name for t in taken], previous)
    if returns:
        frappe.db.sql("update `tabPOS Invoice` set mx_cfdi = %s where name in %s",
                      (name, tuple(r.name for r in returns)))
    amounts = charged_in_company_currency([t.name for t in taken] + [r.name for r in returns])
    returned: dict[str, float] = defaultdict(float)
    for r in returns:
        returned[r.return_against] += flt(amounts[r.name])
    tickets = [{"pos_invoice": t.name, "posting_date": t.posting_date,
                "amount": flt(amounts[t.name]) + returned[t.name]} for t in taken]
    note = (f"Issued after SAT's deadline for this period ({period.deadline()}): the global CFDI is due within "
            f"24 hours after the period closes (RMF 2.7.1.21).") if now_datetime() > period.deadline() else None
    global_row(name, ("Company", company), company, period, zip_, series, tickets,
               frappe.get_cached_value("Company", company, "default_currency"), review_note=note, **extra)
    return name


def global_row(name: str, reference: tuple[str, str], company: str, period: Period, zip_: str, series: str,
               tickets: list[dict], currency: str, review_note: str | None = None,
               queue: str | None = LIVE_QUEUE, **extra) -> str:
    """A global CFDI's row, Queued, with its tickets; the total is theirs."""
    return new_row({**extra,
        "reference_doctype": reference[0], "reference_name": reference[1], "cfdi_type": "I", "is_global": 1,
        "company": company, "status": CfdiState.QUEUED.value, "currency": currency, "series": series,
        "total": sum(flt(t["amount"]) for t in tickets), "global_periodicity": period.periodicity,
        "period_start": period.start, "period_end": period.end, "expedition_zip": zip_, "tickets": tickets,
        "review_note": review_note,
    }, name=name, queue=queue)


def global_name(zip_: str, period: Period, tag: str = "") -> str:
    """GLOBAL-<zip>-<period>[<tag>], then -2, -3 for further chunks (a re-issue's tag is -R)."""
    base = f"GLOBAL-{zip_ or 'SIN-CP'}-{period.key}{tag}"
    name, n = base, 1
    while frappe.db.exists("CFDI", name):
        n += 1
        name = f"{base}-{n}"
    return name


def _returns_of(tickets: list[str], previous: str | None) -> list:
    """The returns to net into a new global: those waiting for one, or, re-issuing, those the previous
    global netted (whatever state its mirror gave them since)."""
    holder = "mx_cfdi = %(previous)s" if previous else "ifnull(mx_cfdi, '') = '' and mx_cfdi_status = %(waiting)s"
    # Found by the returned sale (indexed): frappe.get_all's default order by `modified` made MariaDB
    # walk every sale instead.
    return frappe.db.sql(f"""select name, return_against from `tabPOS Invoice`
        where return_against in %(tickets)s and is_return = 1 and docstatus = 1 and {holder}
        order by name""",  # noqa: S608 (fixed text)
        {"tickets": tuple(tickets), "previous": previous, "waiting": CfdiState.AWAITING_GLOBAL.value}, as_dict=True)


def each_ticket_global(invoice, zip_: str, series: str, queue: str | None = LIVE_QUEUE) -> str:
    """"Each ticket": the walk-in sale's own one-ticket global, written in the cashier's transaction."""
    tickets = [{"pos_invoice": invoice.name, "posting_date": invoice.posting_date,
                "amount": flt(charged(invoice, base=True))}]
    return global_row(f"{invoice.name}-IG", (invoice.doctype, invoice.name), invoice.company,
                      period_of(getdate(invoice.posting_date), DAY), zip_, series, tickets, invoice.currency,
                      queue=queue)


def remove_ticket(global_name_: str, ticket: str, nominative: str) -> None:
    """Marks the ticket's row in the global: its next build (retry or re-issue) leaves it out."""
    frappe.db.set_value("CFDI Global Ticket", {"parent": global_name_, "pos_invoice": ticket}, "removed_by",
                        nominative, update_modified=False)


def reissue_remaining(old) -> str | None:
    """After `old` (a global) is cancelled with motive 04: its other tickets in a new global."""
    remaining = [row.pos_invoice for row in old.tickets if not row.removed_by]
    if not remaining or old.reissued_as:
        return None
    period = Period(old.global_periodicity, getdate(old.period_start), getdate(old.period_end))
    new = create_global(old.company, old.expedition_zip, period, remaining, series=old.series or "",
                        previous=old.name, first=global_name(old.expedition_zip, period, tag="-R"))
    if new:
        frappe.db.set_value("CFDI", old.name, "reissued_as", new, update_modified=False)
    return new


def replacement(old) -> str | None:
    """A new global over the tickets `old` still holds, related to it by substitution (04): stamped
    first, it then has `old` cancelled with motive 01 (a follow-up), so the tickets stay covered."""
    held = [row.pos_invoice for row in old.tickets if not row.removed_by]
    if not held:
        return None
    period = Period(old.global_periodicity, getdate(old.period_start), getdate(old.period_end))
    return create_global(old.company, old.expedition_zip, period, held, series=old.series or "", previous=old.name,
                         first=global_name(old.expedition_zip, period, tag="-S"), substitutes=old.name,
                         related_uuids=old.uuid)


def build(row) -> BuiltInvoice:
    """The tickets the global still holds, with the returns netted into them; a ticket cancelled in
    ERPNext meanwhile is refused with its name, never declared."""
    held = [t.pos_invoice for t in row.tickets if not t.removed_by]
    cancelled = frappe.get_all("POS Invoice", pluck="name", filters={"name": ["in", held or [""]], "docstatus": 2})
    if cancelled:
        raise CfdiDataError([problem("global_cancelled_ticket", ticket=name) for name in sorted(cancelled)])
    returns = returns_in(row.name)
    tickets = tickets_from_invoices(returns, held)
    period = Period(row.global_periodicity, getdate(row.period_start), getdate(row.period_end))
    built = build_global(tickets, period, row.expedition_zip or "", row.series or "")
    if row.substitutes:
        return as_substitute(built, frappe.db.get_value("CFDI", row.substitutes, "uuid"))
    return built

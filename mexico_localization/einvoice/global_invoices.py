"""Walk-in tickets into the global CFDI to público en general, and tickets out of it again when
their customer asks for a nominative CFDI.

A ticket belongs to a global once its `mx_cfdi` names the global's CFDI row; the assignment is
one conditional UPDATE, so a global being assembled and a nominative request can never both take
the same ticket. The global itself is stamped by the ordinary stamping job (claim, idempotency,
recording, retries); only its body differs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import frappe
from frappe import _
from frappe.utils import flt, getdate, now_datetime

from mexico_localization.cfdi.global_cfdi import (
    DAY,
    FORTNIGHT,
    MONTH,
    TWO_MONTHS,
    WEEK,
    Period,
    chunked,
    period_of,
)
from mexico_localization.cfdi.states import IN_FLIGHT, CfdiState
from mexico_localization.einvoice.returns import convert_to_credit_note
from mexico_localization.einvoice.settings import get_settings
from mexico_localization.einvoice.stamping import enqueue_stamp, external_id, sale_cfdi_row

S = CfdiState
EACH_TICKET = "Each ticket"
PERIODICITY = {"Daily": DAY, "Weekly": WEEK, "Fortnightly": FORTNIGHT, "Monthly": MONTH, "Bimonthly": TWO_MONTHS}


def periodicity(settings=None) -> str | None:
    """FacturaAPI's word for the setting; None for "Each ticket"."""
    value = (settings or get_settings()).get("global_periodicity") or "Daily"
    return None if value == EACH_TICKET else PERIODICITY[value]


def issue_due_globals(now: datetime | None = None) -> list[str]:
    """Scheduler (hourly): one global CFDI per place of issue and closed period, in chunks, for the
    walk-in tickets still waiting. Tickets left from an "Each ticket" time go into daily globals."""
    settings = get_settings()
    if not settings.enable_e_invoice or not settings.company:
        return []
    now = now or now_datetime()
    _settle_stray_returns()
    word = periodicity(settings) or DAY
    groups: dict[tuple[str, Period], list[str]] = defaultdict(list)
    for row in _waiting_tickets(settings.company, getdate(now)):
        period = period_of(getdate(row.posting_date), word)
        if period.closes_at() <= now:
            groups[(row.zip, period)].append(row.name)
    made = []
    for (zip_, period), names in sorted(groups.items(), key=lambda g: (g[0][1].start, g[0][0])):
        for chunk in chunked(names, int(settings.global_max_concepts or 1000)):
            name = create_global(settings.company, zip_, period, chunk, series=settings.global_series or "")
            if name:
                made.append(name)
    return made


def _waiting_tickets(company: str, today: date) -> list:
    return frappe.db.sql("""
        select pi.name, pi.posting_date, ifnull(pp.mx_expedition_zip, '') as zip
        from `tabPOS Invoice` pi left join `tabPOS Profile` pp on pp.name = pi.pos_profile
        where pi.docstatus = 1 and pi.is_return = 0 and pi.company = %s and pi.mx_cfdi_status = %s
          and ifnull(pi.mx_cfdi, '') = '' and pi.posting_date < %s
        order by pi.posting_date, pi.posting_time, pi.name""", (company, S.AWAITING_GLOBAL.value, today), as_dict=True)


def create_global(company: str, zip_: str, period: Period, names: list[str], series: str = "",
                  previous: str | None = None, first: str | None = None) -> str | None:
    """Takes the tickets still free (or, re-issuing, still on `previous`) and writes their global's
    CFDI row, in one transaction; the stamp job runs after the commit. None when none was free."""
    name = first or _global_name(zip_, period)
    holder = "mx_cfdi = %(previous)s" if previous else "ifnull(mx_cfdi, '') = ''"
    frappe.db.sql(f"""update `tabPOS Invoice` set mx_cfdi = %(name)s
                      where name in %(names)s and docstatus = 1 and {holder}""",  # noqa: S608 (fixed text)
                  {"name": name, "names": tuple(names), "previous": previous})
    taken = frappe.get_all("POS Invoice", filters={"mx_cfdi": name, "is_return": 0}, order_by="posting_date, name",
                           fields=["name", "posting_date", "base_grand_total", "currency"])
    if not taken:
        frappe.db.rollback()
        return None
    returns = _returns_of([t.name for t in taken], previous)
    if returns:
        frappe.db.sql("update `tabPOS Invoice` set mx_cfdi = %s where name in %s",
                      (name, tuple(r.name for r in returns)))
    returned = defaultdict(float)
    for r in returns:
        returned[r.return_against] += flt(r.base_grand_total)
    tickets = [{"pos_invoice": t.name, "posting_date": t.posting_date,
                "amount": flt(t.base_grand_total) + returned[t.name]} for t in taken]
    note = (f"Issued after SAT's deadline for this period ({period.deadline()}): the global CFDI is due within "
            f"24 hours after the period closes (RMF 2.7.1.21).") if now_datetime() > period.deadline() else None
    _global_row(name, ("Company", company), company, period, zip_, series, tickets,
                frappe.get_cached_value("Company", company, "default_currency"), review_note=note)
    enqueue_stamp(name)  # runs at this commit
    frappe.db.commit()
    return name


def _global_row(name: str, reference: tuple[str, str], company: str, period: Period, zip_: str, series: str,
                tickets: list[dict], currency: str, review_note: str | None = None, ignore_links: bool = False) -> None:
    """A global CFDI's row, Queued, with its tickets; the total is theirs."""
    cfdi = frappe.new_doc("CFDI")
    cfdi.update({
        "reference_doctype": reference[0], "reference_name": reference[1], "cfdi_type": "I", "is_global": 1,
        "company": company, "status": S.QUEUED.value, "generation": 1, "external_id": external_id(name),
        "currency": currency, "series": series, "total": sum(flt(t["amount"]) for t in tickets),
        "global_periodicity": period.periodicity, "period_start": period.start, "period_end": period.end,
        "expedition_zip": zip_, "tickets": tickets, "review_note": review_note,
    })
    cfdi.insert(ignore_permissions=True, ignore_links=ignore_links, set_name=name)


def _global_name(zip_: str, period: Period, tag: str = "") -> str:
    """GLOBAL-<zip>-<period>[<tag>], then -2, -3 for further chunks (a re-issue's tag is -R)."""
    base = f"GLOBAL-{zip_ or 'SIN-CP'}-{period.key}{tag}"
    name, n = base, 1
    while frappe.db.exists("CFDI", name):
        n += 1
        name = f"{base}-{n}"
    return name


def _returns_of(tickets: list[str], previous: str | None) -> list:
    holder = {"mx_cfdi": previous} if previous else {"mx_cfdi": ["is", "not set"]}
    return frappe.get_all("POS Invoice", fields=["name", "return_against", "base_grand_total"], filters={
        "is_return": 1, "docstatus": 1, "return_against": ["in", tickets],
        "mx_cfdi_status": S.AWAITING_GLOBAL.value, **holder})


def _settle_stray_returns() -> None:
    """A return submitted while its ticket was being put into a global missed it: it becomes a credit
    note related to that global."""
    for name in frappe.db.sql_list("""
            select r.name from `tabPOS Invoice` r join `tabPOS Invoice` t on t.name = r.return_against
            where r.is_return = 1 and r.docstatus = 1 and r.mx_cfdi_status = %s and ifnull(r.mx_cfdi, '') = ''
              and ifnull(t.mx_cfdi, '') != ''""", (S.AWAITING_GLOBAL.value,)):
        convert_to_credit_note(name)
    frappe.db.commit()


def each_ticket_global(invoice, zip_: str, series: str) -> None:
    """"Each ticket": the walk-in sale's own one-ticket global, written in the cashier's transaction
    (the stamp job is queued for after its commit, like any sale's)."""
    name = f"{invoice.name}-IG"
    tickets = [{"pos_invoice": invoice.name, "posting_date": invoice.posting_date, "amount": invoice.base_grand_total}]
    _global_row(name, (invoice.doctype, invoice.name), invoice.company, period_of(getdate(invoice.posting_date), DAY),
                zip_, series, tickets, invoice.currency, ignore_links=True)  # the sale is not in its table yet
    invoice.mx_cfdi = name
    enqueue_stamp(name)


# --- a walk-in ticket asks for its nominative CFDI ----------------------------------------------------

def request_nominative(invoice, customer: str) -> str:
    """The ticket's nominative CFDI to `customer`. Before its global: the ticket simply leaves the
    coming global. After: the nominative is stamped first, then the global is cancelled with motive
    04 and its other tickets are issued again in a new global (stamping.py and cancellation.py)."""
    settings = get_settings()
    holder = invoice.mx_cfdi
    if invoice.mx_cfdi_status == S.AWAITING_GLOBAL.value and not holder:
        return _take_out_before_global(invoice, customer)
    global_row = frappe.db.get_value("CFDI", holder, ["name", "is_global", "status"], as_dict=True) if holder else None
    if not global_row or not global_row.is_global:
        frappe.throw(_("This sale is not waiting for or part of a global CFDI."), title=_("Not a walk-in ticket"))
    if S(global_row.status) in IN_FLIGHT or global_row.status == S.AWAITING_GLOBAL.value:
        frappe.throw(_("The global CFDI {0} that includes this ticket is being stamped right now. Try again in a "
                       "few minutes.").format(global_row.name), title=_("Global CFDI in progress"))
    if global_row.status == S.FAILED.value:
        return _take_out_of_unstamped_global(invoice, customer, global_row.name)
    if global_row.status not in (S.STAMPED.value, S.CANCEL_REJECTED.value):
        frappe.throw(_("The global CFDI {0} that includes this ticket is {1}; a nominative CFDI can be requested "
                       "once it is stamped.").format(global_row.name, _(global_row.status)))
    if not settings.enable_cancellation:
        frappe.throw(_("This ticket is already in the stamped global CFDI {0}. Issuing it a nominative CFDI means "
                       "cancelling that global (motive 04) and issuing it again without the ticket, and Enable "
                       "Cancellation is off in E Invoice Setting.").format(global_row.name),
                     title=_("Cancellation disabled"))
    return _take_out_after_global(invoice, customer, global_row.name)


def _take_out_before_global(invoice, customer: str) -> str:
    frappe.db.sql("""update `tabPOS Invoice` set mx_cfdi = %s
                     where name = %s and mx_cfdi_status = %s and ifnull(mx_cfdi, '') = ''""",
                  (f"{invoice.name}-I", invoice.name, S.AWAITING_GLOBAL.value))
    if frappe.db._cursor.rowcount != 1:
        frappe.db.rollback()
        frappe.throw(_("This ticket was just put into a global CFDI. Try again in a few minutes."),
                     title=_("Global CFDI in progress"))
    name = _queue_nominative(invoice, customer, commit=False)
    _returns_need_credit_note(invoice.name)
    frappe.db.commit()
    return name


def _take_out_of_unstamped_global(invoice, customer: str, global_name: str) -> str:
    """A Failed global was never stamped: the ticket leaves it, and its retry goes without it."""
    name = _remove_from(global_name, invoice, _queue_nominative(invoice, customer, commit=False))
    _returns_need_credit_note(invoice.name)
    frappe.db.commit()
    return name


def _take_out_after_global(invoice, customer: str, global_name: str) -> str:
    name = _remove_from(global_name, invoice, _queue_nominative(invoice, customer, replaces=global_name, commit=False))
    frappe.db.set_value("CFDI", global_name, "reissue_remaining", 1, update_modified=False)
    frappe.db.commit()
    return name


def _remove_from(global_name: str, invoice, nominative: str) -> str:
    """Marks the ticket's row in the global: its next build (retry or re-issue) leaves it out."""
    frappe.db.set_value("CFDI Global Ticket", {"parent": global_name, "pos_invoice": invoice.name}, "removed_by",
                        nominative, update_modified=False)
    return nominative


def _queue_nominative(invoice, customer: str, replaces: str | None = None, commit: bool = True) -> str:
    name = sale_cfdi_row(invoice, receiver_customer=customer, replaces_global=replaces)
    invoice.db_set({"mx_cfdi": name, "mx_cfdi_status": S.QUEUED.value, "mx_cfdi_uuid": None,
                    "mx_cfdi_message": _("Nominative CFDI requested for {0}.").format(customer)},
                   update_modified=False)
    enqueue_stamp(name)
    if commit:
        frappe.db.commit()
    return name


def _returns_need_credit_note(ticket: str) -> None:
    """Returns waiting to be netted into the global: their sale now has a CFDI of its own."""
    for name in frappe.get_all("POS Invoice", pluck="name", filters={
            "is_return": 1, "docstatus": 1, "return_against": ticket, "mx_cfdi_status": S.AWAITING_GLOBAL.value}):
        convert_to_credit_note(name)


def reissue_remaining(old) -> str | None:
    """After `old` (a global) is cancelled with motive 04: its other tickets in a new global."""
    remaining = [row.pos_invoice for row in old.tickets if not row.removed_by]
    if not remaining or old.reissued_as:
        return None
    period = Period(old.global_periodicity, getdate(old.period_start), getdate(old.period_end))
    new = create_global(old.company, old.expedition_zip, period, remaining, series=old.series or "",
                        previous=old.name, first=_global_name(old.expedition_zip, period, tag="-R"))
    if new:
        frappe.db.set_value("CFDI", old.name, "reissued_as", new, update_modified=False)
        frappe.db.commit()
    return new

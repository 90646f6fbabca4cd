"""Walk-in tickets into their period's global CFDI (the hourly job), and a ticket out of it again
when its customer asks for a nominative CFDI."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime

from mexico_localization.cfdi.global_cfdi import DAY, Period, chunked, period_of
from mexico_localization.cfdi.states import IN_FLIGHT, CfdiState
from mexico_localization.einvoice.kinds.credit_note import convert_to_credit_note
from mexico_localization.einvoice.kinds.global_invoice import create_global, periodicity, remove_ticket
from mexico_localization.einvoice.kinds.sale import sale_row
from mexico_localization.einvoice.pipeline.cancellation import refuse_while_related
from mexico_localization.einvoice.settings import get_settings, issuing_companies
from mexico_localization.einvoice.standing import CURRENT_CFDI, POS_SALE, current_cfdis


def issue_due_globals(now: datetime | None = None) -> list[str]:
    """Scheduler (hourly): one global CFDI per place of issue and closed period, in chunks, for the
    walk-in tickets still waiting, each committed with its tickets. Tickets left from an "Each
    ticket" time go into daily globals."""
    settings = get_settings()
    if not settings.enable_e_invoice:
        return []
    now = now or now_datetime()
    settle_stray_returns()
    made = []
    for company in issuing_companies(settings):
        made += _issue_company_globals(settings, company, now)
    return made


def _issue_company_globals(settings, company: str, now: datetime) -> list[str]:
    word = periodicity(settings) or DAY
    groups: dict[tuple[str, Period], list[str]] = defaultdict(list)
    for row in _waiting_tickets(company, getdate(now)):
        period = period_of(getdate(row.posting_date), word)
        if period.closes_at() <= now:
            groups[(row.zip, period)].append(row.name)
    made = []
    for (zip_, period), names in sorted(groups.items(), key=lambda g: (g[0][1].start, g[0][0])):
        for chunk in chunked(names, int(settings.global_max_concepts or 1000)):
            name = create_global(company, zip_, period, chunk, series=settings.global_series or "")
            frappe.db.commit()  # the global's row and its tickets together; its stamp job runs now
            if name:
                made.append(name)
    return made


def _waiting_tickets(company: str, today: date) -> list:
    return frappe.db.sql(f"""
        select pi.name, pi.posting_date, ifnull(pp.mx_expedition_zip, '') as zip
        from `tabPOS Invoice` pi left join `tabPOS Profile` pp on pp.name = pi.pos_profile
        where pi.docstatus = 1 and pi.is_return = 0 and pi.company = %s and pi.mx_cfdi_status = %s
          and ifnull(pi.mx_cfdi, '') = '' and pi.posting_date < %s
          and {CURRENT_CFDI.format(sale="pi.name", doctype=POS_SALE)} is null
        order by pi.posting_date, pi.posting_time, pi.name""",  # noqa: S608 (fixed text)
        (company, CfdiState.AWAITING_GLOBAL.value, today), as_dict=True)


def settle_stray_returns() -> None:
    """A return submitted while its ticket was being put into a global missed it: it becomes a credit
    note related to that global."""
    for name in frappe.db.sql_list("""
            select r.name from `tabPOS Invoice` r join `tabPOS Invoice` t on t.name = r.return_against
            where r.is_return = 1 and r.docstatus = 1 and r.mx_cfdi_status = %s and ifnull(r.mx_cfdi, '') = ''
              and ifnull(t.mx_cfdi, '') != ''""", (CfdiState.AWAITING_GLOBAL.value,)):
        convert_to_credit_note(name)
    frappe.db.commit()


# --- a walk-in ticket asks for its nominative CFDI ----------------------------------------------------

def request_nominative(invoice, customer: str, **values) -> str:
    """The ticket's nominative CFDI to `customer`, in the caller's transaction. Before its global:
    the ticket simply leaves the coming global. After: the nominative is stamped first, then (its
    follow-up) the global is cancelled with motive 04 and its other tickets issued again. `values`:
    more of the new CFDI row's fields (what a self-invoicing buyer chose)."""
    settings = get_settings()
    global_row = current_cfdis([invoice.name]).get(invoice.name)  # from the rows, not the sale's fields
    if global_row is None and invoice.mx_cfdi_status == CfdiState.AWAITING_GLOBAL.value and not invoice.mx_cfdi:
        return _take_out_before_global(invoice, customer, values)
    if not global_row or not global_row.is_global:
        frappe.throw(_("This sale is not waiting for or part of a global CFDI."), title=_("Not a walk-in ticket"))
    if CfdiState(global_row.status) in IN_FLIGHT:
        frappe.throw(_("The global CFDI {0} that includes this ticket is being stamped right now. Try again in a "
                       "few minutes.").format(global_row.name), title=_("Global CFDI in progress"))
    if global_row.status == CfdiState.FAILED.value:
        return _take_out_of_unstamped_global(invoice, customer, global_row.name, values)
    if global_row.status not in (CfdiState.STAMPED.value, CfdiState.CANCEL_REJECTED.value):
        frappe.throw(_("The global CFDI {0} that includes this ticket is {1}; a nominative CFDI can be requested "
                       "once it is stamped.").format(global_row.name, _(global_row.status)))
    if not settings.enable_cancellation:
        frappe.throw(_("This ticket is already in the stamped global CFDI {0}. Issuing it a nominative CFDI means "
                       "cancelling that global (motive 04) and issuing it again without the ticket, and Enable "
                       "Cancellation is off in E Invoice Setting.").format(global_row.name),
                     title=_("Cancellation disabled"))
    refuse_while_related(global_row.name)  # its credit notes would keep SAT from cancelling it (motive 04)
    name = _queue_nominative(invoice, customer, {**values, "replaces_global": global_row.name})
    remove_ticket(global_row.name, invoice.name, name)
    _returns_need_credit_note(invoice.name, netted_into=global_row.name)
    frappe.db.set_value("CFDI", global_row.name, "reissue_remaining", 1, update_modified=False)
    return name


def _take_out_before_global(invoice, customer: str, values: dict) -> str:
    """The ticket is taken under its row lock: a global being assembled waits, then finds it taken."""
    taken = frappe.db.sql("""select name from `tabPOS Invoice` where name = %s and mx_cfdi_status = %s
                             and ifnull(mx_cfdi, '') = '' for update""",
                          (invoice.name, CfdiState.AWAITING_GLOBAL.value))
    if not taken:
        frappe.throw(_("This ticket was just put into a global CFDI. Try again in a few minutes."),
                     title=_("Global CFDI in progress"))
    name = _queue_nominative(invoice, customer, values)
    _returns_need_credit_note(invoice.name)
    return name


def _take_out_of_unstamped_global(invoice, customer: str, global_name: str, values: dict) -> str:
    """A Failed global was never stamped: the ticket leaves it, and its retry goes without it."""
    name = _queue_nominative(invoice, customer, values)
    remove_ticket(global_name, invoice.name, name)
    _returns_need_credit_note(invoice.name, netted_into=global_name)
    return name


def _queue_nominative(invoice, customer: str, values: dict) -> str:
    name = sale_row(invoice, **{**values, "receiver_customer": customer})
    invoice.db_set({"mx_cfdi": name, "mx_cfdi_status": CfdiState.QUEUED.value, "mx_cfdi_uuid": None,
                    "mx_cfdi_message": _("Nominative CFDI requested for {0}.").format(customer)},
                   update_modified=False)
    return name


def _returns_need_credit_note(ticket: str, netted_into: str | None = None) -> None:
    """The ticket's returns that waited to be netted into a global, or were netted into `netted_into`
    (the global it leaves, whose re-issue collects only the returns of the tickets that stay): their
    sale now has a CFDI of its own, so each becomes a credit note related to it, once it is stamped."""
    filters = {"is_return": 1, "docstatus": 1, "return_against": ticket}
    waiting = frappe.get_all("POS Invoice", pluck="name",
                             filters={**filters, "mx_cfdi_status": CfdiState.AWAITING_GLOBAL.value})
    netted = frappe.get_all("POS Invoice", pluck="name", filters={**filters, "mx_cfdi": netted_into}) \
        if netted_into else []
    for name in netted:
        frappe.db.set_value("POS Invoice", name, "mx_cfdi", None, update_modified=False)
    for name in dict.fromkeys(waiting + netted):
        convert_to_credit_note(name)

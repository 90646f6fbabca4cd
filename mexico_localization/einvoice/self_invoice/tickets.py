"""A ticket as its buyer reaches it from the self-invoicing page: found only by its code and printed
total, what can be done with it now, and what the page may show of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from mexico_localization.cfdi import self_invoice
from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState
from mexico_localization.cfdi.ticket import normalized
from mexico_localization.einvoice.settings import get_settings, issues_for
from mexico_localization.einvoice.standing import current_cfdis

# FacturaAPI's refusals of what the buyer typed (SAT's receiver checks, FacturaAPI's validation): the
# buyer can correct and send again. Any other failure (the store's master data, a lost job) is the store's.
BUYER_CAN_FIX = frozenset({"invoice_stamping_validation_error", "invalid_request"})
TICKET_FIELDS = ["name", "company", "posting_date", "grand_total", "rounded_total", "currency", "docstatus",
                 "is_return", "mx_cfdi_status", "mx_ticket_code"]


class State:
    """What the page does next; the words for the buyer travel with it."""
    TYPO = "typo"                # the code cannot be one of ours: nothing was looked up
    NOT_FOUND = "not_found"      # the same answer for a wrong code and a wrong total
    UNAVAILABLE = "unavailable"  # self-invoicing is off, or this sale is not the store's to self-invoice
    EXPIRED = "expired"          # past the cut-off
    BUSY = "busy"                # its global CFDI is being stamped: a few minutes
    OPEN = "open"                # the buyer may ask for their CFDI
    WORKING = "working"          # their CFDI is being stamped
    FAILED = "failed"            # their CFDI was refused: the data can be corrected and sent again
    INVOICED = "invoiced"        # their CFDI, again
    CANCELLED = "cancelled"      # their CFDI was cancelled by the store


@dataclass
class Found:
    """A ticket that the code and total opened, and its sale's standing CFDI row (if any)."""
    ticket: frappe._dict
    cfdi: frappe._dict | None


def find(code: str | None, total: str | None) -> tuple[str, Found | None]:
    """(State.OPEN, Found) when code and total match one of our sales; (TYPO|NOT_FOUND, None) else.
    A wrong code and a wrong total give the same answer: the page must not tell which was wrong."""
    stored = normalized(code or "")
    if stored is None:
        return State.TYPO, None
    ticket = frappe.db.get_value("POS Invoice", {"mx_ticket_code": stored}, TICKET_FIELDS, as_dict=True)
    printed = [Decimal(str(ticket.grand_total or 0)), Decimal(str(ticket.rounded_total or 0))] if ticket else []
    if not ticket or not self_invoice.total_matches(total, printed):
        return State.NOT_FOUND, None
    return State.OPEN, Found(ticket, _standing(ticket.name))


def _standing(sale: str) -> frappe._dict | None:
    row = current_cfdis([sale]).get(sale)
    if not row:
        return None
    return frappe.db.get_value("CFDI", row.name, ["name", "status", "is_global", "uuid", "series", "folio_number",
                                                  "stamped_at", "receiver_email", "receiver_customer",
                                                  "self_invoiced", "last_error", "last_error_code", "xml_file",
                                                  "livemode"], as_dict=True)


def refreshed(found: Found) -> Found:
    """The same ticket and its standing CFDI read again (another request may have moved them)."""
    name = found.ticket.name
    return Found(frappe.db.get_value("POS Invoice", name, TICKET_FIELDS, as_dict=True), _standing(name))


def self_invoice_link(sale) -> dict[str, str] | None:
    """What a walk-in ticket tells its buyer: the page's link with the code in it, the page, the code,
    and until when; None when self-invoicing is off or the sale has no code."""
    settings = get_settings()
    code = sale.get("mx_ticket_code")
    if not (settings.enable_self_invoicing and settings.self_invoice_base_url and code):
        return None
    return {"url": self_invoice.ticket_url(settings.self_invoice_base_url, code), "code": code,
            "page": f"{settings.self_invoice_base_url.rstrip('/')}{self_invoice.PATH}",
            "deadline": frappe.utils.formatdate(deadline_of(sale))}


def deadline_of(ticket) -> date:
    settings = get_settings()
    return self_invoice.deadline(getdate(ticket.posting_date), settings.self_invoice_cutoff,
                                 settings.self_invoice_days)


def state_of(found: Found) -> str:
    """What the holder of this ticket can do now. A sale with a CFDI of its own shows it (never a
    second one); a walk-in ticket can ask for one until the cut-off."""
    settings = get_settings()
    ticket, row = found.ticket, found.cfdi
    if not (settings.enable_self_invoicing and issues_for(ticket.company, settings)):
        return State.UNAVAILABLE
    if ticket.docstatus != 1 or ticket.is_return:
        return State.UNAVAILABLE
    if row and not row.is_global:
        own = _own_state(row)
        return State.EXPIRED if own == State.FAILED and getdate(nowdate()) > deadline_of(ticket) else own
    if not (row or ticket.mx_cfdi_status == CfdiState.AWAITING_GLOBAL.value):
        return State.UNAVAILABLE  # no CFDI is due for it (E Invoice was off at the sale, say)
    if getdate(nowdate()) > deadline_of(ticket):
        return State.EXPIRED
    if row and CfdiState(row.status) in IN_FLIGHT:
        return State.BUSY
    if row and row.status in (CfdiState.STAMPED.value, CfdiState.CANCEL_REJECTED.value) \
            and not settings.enable_cancellation:
        return State.UNAVAILABLE  # leaving a stamped global means cancelling it (motive 04)
    if row and row.status not in (CfdiState.STAMPED.value, CfdiState.CANCEL_REJECTED.value, CfdiState.FAILED.value):
        return State.UNAVAILABLE  # a global being cancelled or needing review: the store decides
    return State.OPEN


def _own_state(row) -> str:
    status = CfdiState(row.status)
    if status in VALID_AT_SAT:
        return State.INVOICED
    if status in IN_FLIGHT:
        return State.WORKING
    if status is CfdiState.FAILED and row.self_invoiced and row.last_error_code in BUYER_CAN_FIX:
        return State.FAILED
    if status is CfdiState.CANCELLED:
        return State.CANCELLED
    return State.UNAVAILABLE  # the store's own CFDI in review, or failed: the store fixes it


def describe(found: Found | None, state: str) -> dict[str, Any]:
    """The page's answer: the state, a sentence for the buyer, and only what the holder of the ticket
    may see (its date and total, its deadline, its CFDI once stamped; an e-mail address masked)."""
    answer: dict[str, Any] = {"state": state, "message": message(state, found)}
    if found is None:
        return answer
    ticket, row = found.ticket, found.cfdi
    answer["ticket"] = {"date": frappe.utils.formatdate(ticket.posting_date, "dd/MM/yyyy"),
                        "total": frappe.utils.fmt_money(ticket.rounded_total or ticket.grand_total,
                                                         currency=ticket.currency),
                        "deadline": frappe.utils.formatdate(deadline_of(ticket), "dd/MM/yyyy")}
    if state == State.INVOICED:
        answer["cfdi"] = {"uuid": row.uuid, "series_folio": "-".join(filter(None, [row.series, row.folio_number])),
                          "stamped_at": frappe.utils.format_datetime(row.stamped_at, "dd/MM/yyyy HH:mm"),
                          "email": self_invoice.masked_email(row.receiver_email or _customer_email(row))
                          if get_settings().email_cfdi else "",
                          "test": not row.livemode, "xml": bool(row.xml_file), "pdf": True}  # the PDF: on first demand
    return answer


def _customer_email(row) -> str:
    return frappe.db.get_value("Customer", row.receiver_customer, "mx_cfdi_email") if row.receiver_customer else ""


def message(state: str, found: Found | None = None) -> str:
    contact = (get_settings().store_contact or "").strip()
    ask_store = _("Contact the store: {0}").format(contact) if contact else _("Contact the store.")
    row = found.cfdi if found else None
    return {
        State.TYPO: _("That code has a typo: check it against your ticket (letters and digits, e.g. 7K2M-9QX4-…)."),
        State.NOT_FOUND: _("We could not find a ticket with that code and total. Check both on your printed "
                           "ticket: the total is the amount you paid, taxes included."),
        State.UNAVAILABLE: " ".join((_("This ticket cannot be invoiced here."), ask_store)),
        State.EXPIRED: " ".join((_("The time to invoice this ticket yourself is over (until {0}).").format(
            frappe.utils.formatdate(deadline_of(found.ticket), "dd/MM/yyyy")) if found else "", ask_store)).strip(),
        State.BUSY: _("The store is issuing the CFDI that includes this ticket right now. Try again in a few "
                      "minutes."),
        State.OPEN: _("Enter your fiscal data as it appears on your Constancia de Situación Fiscal."),
        State.WORKING: _("Your CFDI is being stamped. This page updates by itself."),
        State.FAILED: _("SAT or FacturaAPI refused your CFDI: {0} Correct your data and send it again.").format(
            (row.last_error or "").strip() if row else ""),
        State.INVOICED: _("Your CFDI is stamped."),
        State.CANCELLED: " ".join((_("The CFDI of this ticket was cancelled."), ask_store)),
    }[state]

"""The daily status check: recent CFDIs as FacturaAPI and SAT see them, so a cancellation made
outside the app (FacturaAPI's dashboard, another integration, SAT's portal) is found and flagged.

Two looks, both through the audited client:
- one listing of the window's invoices whose cancellation FacturaAPI accepted or is processing
  (a few calls, whatever the volume), which finds everything cancelled through FacturaAPI;
- a status refresh from SAT for the CFDIs checked longest ago, a bounded number per day, which finds
  what was cancelled at SAT's portal, which FacturaAPI only learns when asked.

A flagged CFDI moves to Cancelled (or Cancel Pending, which the sweep then polls), is marked
Cancelled Outside This System, its sale mirrors it, and the CFDI Managers are notified. The move is
a conditional update, so a cancellation the app itself requested in the meantime is left alone.
Runs on the long queue, never in a request.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import add_days, add_to_date, get_datetime, get_system_timezone, now_datetime
from frappe.utils.background_jobs import enqueue

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.moves import CANCELLED_OUTSIDE
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline import records
from mexico_localization.einvoice.pipeline.followups import run_due
from mexico_localization.einvoice.settings import company_secret, get_settings, issuing_companies, make_client
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import Exchange, FacturapiError, RateLimited

S = CfdiState
WINDOW_DAYS = 35          # the open month and the one before: what month-end reconciliation looks at
REFRESH_PER_RUN = 200     # SAT refreshes per day; the oldest-checked go first, so every CFDI gets its turn
TIME_BOX_SECONDS = 1200   # well inside the long queue's timeout
WATCHED = (S.STAMPED.value, S.CANCEL_REJECTED.value)
POLL_PENDING_AFTER_SECONDS = 300
JOB = "mexico_localization.einvoice.operations.status_check.check_recent_cfdis"


def enqueue_status_check() -> None:
    """Scheduler (daily): the check itself runs on `long`, one at a time."""
    enqueue(JOB, queue="long", job_id="cfdi:status-check", deduplicate=True, timeout=TIME_BOX_SECONDS + 300)


class _Hook:
    """The client's exchange hook, pointed at whichever log the current look writes to."""

    def __init__(self) -> None:
        self.log = records.ExchangeLog()

    def __call__(self, exchange: Exchange) -> None:
        self.log(exchange)


def check_recent_cfdis(now: datetime | None = None, refresh_limit: int = REFRESH_PER_RUN) -> list[str]:
    """The job: returns the CFDIs it found cancelled since the app last knew them valid, asking each
    company's organization about its own CFDIs."""
    settings = get_settings()
    if not settings.enable_e_invoice or not settings.server_url:
        return []
    now = now or now_datetime()
    flagged: list[str] = []
    for company in issuing_companies(settings):
        flagged += _check_company(settings, company, add_days(now, -WINDOW_DAYS), refresh_limit)
    return flagged


def _check_company(settings, company: str, since: datetime, refresh_limit: int) -> list[str]:
    watched = {row.facturapi_id: row for row in frappe.get_all(
        "CFDI", fields=["name", "facturapi_id", "uuid", "status", "status_checked_at", "cancellation_motive",
                        "company"],
        filters={"status": ["in", WATCHED], "facturapi_id": ["is", "set"], "stamped_at": [">=", since],
                 "company": company,
                 # Only this key's environment can be asked about: a Test CFDI is unknown to a Live key.
                 "livemode": int(company_secret(company, settings).environment == "Live")})}
    frappe.db.commit()  # no read snapshot held open across the HTTP calls
    if not watched:
        return []
    hook = _Hook()
    with make_client(company, settings, on_exchange=hook) as client:
        found, stop = _listing(client, hook, since, watched)
        flagged = [row.name for row, invoice in found if _flag_safely(client, hook, row, invoice)]
        if not stop:
            flagged += _refresh_oldest(client, hook, list(watched.values()), refresh_limit)
    return flagged


def _listing(client, hook: _Hook, since: datetime, watched: dict) -> tuple[list, bool]:
    """The window's invoices FacturaAPI holds as cancelled or being cancelled that the app holds
    valid (taken out of `watched`), and whether a 429 says to stop for today."""
    found, stop, error = [], False, None
    hook.log = records.ExchangeLog()
    try:
        for invoice in client.cancellations_since(_aware(since)):
            row = watched.pop(invoice.get("id"), None)
            if row:
                found.append((row, invoice))
    except FacturapiError as exc:
        error, stop = exc, isinstance(exc, RateLimited)
    finally:
        hook.log.write()
        if error is not None:
            records.error_log(_("CFDI status check: FacturaAPI's listing failed"), error)
        frappe.db.commit()
    return found, stop


def _aware(moment: datetime) -> datetime:
    """A site-time datetime with the site's zone, so the client sends the right UTC instant."""
    return get_datetime(moment).replace(tzinfo=ZoneInfo(get_system_timezone()))


def _refresh_oldest(client, hook: _Hook, rows: list, limit: int) -> list[str]:
    flagged, started = [], time.monotonic()
    rows.sort(key=lambda r: (r.status_checked_at is not None, r.status_checked_at or datetime.min))
    for row in rows[:limit]:
        if time.monotonic() - started > TIME_BOX_SECONDS:
            break
        hook.log = records.ExchangeLog("CFDI", row.name)
        try:
            invoice = client.refresh_invoice_status(row.facturapi_id)
        except FacturapiError as error:
            _record_checked(row.name, hook.log, error)
            if isinstance(error, RateLimited):
                break  # tomorrow's run goes on from here: these rows are still the oldest checked
            continue
        if not _cancelled_at_pac(invoice):
            _record_checked(row.name, hook.log, None)
        elif _flag_safely(client, hook, row, invoice):
            flagged.append(row.name)
    return flagged


def _cancelled_at_pac(invoice: dict[str, Any]) -> bool:
    return invoice.get("status") == "canceled" or invoice.get("cancellation_status") in ("pending", "verifying")


def _flag_safely(client, hook: _Hook, row, invoice: dict[str, Any]) -> bool:
    """One CFDI's trouble (a file, a notification) never stops the check of the others."""
    if hook.log.reference_name != row.name:  # found by the listing: this CFDI's own calls start here
        hook.log = records.ExchangeLog("CFDI", row.name)
    try:
        flagged = flag(client, hook.log, row, invoice)
    except Exception as exc:
        frappe.db.rollback()
        records.error_log(_("CFDI {0}: status check failed").format(row.name), exc, "CFDI", row.name)
        frappe.db.commit()
        return False
    if flagged:
        run_due(row.name)  # the managers' notification, after the record committed
    return flagged


def flag(client, log: records.ExchangeLog, row, invoice: dict[str, Any]) -> bool:
    """Moves the CFDI to what FacturaAPI says, if under its row lock it is still one the app holds valid.

    A cancellation whose motive is the one this app asked for (one it recorded as rejected, say after
    running out of tries) is the app's own settling late: moved, but not called outside."""
    cancelled = invoice.get("status") == "canceled"
    receipt = None
    if cancelled:
        try:
            receipt = client.download_cancellation_receipt(row.facturapi_id, "xml")  # recorded in `log`
        except FacturapiError:
            receipt = None  # its Integration Request says why; the CFDI moves all the same
    cancellation = invoice.get("cancellation") or {}
    motive = cancellation.get("motive") or ""
    ours = bool(row.cancellation_motive) and motive in ("", row.cancellation_motive)
    state = S.CANCELLED if cancelled else S.CANCEL_PENDING
    found_on = frappe.utils.format_datetime(now_datetime())
    if ours:
        note = _("The cancellation this system requested is {0} at FacturaAPI; found by the daily status check "
                 "on {1}.").format(_(state.value), found_on)
    elif cancelled:
        note = _("Cancelled outside this system (FacturaAPI's dashboard, another integration or SAT's portal); "
                 "found by the daily status check on {0}.").format(found_on)
    else:
        note = _("A cancellation requested outside this system (FacturaAPI's dashboard, another integration or "
                 "SAT's portal) is waiting for the receiver or SAT; found by the daily status check on {0}."
                 ).format(found_on)
    if cancelled and invoice.get("canceled_at"):
        note += " " + _("FacturaAPI dates the cancellation {0}.").format(
            frappe.utils.format_datetime(to_site_time(invoice["canceled_at"])))
    values = {"status": state.value, "status_checked_at": now_datetime(),
              "cancellation_status": invoice.get("cancellation_status") or "",
              "cancellation_motive": motive or row.cancellation_motive or "",
              "claimed_at": None, "attempt_count": 0, "last_error": note, "review_note": note,
              "next_attempt_at": None if cancelled else add_to_date(now_datetime(),
                                                                    seconds=POLL_PENDING_AFTER_SECONDS)}
    if not ours:
        values.update({"cancelled_outside_app": 1, "last_error_code": "cancelled_outside_app",
                       "substitution_uuid": cancellation.get("substitution") or "",
                       "pending_followups": followups.encode([followups.NOTIFY_OUTSIDE])})
    if cancelled:
        # When the app learnt it, not FacturaAPI's date: that day may already be sealed (operations/audit.py).
        values["cancelled_at"] = now_datetime()
    files = {"cancellation_receipt_file": (f"{row.uuid}-acuse.xml", receipt)} if receipt else {}
    return records.record_cfdi_call(row.name, log, records.Outcome(CANCELLED_OUTSIDE, state, values, files=files,
                                                                   comment=note))


def _record_checked(cfdi: str, log: records.ExchangeLog, error: FacturapiError | None) -> None:
    """A look that changed nothing: its Integration Request, and when the CFDI was last asked about."""
    log.write()
    if error is not None:
        records.error_log(_("CFDI {0}: status check failed").format(cfdi), error, "CFDI", cfdi)
    else:
        frappe.db.set_value("CFDI", cfdi, "status_checked_at", now_datetime(), update_modified=False)
    frappe.db.commit()

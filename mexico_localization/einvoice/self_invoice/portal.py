"""The self-invoicing page's endpoints: the only methods of the app a guest may call. Each one takes
the ticket code and the printed total again (nothing is kept between calls), answers in the buyer's
words, is POST-only and rate-limited per IP and per ticket (Frappe's rate limiter), and is recorded
as an Integration Request of the "Self-invoicing Portal" service."""

from __future__ import annotations

import functools
import json
from typing import Any

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit

from mexico_localization.cfdi.ticket import normalized
from mexico_localization.einvoice.operations import cfdi_files, walk_in
from mexico_localization.einvoice.operations.customer_check import ask_sat
from mexico_localization.einvoice.pipeline import records
from mexico_localization.einvoice.pipeline.rows import enqueue_stamp
from mexico_localization.einvoice.pipeline.stamping import requeue_failed
from mexico_localization.einvoice.self_invoice import buyers
from mexico_localization.einvoice.self_invoice.tickets import Found, State, describe, find, refreshed, state_of

HOUR, DAY = 3600, 86400
LANGUAGES = ("es", "en")
# Wrong code-and-total answers a ticket takes, whatever the endpoint (Frappe's limiter counts per
# endpoint): past them the ticket answers nothing for the rest of the window, so its total cannot be
# tried through every endpoint in turn.
WRONG_TOTALS = ((HOUR, 10), (DAY, 20))
# Answers that end a request well; any other is recorded as Failed (a refusal, or an error).
SUCCESSFUL = {State.OPEN, State.WORKING, State.INVOICED}


def portal_method(action: str, per_ip: int, per_ticket: int):
    """Guest, POST-only, rate-limited per IP (10 minutes) and per ticket (an hour, whatever its code
    was typed like), in the buyer's language (Spanish unless asked otherwise); a refusal by the
    rate limiter is recorded too."""
    def decorate(fn):
        limited = rate_limit(limit=per_ip, seconds=600)(
            rate_limit(key="mx_ticket", limit=per_ticket, seconds=HOUR, ip_based=False)(fn))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            frappe.local.lang = frappe.form_dict.get("lang") if frappe.form_dict.get("lang") in LANGUAGES else "es"
            code = normalized(kwargs.get("code") or frappe.form_dict.get("code") or "")
            frappe.form_dict["mx_ticket"] = code or f"typo:{frappe.local.request_ip}"
            try:
                refuse_after_wrong_totals(code)
                return limited(*args, **kwargs)
            except frappe.RateLimitExceededError:
                _record_failure(action, "rate_limited")
                raise
            except Exception as error:  # recorded too: Frappe rolls the request back and answers with an error
                _record_failure(action, f"error: {type(error).__name__}")
                raise
        return frappe.whitelist(allow_guest=True, methods=["POST"])(wrapper)
    return decorate


def _record_failure(action: str, outcome: str) -> None:
    frappe.db.rollback()
    record(action, None, outcome)
    frappe.db.commit()  # the request ends in an exception: Frappe would roll its record back


def refuse_after_wrong_totals(code: str | None) -> None:
    """A ticket that took too many wrong totals is refused like a rate limit, on every endpoint."""
    if code and any(int(frappe.cache.get(_wrong_key(code, seconds)) or 0) >= limit for seconds, limit in WRONG_TOTALS):
        frappe.throw(_("Too many attempts for this ticket. Try again later, or contact the store."),
                     frappe.RateLimitExceededError)


def count_wrong_total(code: str | None) -> None:
    for seconds, _limit in WRONG_TOTALS:
        key = _wrong_key(code, seconds)
        if frappe.cache.incrby(key, 1) == 1:
            frappe.cache.expire(key, seconds)


def _wrong_key(code: str | None, seconds: int) -> str:
    return frappe.cache.make_key(f"ml:self_invoice:wrong:{seconds}:{code}")


def _find(code: str, total: str) -> tuple[str, Found | None]:
    """`find`, counting a wrong code and total against the code typed (the same whether or not a ticket has it)."""
    state, found = find(code, total)
    if state == State.NOT_FOUND:
        count_wrong_total(normalized(code))
    return state, found


@portal_method("look_up", per_ip=30, per_ticket=10)
def look_up(code: str, total: str) -> dict[str, Any]:
    """The ticket behind a code and a total, and what its holder can do with it now."""
    state, found = _find(code, total)
    if found:
        state = state_of(found)
    return answer("look_up", found, state)


@portal_method("returning_buyer", per_ip=20, per_ticket=10)
def returning_buyer(code: str, total: str, tax_id: str) -> dict[str, Any]:
    """A returning buyer's fiscal data, offered back only to a ticket holder who typed the full RFC."""
    state, found = _find(code, total)
    if not found:
        return answer("returning_buyer", None, state)
    offered = buyers.offered_back(tax_id) if state_of(found) in (State.OPEN, State.FAILED) else None
    return answer("returning_buyer", found, State.OPEN if offered else "unknown_rfc", {"buyer": offered})


@portal_method("request_cfdi", per_ip=10, per_ticket=6)
def request_cfdi(code: str, total: str, tax_id: str, legal_name: str, tax_regime: str, cfdi_use: str,
                 zip_code: str, email: str) -> dict[str, Any]:
    """The buyer's nominative CFDI for the ticket, through the Desk's own path (the ticket leaves its
    global, or the global is re-issued without it); stamped by the usual job after this commit."""
    state, found = _find(code, total)
    if not found:
        return answer("request_cfdi", None, state)
    found = _locked(found)
    state = state_of(found)
    if state not in (State.OPEN, State.FAILED):
        return answer("request_cfdi", found, state)
    typed = buyers.Typed.tidy(tax_id, legal_name, tax_regime, cfdi_use, zip_code, email)
    problems = buyers.problems(typed)
    if problems:
        return answer("request_cfdi", found, state, {"problems": problems}, refused=True)
    verdict = ask_sat(typed.receiver(), "POS Invoice", found.ticket.name)
    if verdict.agrees is False:
        return answer("request_cfdi", found, state, {"problems": [buyers.disputed(verdict)]}, refused=True)
    frappe.db.savepoint("self_invoice")  # the customer and the CFDI row stand or fall together
    try:
        customer = buyers.customer_for(typed, verdict, found.ticket.name)
        cfdi = _issue(found, state, {"receiver_customer": customer, "receiver_use": typed.cfdi_use,
                                     "receiver_email": typed.email})
    except buyers.NeedsSat:
        frappe.db.rollback(save_point="self_invoice")
        return answer("request_cfdi", found, state, {"problems": [
            _("Your data differs from what the store has for RFC {0}, and SAT cannot be asked to confirm it "
              "right now. Try again in a few minutes.").format(typed.tax_id)]}, refused=True)
    except frappe.ValidationError as error:  # the Desk's refusals (a global just taken, say): the store decides
        frappe.db.rollback(save_point="self_invoice")
        frappe.local.message_log = []  # the Desk's words name CFDI records: not for a guest
        records.error_log(_("Self-invoicing refused for {0}").format(found.ticket.name), error, "POS Invoice",
                          found.ticket.name)
        return answer("request_cfdi", found, State.UNAVAILABLE, refused=True)
    records.comment(cfdi, _("Requested by the buyer on the self-invoicing page, for customer {0} (from {1}).").format(
        customer, frappe.local.request_ip or "?"))
    return answer("request_cfdi", found, State.WORKING, {"cfdi_name": cfdi})


def _issue(found: Found, state: str, values: dict[str, Any]) -> str:
    """A new nominative row, or the buyer's refused one sent again with the corrected data."""
    if state == State.FAILED:
        if not requeue_failed(found.cfdi.name, **values):
            frappe.throw(_("The CFDI {0} is no longer Failed.").format(found.cfdi.name))
        enqueue_stamp(found.cfdi.name, attempt=f"portal-{frappe.generate_hash(length=8)}")
        return found.cfdi.name
    return walk_in.request_nominative(frappe.get_doc("POS Invoice", found.ticket.name), values["receiver_customer"],
                                      **values, self_invoiced=1)


@portal_method("status", per_ip=300, per_ticket=400)
def cfdi_status(code: str, total: str) -> dict[str, Any]:
    """Polled by the page while the CFDI is stamped."""
    state, found = _find(code, total)
    if found:
        state = state_of(found)
    return answer("status", found, state, quiet=state == State.WORKING)


@portal_method("download", per_ip=30, per_ticket=20)
def download(code: str, total: str, file: str) -> dict[str, Any] | None:
    """The stamped CFDI's XML (only as recorded at the stamp) or PDF, to the holder of the ticket."""
    state, found = _find(code, total)
    if found:
        state = state_of(found)
    if state != State.INVOICED or file not in ("xml", "pdf"):
        return answer("download", found, state if state != State.INVOICED else State.NOT_FOUND, refused=True)
    row = found.cfdi
    try:
        content = cfdi_files.cfdi_xml(row.name)[1] if file == "xml" else cfdi_files.cfdi_pdf(row.name)[1]
    except cfdi_files.FileUnavailable:
        frappe.clear_messages()
        return answer("download", found, State.UNAVAILABLE, refused=True)
    record("download", found, f"{file} sent")
    frappe.response.filename = f"{row.uuid}.{file}"
    frappe.response.filecontent = content
    frappe.response.type = "download"
    return None


def _locked(found: Found) -> Found:
    """The sale under its row lock, its standing CFDI read again: two requests for one ticket queue up,
    and the second sees the first one's CFDI. The lock is the transaction's first read (MariaDB's
    repeatable read would otherwise show the second request the snapshot of its earlier reads)."""
    frappe.db.rollback()  # nothing was written yet
    frappe.db.sql("select name from `tabPOS Invoice` where name = %s for update", found.ticket.name)
    return refreshed(found)


def answer(action: str, found: Found | None, state: str, extra: dict[str, Any] | None = None,
           refused: bool = False, quiet: bool = False) -> dict[str, Any]:
    """The page's answer, recorded (a poll that only says "still working" is not: it changes nothing)."""
    reply = describe(found, state) if state in vars(State).values() else {"state": state}
    reply.update({k: v for k, v in (extra or {}).items() if k != "cfdi_name"})
    if not quiet:
        outcome = "refused: " + "; ".join(reply.get("problems") or [reply.get("message", "")]) if refused else state
        record(action, found, outcome, (extra or {}).get("cfdi_name"))
    return reply


def record(action: str, found: Found | None, outcome: str, cfdi: str | None = None) -> None:
    """One Integration Request per request: what was asked, from where, for which sale, and the answer.
    The code and total are not kept (whoever reads the record needs neither)."""
    sale = found.ticket.name if found else None
    state = outcome.split(":")[0]
    frappe.get_doc({
        "doctype": "Integration Request", "integration_request_service": records.PORTAL_SERVICE,
        "is_remote_request": 1, "request_description": f"{action}: {outcome}"[:140],
        "status": "Completed" if state in SUCCESSFUL or outcome.endswith(" sent") else "Failed",
        "url": f"POST /api/method/{frappe.form_dict.get('cmd') or action}",
        "data": json.dumps({"action": action, "ip": frappe.local.request_ip, "cfdi": cfdi,
                            "user_agent": (frappe.get_request_header("User-Agent") or "")[:200]}),
        "output": json.dumps({"outcome": outcome}), "reference_doctype": "POS Invoice" if sale else None,
        "reference_docname": sale,
    }).insert(ignore_permissions=True)

"""The fiscal record of every call: an Integration Request per HTTP exchange, an Error Log per
failure. Nothing here commits: the caller's transaction (the web request, or the job's single
record step) commits everything together, so a half-done record is never left behind."""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from typing import Any

import frappe

from mexico_localization.facturapi import Exchange

SERVICE = "FacturaAPI"


class ExchangeLog:
    """Collects the client's exchanges (its `on_exchange` hook) and writes them as records."""

    def __init__(self, reference_doctype: str | None = None, reference_name: str | None = None) -> None:
        self.reference_doctype = reference_doctype
        self.reference_name = reference_name
        self.exchanges: list[Exchange] = []

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def write(self) -> list[str]:
        """One Integration Request per exchange; returns their names (in the caller's transaction)."""
        return [integration_request(e, self.reference_doctype, self.reference_name) for e in self.exchanges]


def integration_request(exchange: Exchange, reference_doctype: str | None = None,
                        reference_name: str | None = None) -> str:
    doc = frappe.get_doc({
        "doctype": "Integration Request",
        "integration_request_service": SERVICE,
        "is_remote_request": 0,
        "request_description": tagged(describe(exchange)),
        "request_id": exchange.log_id,
        "status": "Completed" if exchange.ok else "Failed",
        "url": f"{exchange.method} {exchange.url}",
        "request_headers": _json(exchange.request_headers),
        "data": _json(exchange.request_body) if exchange.request_body is not None else "",
        "output": _json(exchange.response_body) if exchange.response_body is not None else "",
        "error": _json({"kind": exchange.error_kind, "message": exchange.error, "http_status": exchange.status,
                        "facturapi_log_id": exchange.log_id}) if not exchange.ok else "",
        "reference_doctype": reference_doctype,
        "reference_docname": reference_name,
    })
    doc.insert(ignore_permissions=True)
    return doc.name


def tagged(text: str) -> str:
    """Records made by a bulk run name it first, so the run's summary can list them."""
    run = frappe.flags.cfdi_bulk_run
    return f"{run} · {text}" if run else text


def describe(exchange: Exchange) -> str:
    """The line an operator reads in the list: operation, answer and time taken."""
    answer = str(exchange.status) if exchange.status is not None else "no answer"
    return f"{exchange.operation} · {answer} · {exchange.duration_ms:.0f} ms"


def error_log(title: str, error: BaseException, reference_doctype: str | None = None,
              reference_name: str | None = None) -> str:
    """An Error Log with `error`'s traceback (frames and messages, not local variables)."""
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return frappe.log_error(title=title, message=trace, reference_doctype=reference_doctype,
                            reference_name=reference_name).name


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, default=str)


def record_cfdi_call(cfdi_name: str, log: ExchangeLog, *, outcome: str, values: dict[str, Any] | None = None,
                     error: BaseException | None = None, also: Callable[[Any], None] | None = None,
                     only_from: tuple[str, ...] | None = None) -> bool:
    """The record step of every CFDI operation, in one short transaction that commits once.

    Writes the call's Integration Requests, one CFDI Attempt per exchange (linked to its request),
    an Error Log when `error` is given, the CFDI's new `values`, and whatever `also(cfdi)` writes
    (the invoice's mirror fields, files). Any failure rolls everything back: no half-written record.
    A deadlock or lock timeout is tried again: FacturaAPI's answer is known and must not be lost.
    With `only_from`, the CFDI is changed only if, under its row lock, it is still in one of those
    states (checked again on every try); otherwise only the Integration Requests are written and
    False is returned.
    """
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            changed = _write_cfdi_call(cfdi_name, log, outcome, values or {}, error, also, only_from)
            frappe.db.commit()
            return changed
        except Exception as exc:
            frappe.db.rollback()
            if attempt == RECORD_TRIES or not _is_transient(exc):
                raise
            time.sleep(0.2 * attempt)
    return False  # not reached: the last try returns or raises


RECORD_TRIES = 4


def _is_transient(exc: Exception) -> bool:
    """Frappe raises these for MariaDB's deadlock (1213) and lock wait timeout (1205)."""
    return isinstance(exc, (frappe.QueryDeadlockError, frappe.QueryTimeoutError))


def _write_cfdi_call(cfdi_name, log, outcome, values, error, also, only_from) -> bool:
    names = log.write()
    cfdi = frappe.get_doc("CFDI", cfdi_name, for_update=True)
    if only_from is not None and cfdi.status not in only_from:
        return False
    for exchange, request_name in zip(log.exchanges, names, strict=True):
        cfdi.append("attempts", {
            "attempted_at": frappe.utils.now_datetime(), "operation": exchange.operation, "outcome": outcome,
            "http_status": exchange.status, "duration_ms": exchange.duration_ms,
            "error_code": (error_code(error) if not exchange.ok else ""),
            "error": exchange.error or "", "facturapi_log_id": exchange.log_id,
            "integration_request": request_name,
        })
    if error is not None:
        error_log(tagged(f"CFDI {cfdi_name}: {outcome}"), error, "CFDI", cfdi_name)
    cfdi.update(values)
    cfdi.flags.ignore_permissions = True
    cfdi.save()
    if also is not None:
        also(cfdi)
    return True


def error_code(error: BaseException | None) -> str:
    return str(getattr(error, "code", "") or type(error).__name__) if error is not None else ""

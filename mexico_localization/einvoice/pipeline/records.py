"""The fiscal record of every call: an Integration Request per HTTP exchange, a CFDI Attempt per
exchange, an Error Log per failure, the CFDI's new state and files, and its mirror on the sale.
Nothing here commits but `record_cfdi_call`, which writes one call's record in one transaction."""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import frappe

from mexico_localization.cfdi import followups
from mexico_localization.cfdi.moves import Move
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.rows import add_child, transition
from mexico_localization.facturapi import Exchange

SERVICE = "FacturaAPI"
PORTAL_SERVICE = "Self-invoicing Portal"  # the buyers' requests on /factura (einvoice/self_invoice)
SERVICES = (SERVICE, PORTAL_SERVICE)
RECORD_TRIES = 4
MIRRORED = ("POS Invoice", "Sales Invoice", "Payment Entry")  # the documents that carry the mx_cfdi_* mirror fields
MIRROR_FIELDS = ["mx_cfdi_status", "mx_cfdi", "mx_cfdi_message", "mx_cfdi_uuid", "mx_cfdi_stamped_at",
                 "mx_sat_cert_number", "mx_sat_signature"]
MIRROR_SOURCE = ["name", "status", "is_global", "reference_doctype", "reference_name", "uuid", "stamped_at",
                 "sat_cert_number", "sat_signature", "review_note", "last_error"]


class ExchangeLog:
    """Collects the client's exchanges (its `on_exchange` hook) and writes them as records. `tag`
    (a bulk run's name) heads each record's description, so the run's summary can list them."""

    def __init__(self, reference_doctype: str | None = None, reference_name: str | None = None,
                 tag: str | None = None) -> None:
        self.reference_doctype = reference_doctype
        self.reference_name = reference_name
        self.tag = tag
        self.exchanges: list[Exchange] = []

    def __call__(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def write(self) -> list[str]:
        """One Integration Request per exchange; returns their names (in the caller's transaction)."""
        return [integration_request(e, self.reference_doctype, self.reference_name, self.tag) for e in self.exchanges]


def integration_request(exchange: Exchange, reference_doctype: str | None = None,
                        reference_name: str | None = None, tag: str | None = None) -> str:
    return insert_row("Integration Request", {
        "integration_request_service": SERVICE,
        "is_remote_request": 0,
        "request_description": tagged(describe(exchange), tag),
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


def insert_row(doctype: str, values: dict[str, Any]) -> str:
    """A record only the app writes, as a plain insert with the doctype's defaults and naming: a stamp
    writes several, and a controller's save (links, hooks, realtime) cost more than the call it records."""
    doc = frappe.new_doc(doctype)
    doc.update(values)
    doc.set_new_name()
    doc.set_user_and_timestamp()
    doc.db_insert()
    return doc.name


def tagged(text: str, tag: str | None) -> str:
    return f"{tag} · {text}" if tag else text


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


def error_code(error: BaseException | None) -> str:
    return str(getattr(error, "code", "") or type(error).__name__) if error is not None else ""


@dataclass
class Outcome:
    """What one call to FacturaAPI changes on its CFDI: the move and its target state, the row's new
    values, the error to log, the files to attach (field → (file name, bytes)) and a comment."""

    move: Move
    to: CfdiState
    values: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    comment: str | None = None
    claim: str | None = None  # the try's claim: its record applies only while the claim holds


def record_cfdi_call(cfdi: str, log: ExchangeLog, outcome: Outcome) -> bool:
    """The record step of every CFDI operation: one short transaction that commits once.

    Writes the call's Integration Requests, a CFDI Attempt per exchange (linked to its request), an
    Error Log for `outcome.error`, the CFDI's move with its values and files, and the sale's mirror.
    The move is applied only if, under the row's lock, the CFDI is still where the move starts
    (checked again on every try); otherwise only the Integration Requests are written and False is
    returned. Any failure rolls everything back; a deadlock or lock timeout is tried again, since
    FacturaAPI's answer is known and must not be lost.
    """
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            changed = write_call(cfdi, log, outcome)
            frappe.db.commit()
            return changed
        except Exception as exc:
            frappe.db.rollback()
            if attempt == RECORD_TRIES or not _is_transient(exc):
                raise
            time.sleep(0.2 * attempt)
    return False  # not reached: the last try returns or raises


def _is_transient(exc: Exception) -> bool:
    """Frappe raises these for MariaDB's deadlock (1213) and lock wait timeout (1205)."""
    return isinstance(exc, (frappe.QueryDeadlockError, frappe.QueryTimeoutError))


def write_call(cfdi: str, log: ExchangeLog, outcome: Outcome) -> bool:
    """One try of the record step, in the caller's transaction."""
    names = log.write()
    values = {**outcome.values, **recorded_times(outcome)}
    if values.get("pending_followups"):  # added to what may still be due from an earlier outcome
        due = followups.decode(frappe.db.get_value("CFDI", cfdi, "pending_followups"))
        values["pending_followups"] = followups.encode(
            due + [n for n in followups.decode(values["pending_followups"]) if n not in due])
    if "xml_file" in outcome.files:
        values["xml_sha256"] = hashlib.sha256(outcome.files["xml_file"][1]).hexdigest()
    if not transition(cfdi, outcome.move, outcome.to, values, claim=outcome.claim):
        return False
    for exchange, request_name in zip(log.exchanges, names, strict=True):
        add_child(cfdi, "attempts", "CFDI Attempt", {
            "attempted_at": frappe.utils.now_datetime(), "operation": exchange.operation, "outcome": outcome.to.value,
            "http_status": exchange.status, "duration_ms": exchange.duration_ms,
            "error_code": (error_code(outcome.error) if not exchange.ok else ""),
            "error": exchange.error or "", "facturapi_log_id": exchange.log_id,
            "integration_request": request_name,
        })
    if outcome.error is not None:
        error_log(tagged(f"CFDI {cfdi}: {outcome.to.value}", log.tag), outcome.error, "CFDI", cfdi)
    for fieldname, (file_name, content) in outcome.files.items():
        # A file that cannot be kept (disk, an attachment limit) never undoes the record of a stamp.
        frappe.db.savepoint("cfdi_file")
        try:
            frappe.db.set_value("CFDI", cfdi, fieldname, attach(cfdi, file_name, content), update_modified=False)
        except Exception as exc:
            if _is_transient(exc):
                raise
            frappe.db.rollback(save_point="cfdi_file")
            error_log(f"CFDI {cfdi}: {file_name} could not be attached", exc, "CFDI", cfdi)
            if fieldname == "xml_file":
                frappe.db.set_value("CFDI", cfdi, "xml_sha256", None, update_modified=False)
    if outcome.comment:
        comment(cfdi, outcome.comment)
    mirror(frappe.db.get_value("CFDI", cfdi, MIRROR_SOURCE, as_dict=True))
    return True


def comment(cfdi: str, text: str) -> None:
    """A note on the CFDI's timeline, where a person reading the record sees it."""
    frappe.get_doc({"doctype": "Comment", "comment_type": "Comment", "comment_email": frappe.session.user,
                    "reference_doctype": "CFDI", "reference_name": cfdi, "content": text}
                   ).insert(ignore_permissions=True)


def recorded_times(outcome: Outcome) -> dict[str, Any]:
    """The app's own clock for what the daily seal files a stamp or a cancellation under: FacturaAPI's
    dates may fall on a day already sealed (a late adoption, a slow cancellation)."""
    if outcome.to is CfdiState.STAMPED and outcome.values.get("uuid"):
        return {"stamp_recorded_at": frappe.utils.now_datetime()}
    if outcome.to is CfdiState.CANCELLED:
        return {"cancellation_recorded_at": frappe.utils.now_datetime()}
    return {}


def file_content(cfdi: str, file_url: str | None) -> bytes | None:
    """The bytes of a file the CFDI keeps; None when it is gone."""
    file = file_url and frappe.db.get_value("File", {"file_url": file_url, "attached_to_doctype": "CFDI",
                                                     "attached_to_name": cfdi}, "name")
    try:
        content = frappe.get_doc("File", file).get_content() if file else None
    except OSError:
        return None
    return content.encode() if isinstance(content, str) else content


def kept_xml(cfdi: str) -> bytes | None:
    """The CFDI's stamped XML, only if it is still the one recorded at the stamp (its SHA-256)."""
    row = frappe.db.get_value("CFDI", cfdi, ["xml_file", "xml_sha256"], as_dict=True)
    content = file_content(cfdi, row.xml_file) if row and row.xml_sha256 else None
    return content if content is not None and hashlib.sha256(content).hexdigest() == row.xml_sha256 else None


def attach(cfdi: str, file_name: str, content: bytes) -> str:
    """A private file of the CFDI, owned by Administrator: not by the cashier whose sale queued the
    job (File lets its owner edit and delete it). File's own `before_insert` names and writes it (a
    storage app's `write_file` hook included, and the file is removed if the transaction rolls back);
    the row is a plain insert, without the timeline comment that would load the whole CFDI."""
    file = frappe.new_doc("File")
    file.update({"file_name": file_name, "attached_to_doctype": "CFDI", "attached_to_name": cfdi, "is_private": 1,
                 "content": content})
    file.before_insert()
    file.set_new_name()
    file.set_user_and_timestamp()
    file.owner = "Administrator"
    file.db_insert()
    return file.file_url


def mirror(cfdi) -> None:
    """What an auditor looks for on the sale itself (on every ticket of a global, and the returns
    netted into them), without touching its modified time. For people to read: decisions read the
    CFDI rows."""
    message = cfdi.review_note or ("" if cfdi.status == CfdiState.STAMPED.value else cfdi.last_error or "")
    values = {"mx_cfdi_status": cfdi.status, "mx_cfdi": cfdi.name, "mx_cfdi_uuid": cfdi.uuid,
              "mx_cfdi_stamped_at": cfdi.stamped_at, "mx_sat_cert_number": cfdi.sat_cert_number,
              "mx_sat_signature": cfdi.sat_signature, "mx_cfdi_message": (message or "")[:1000]}
    if cfdi.is_global:
        frappe.db.set_value("POS Invoice", {"mx_cfdi": cfdi.name}, values, update_modified=False)
    elif cfdi.reference_doctype in MIRRORED:  # only while it is the sale's current CFDI (not once substituted)
        frappe.db.set_value(cfdi.reference_doctype, {"name": cfdi.reference_name, "mx_cfdi": cfdi.name}, values,
                            update_modified=False)


def keep_mirror(doc, also: tuple[str, ...] = ()) -> None:
    """The mirror fields (and `also`, the doctype's other app-written fields) are the app's alone (it
    writes them with SQL, never through a save): whatever a save by a person, an import or the REST
    API carries is replaced by what is stored, and a new document starts without them."""
    fields = [*MIRROR_FIELDS, *also]
    if doc.is_new():
        stored = {}
    else:  # a locking read: the latest committed values, not this transaction's older snapshot
        stored = doc.get_doc_before_save() or frappe.db.get_value(doc.doctype, doc.name, fields,
                                                                 as_dict=True, for_update=True) or {}
    for fieldname in fields:
        doc.set(fieldname, stored.get(fieldname))


def mirror_state(doctype: str, name: str, state: CfdiState | str, message: str = "", cfdi: str | None = None) -> None:
    """A sale's mirror when its CFDI row is (re)queued or waiting, before any call was made."""
    values: dict[str, Any] = {"mx_cfdi_status": CfdiState(state).value, "mx_cfdi_message": message}
    if cfdi is not None:
        values["mx_cfdi"] = cfdi
    frappe.db.set_value(doctype, name, values, update_modified=False)

"""Bulk CFDI re-generation from the POS Invoice or Sales Invoice list, on the `long` queue, without
slowing live stamping.

RQ never pre-empts a running job, so a run works in time-boxed slices: each slice claims a few
invoices at a time from the run's cursor (names in order, streamed a page at a time, never all in
memory), stamps them inline through the ordinary pipeline (claim, idempotency, record), and
re-enqueues itself while time is left in the selection. A worker serving `short` before `long`
therefore starts a live sale's stamp within one slice. `concurrency` slices work at once.

Manners: a 429 or a 5xx pauses the whole run until the CFDI's retry time (the sweep resumes it);
the first 401 stops the run with a message instead of failing thousands of times.
"""

from __future__ import annotations

import json
import resource
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import frappe
from frappe import _
from frappe.utils import add_to_date, get_datetime, now_datetime
from frappe.utils.background_jobs import enqueue

from mexico_localization.cfdi.mapping import MAX_DATE_AGE
from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState
from mexico_localization.einvoice.gather import POS_INVOICE, SALES_INVOICE, load_sale
from mexico_localization.einvoice.kinds.opening import open_sale_cfdi
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.einvoice.pipeline.records import mirror_state
from mexico_localization.einvoice.pipeline.stamping import requeue_failed
from mexico_localization.einvoice.standing import current_cfdis

S = CfdiState
QUEUE = "long"
SLICE_JOB = "mexico_localization.einvoice.operations.bulk.run_slice"
SLICE_SECONDS = 1.5      # a live stamp waits at most about this long for a worker
CLAIM = 1                # invoices taken from the cursor at a time: a pause or stop leaves none claimed unprocessed
PAGE = 500               # names read per query while previewing
CONCURRENCY = 2
STALE_RUN_MINUTES = 15   # a Running run untouched this long lost its slices (worker killed): restart them
FIELDS = ["name", "docstatus", "mx_cfdi_status", "mx_cfdi", "posting_date", "posting_time", "company"]
AUTH_STATUSES = (401, 403)


# --- what a selection holds ---------------------------------------------------------------------

def stream(filters: list | None, names: list[str] | None, after: str = "", page: int = PAGE,
           doctype: str = POS_INVOICE) -> Iterator[dict]:
    """The selected invoices the user may read (their User Permissions apply) in name order after
    `after`, a page at a time, each with the CFDI row that stands for it."""
    chosen = sorted(set(names)) if names is not None else None
    while True:
        if chosen is not None:  # the next page of the chosen names, found by position, not by a huge IN list
            start = bisect_right(chosen, after)
            window = chosen[start:start + page]
            rows = frappe.get_list(doctype, fields=fields_of(doctype), order_by="name asc",
                                   filters=[["name", "in", window]]) if window else []
            done = start + page >= len(chosen)
        else:
            rows = frappe.get_list(doctype, fields=fields_of(doctype), order_by="name asc", limit=page,
                                   filters=[*(filters or []), ["name", ">", after]])
            done = len(rows) < page
        standing = current_cfdis([r.name for r in rows], doctype)
        for r in rows:
            r.cfdi, r.cfdi_status = (standing[r.name].name, standing[r.name].status) if r.name in standing \
                else (None, None)
        yield from rows
        if done:
            return
        after = rows[-1].name if rows else window[-1]


def fields_of(doctype: str) -> list[str]:
    """A Sales Invoice also says whether POS closing consolidated it (never stamped: its sales were)."""
    return [*FIELDS, "is_consolidated"] if doctype == SALES_INVOICE else FIELDS


def skip_reason(row: dict, include_not_applicable: bool) -> str | None:
    """Why a selected invoice is left alone, or None when its CFDI is (re)generated: decided by the CFDI
    row that stands for it; a sale without one is waiting for its global, or has none due."""
    status = row.get("cfdi_status") or (row.get("mx_cfdi_status") if row.get("mx_cfdi_status") in (
        S.AWAITING_GLOBAL.value, S.NOT_APPLICABLE.value) else S.NOT_APPLICABLE.value)
    if row.get("docstatus") != 1:
        return "cancelled or draft"
    if row.get("is_consolidated"):
        return "consolidated by POS closing"
    if status in {s.value for s in VALID_AT_SAT} | {S.CANCELLED.value}:
        return "already stamped"
    if status in {s.value for s in IN_FLIGHT}:
        return "in flight"
    if status in (S.AWAITING_GLOBAL.value, S.AWAITING_ORIGINAL.value):
        return "waiting for a global or original CFDI"
    if status == S.NEEDS_REVIEW.value:
        return "needs review"
    if status == S.NOT_APPLICABLE.value and not include_not_applicable:
        return "not applicable"
    return None


def preview(filters: list | None, names: list[str] | None, include_not_applicable: bool,
            now: datetime | None = None, doctype: str = POS_INVOICE) -> dict[str, Any]:
    """Before starting: how many will be generated, how many skipped and why, how many will carry
    today's date instead of the sale's (older than 70 h), and how many cross a month end."""
    now = now or now_datetime()
    skipped: Counter[str] = Counter()
    todo = redated = month_end = 0
    for row in stream(filters, names, doctype=doctype):
        reason = skip_reason(row, include_not_applicable)
        if reason:
            skipped[reason] += 1
            continue
        todo += 1
        posted = get_datetime(f"{row.posting_date} {row.posting_time or '00:00:00'}")
        if now - posted > MAX_DATE_AGE:
            redated += 1
            month_end += (posted.year, posted.month) != (now.year, now.month)
    return {"to_generate": todo, "skipped": sum(skipped.values()), "skipped_by_reason": dict(skipped),
            "redated": redated, "crossing_month_end": month_end}


# --- a run ------------------------------------------------------------------------------------------

def start(filters: list | None, names: list[str] | None, include_not_applicable: bool,
          concurrency: int = CONCURRENCY, doctype: str = POS_INVOICE) -> dict[str, Any]:
    summary = preview(filters, names, include_not_applicable, doctype=doctype)
    run = frappe.get_doc({
        "doctype": "CFDI Bulk Run", "status": "Running", "requested_by": frappe.session.user,
        "document_type": doctype,
        "concurrency": concurrency, "started_at": now_datetime(),
        "total": summary["to_generate"] + summary["skipped"],
        "filters": json.dumps(filters) if names is None else "", "names": "\n".join(names or []),
        "include_not_applicable": int(include_not_applicable), "cursor": "", "active_slices": concurrency,
        "skipped_detail": _detail(summary["skipped_by_reason"]),
    }).insert(ignore_permissions=True)
    for lane in range(concurrency):
        _enqueue_slice(run.name, lane)
    return {"run": run.name, **summary}


def _detail(by_reason: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {count}" for reason, count in sorted(by_reason.items()))


def _enqueue_slice(run: str, lane: int) -> None:
    enqueue(SLICE_JOB, queue=QUEUE, run=run, lane=lane, enqueue_after_commit=True,
            job_id=f"cfdi:bulk:{run}:{lane}:{frappe.generate_hash(length=8)}")


def run_slice(run: str, lane: int = 0) -> None:
    """One time-boxed slice of a run; re-enqueues itself while the selection lasts."""
    started = time.monotonic()
    ended = False
    while time.monotonic() - started < SLICE_SECONDS:
        if frappe.db.get_value("CFDI Bulk Run", run, "status") != "Running":
            ended = True
            break
        batch = _claim(run)
        if batch is None:  # the selection is done
            ended = True
            break
        for row in batch:
            if not _process(run, row):
                ended = True
                break
        if ended:
            break
    _note_memory(run)
    if ended:
        _lane_done(run)
    else:
        _enqueue_slice(run, lane)
        frappe.db.commit()
    _publish(run)


def _claim(run: str) -> list[dict] | None:
    """The next few invoices of the selection, taken under the run's row lock (slices share a cursor);
    None when none is left."""
    doc = frappe.get_doc("CFDI Bulk Run", run, for_update=True)
    names = doc.names.split("\n") if doc.names else None
    batch = []
    for row in stream(json.loads(doc.filters or "[]") if names is None else None, names, doc.cursor or "", CLAIM,
                      doc.document_type or POS_INVOICE):
        batch.append(row)
        if len(batch) == CLAIM:
            break
    if not batch:
        frappe.db.commit()
        return None
    frappe.db.set_value("CFDI Bulk Run", run, "cursor", batch[-1].name, update_modified=True)
    frappe.db.commit()
    todo = [r for r in batch if not skip_reason(r, bool(doc.include_not_applicable))]
    for r in todo:
        r.doctype = doc.document_type or POS_INVOICE
    for _skipped in range(len(batch) - len(todo)):
        _count(run, "skipped")
    return todo


def _process(run: str, row: dict) -> bool:
    """Generates one invoice's CFDI inline; False when the run must stop or pause."""
    cfdi = _prepare(run, row)
    if not cfdi:
        _count(run, "skipped")
        return True
    stamp(cfdi)
    outcome = frappe.db.get_value("CFDI", cfdi, ["status", "next_attempt_at", "last_error"], as_dict=True)
    http = frappe.db.get_value("CFDI Attempt", {"parent": cfdi}, "http_status", order_by="idx desc")
    if http in AUTH_STATUSES:
        _count(run, "failed")
        _stop(run, _("FacturaAPI refused the Secret Key of {0} ({1}): check it in E Invoice Setting and Ping Server, "
                     "then start the run again. Nothing else was sent.").format(row.company, http))
        return False
    if outcome.status == S.RETRYING.value:
        _count(run, "retrying")
        _pause(run, outcome.next_attempt_at or add_to_date(now_datetime(), seconds=60), outcome.last_error)
        return False
    _count(run, {S.STAMPED.value: "stamped", S.FAILED.value: "failed"}.get(outcome.status, "processed"))
    return True


def _prepare(run: str, row: dict) -> str | None:
    """The invoice's CFDI row, Queued and tagged with the run; None when there is nothing to stamp now."""
    if row.cfdi_status == S.FAILED.value and row.cfdi:
        requeued = requeue_failed(row.cfdi, bulk_run=run)
        frappe.db.commit()
        return row.cfdi if requeued else None
    opened = open_sale_cfdi(load_sale(row.name, row.doctype), queue=None)  # this slice stamps it
    mirror_state(row.doctype, row.name, opened.state, opened.reason, cfdi=opened.cfdi)
    queued = opened.state is S.QUEUED and opened.cfdi
    if queued:
        frappe.db.set_value("CFDI", opened.cfdi, "bulk_run", run, update_modified=False)
    frappe.db.commit()
    return opened.cfdi if queued else None


def _count(run: str, outcome: str) -> None:
    column = {"stamped": "stamped", "failed": "failed", "retrying": "retrying", "skipped": "skipped"}.get(outcome)
    extra = f", `{column}` = `{column}` + 1" if column else ""
    processed = ", processed = processed + 1" if outcome != "skipped" else ""
    frappe.db.sql(f"update `tabCFDI Bulk Run` set modified=%s{processed}{extra} where name=%s",  # noqa: S608
                  (now_datetime(), run))
    frappe.db.commit()


def _stop(run: str, reason: str) -> None:
    frappe.db.set_value("CFDI Bulk Run", run, {"status": "Stopped", "stop_reason": reason,
                                                "finished_at": now_datetime()})
    frappe.db.commit()


def _pause(run: str, until, reason: str) -> None:
    frappe.db.sql("""update `tabCFDI Bulk Run` set status='Paused', resume_at=%s, stop_reason=%s
                     where name=%s and status='Running'""", (until, (reason or "")[:1000], run))
    frappe.db.commit()


def _lane_done(run: str) -> None:
    """A slice that ends its lane; the last one closes the run when the selection is done."""
    frappe.db.sql("""update `tabCFDI Bulk Run` set active_slices = greatest(active_slices - 1, 0)
                     where name=%s""", run)
    doc = frappe.db.get_value("CFDI Bulk Run", run, ["status", "active_slices"], as_dict=True)
    if doc.status == "Running" and not doc.active_slices:
        frappe.db.set_value("CFDI Bulk Run", run, {"status": "Completed", "finished_at": now_datetime()})
    frappe.db.commit()


def _note_memory(run: str) -> None:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    frappe.db.sql("update `tabCFDI Bulk Run` set peak_memory_mb = greatest(ifnull(peak_memory_mb, 0), %s) "
                  "where name=%s", (round(peak_mb, 1), run))
    frappe.db.commit()


def _publish(run: str) -> None:
    doc = frappe.db.get_value("CFDI Bulk Run", run, ["name", "status", "total", "processed", "stamped", "failed",
                                                     "retrying", "skipped", "stop_reason", "requested_by"],
                              as_dict=True)
    frappe.publish_realtime("cfdi_bulk_progress", doc, user=doc.requested_by)


def resume_bulk_runs(now: datetime | None = None) -> list[str]:
    """Scheduler (every minute): paused runs whose wait is over, and running ones whose slices were lost."""
    now = now or now_datetime()
    resumed = []
    for run in frappe.get_all("CFDI Bulk Run", fields=["name", "concurrency"], filters=[
            ["status", "=", "Paused"], ["resume_at", "<=", now]]):
        frappe.db.sql("""update `tabCFDI Bulk Run` set status='Running', stop_reason='', active_slices=%s
                         where name=%s and status='Paused'""", (run.concurrency or 1, run.name))
        resumed.append(run)
    for run in frappe.get_all("CFDI Bulk Run", fields=["name", "concurrency"], filters=[
            ["status", "=", "Running"], ["modified", "<", add_to_date(now, minutes=-STALE_RUN_MINUTES)]]):
        frappe.db.set_value("CFDI Bulk Run", run.name, "active_slices", run.concurrency or 1)
        resumed.append(run)
    for run in resumed:
        for lane in range(run.concurrency or 1):
            _enqueue_slice(run.name, lane)
    frappe.db.commit()
    return [r.name for r in resumed]

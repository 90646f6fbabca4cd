"""The scheduler's sweep (every minute): re-queues what is due and rescues what was lost.

Waiting never happens inside a job: a retry or a pending check is a time on the CFDI, and this
sweep enqueues it when the time comes. It also rescues Queued CFDIs whose job vanished (Redis
flushed) and Stamping ones whose worker died mid-call (SIGKILL): those may have stamped, so the
next try looks FacturaAPI up by External ID before creating anything. Cancellations waiting for
a retry or for SAT's answer are asked again here too.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_job_status

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.bulk import resume_bulk_runs
from mexico_localization.einvoice.cancellation import enqueue_due_cancellations
from mexico_localization.einvoice.stamping import enqueue_stamp, job_id

S = CfdiState
QUEUED_GRACE_SECONDS = 120   # a fresh job normally starts within seconds
STAMPING_STALE_SECONDS = 330  # the short queue kills a job at 300 s


def sweep(stamping_stale_seconds: int = STAMPING_STALE_SECONDS,
          queued_grace_seconds: int = QUEUED_GRACE_SECONDS) -> list[str]:
    now = now_datetime()
    rescued = frappe.get_all("CFDI", pluck="name", filters={
        "status": S.STAMPING.value, "claimed_at": ["<", add_to_date(now, seconds=-stamping_stale_seconds)]})
    for name in rescued:
        frappe.db.set_value("CFDI", name, {"status": S.RETRYING.value, "needs_reconcile": 1, "next_attempt_at": now},
                            update_modified=False)
    due = frappe.get_all("CFDI", pluck="name", filters={
        "status": ["in", [S.RETRYING.value, S.PENDING_AT_PAC.value]], "next_attempt_at": ["<=", now]})
    stale_queued = [name for name in frappe.get_all("CFDI", pluck="name", filters={
        "status": S.QUEUED.value, "modified": ["<", add_to_date(now, seconds=-queued_grace_seconds)]})
        if get_job_status(job_id(name)) not in ("queued", "started")]
    for name in stale_queued:
        enqueue_stamp(name)
    rows = {r.name: r for r in frappe.get_all("CFDI", filters={"name": ["in", due + rescued or [""]]},
                                              fields=["name", "attempt_count", "bulk_run"])}
    for name in sorted(set(due) | set(rescued)):
        row = rows.get(name) or frappe._dict()
        # A bulk run's retries stay on its lane: live sales on `short` never wait behind them.
        enqueue_stamp(name, attempt=int(row.attempt_count or 0) + 1, queue="long" if row.bulk_run else "short")
    resume_bulk_runs(now)
    cancellations = enqueue_due_cancellations(now)
    frappe.db.commit()
    return sorted(set(due) | set(rescued) | set(stale_queued) | set(cancellations))

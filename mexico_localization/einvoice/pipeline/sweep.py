"""The scheduler's sweep (every minute): re-queues what is due and rescues what was lost.

Waiting never happens inside a job: a retry or a pending check is a time on the CFDI, and this
sweep enqueues it when the time comes. It also rescues Queued CFDIs whose job vanished (Redis
flushed), Stamping ones whose worker died mid-call (SIGKILL: they may have stamped, so the next try
looks FacturaAPI up by External ID before creating anything), cancellations waiting for a retry or
for SAT's answer, and follow-ups still due long after their record.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_job_status

from mexico_localization.cfdi.moves import RESCUE_STAMPING
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.cancellation import enqueue_due_cancellations
from mexico_localization.einvoice.pipeline.followups import retry_stale
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE, enqueue_stamp, job_id, transition

QUEUED_GRACE_SECONDS = 120   # a fresh job normally starts within seconds
STAMPING_STALE_SECONDS = 330  # the short queue kills a job at 300 s
BULK_QUEUE = "long"


def sweep(stamping_stale_seconds: int = STAMPING_STALE_SECONDS,
          queued_grace_seconds: int = QUEUED_GRACE_SECONDS) -> list[str]:
    now = now_datetime()
    rescued = [name for name in frappe.get_all("CFDI", pluck="name", filters={
        "status": CfdiState.STAMPING.value, "claimed_at": ["<", add_to_date(now, seconds=-stamping_stale_seconds)]})
        if transition(name, RESCUE_STAMPING, CfdiState.RETRYING, {"needs_reconcile": 1, "next_attempt_at": now})]
    due = frappe.get_all("CFDI", pluck="name", filters={
        "status": ["in", [CfdiState.RETRYING.value, CfdiState.PENDING_AT_PAC.value]], "next_attempt_at": ["<=", now]})
    stale_queued = [name for name in frappe.get_all("CFDI", pluck="name", filters={
        "status": CfdiState.QUEUED.value, "modified": ["<", add_to_date(now, seconds=-queued_grace_seconds)]})
        if get_job_status(job_id("stamp", name)) not in ("queued", "started")]
    for name in stale_queued:
        enqueue_stamp(name)
    rows = {r.name: r for r in frappe.get_all("CFDI", filters={"name": ["in", due + rescued or [""]]},
                                              fields=["name", "attempt_count", "bulk_run"])}
    for name in sorted(set(due) | set(rescued)):
        row = rows.get(name) or frappe._dict()
        # A bulk run's retries stay on its lane: live sales on `short` never wait behind them.
        enqueue_stamp(name, attempt=int(row.attempt_count or 0) + 1,
                      queue=BULK_QUEUE if row.bulk_run else LIVE_QUEUE)
    cancellations = enqueue_due_cancellations(now)
    frappe.db.commit()
    followed_up = retry_stale()
    return sorted(set(due) | set(rescued) | set(stale_queued) | set(cancellations) | set(followed_up))

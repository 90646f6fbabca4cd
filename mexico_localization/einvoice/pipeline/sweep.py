"""The scheduler's sweep (every minute): re-queues what is due and rescues what was lost.

Waiting never happens inside a job: a retry or a pending check is a time on the CFDI, and this
sweep enqueues it when the time comes. It also rescues Queued CFDIs whose job is in no queue and in
no worker's hands (Redis flushed, a queue emptied: a job record alone may survive), Stamping ones
whose worker died mid-call (SIGKILL: they may have stamped, so the next try looks FacturaAPI up by
External ID before creating anything), cancellations waiting for a retry or for SAT's answer, and
follow-ups still due long after their record.
"""

from __future__ import annotations

import frappe
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import create_job_id, get_queue, get_queues_timeout

from mexico_localization.cfdi.moves import RESCUE_STAMPING
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.cancellation import enqueue_due_cancellations
from mexico_localization.einvoice.pipeline.followups import retry_stale
from mexico_localization.einvoice.pipeline.rows import LIVE_QUEUE, enqueue_stamp, job_id, transition
from mexico_localization.einvoice.settings import retry_policy

QUEUED_GRACE_SECONDS = 120   # a fresh job normally starts within seconds
STUCK_QUEUED_SECONDS = 600   # past this, a Queued CFDI offers Retry to a person too
STALE_MARGIN_SECONDS = 30     # a job is killed at its queue's timeout; its try is rescued after this margin
BULK_QUEUE = "long"


def stale_after(queue: str) -> int:
    """How long a claim may last: its queue's job timeout (short 300 s; bulk stamps inline on long,
    1,500 s), plus a margin. A try still running then is past its job's life."""
    return int(get_queues_timeout().get(queue) or 300) + STALE_MARGIN_SECONDS


def sweep(stamping_stale_seconds: int | None = None, queued_grace_seconds: int = QUEUED_GRACE_SECONDS) -> list[str]:
    now = now_datetime()
    rescued = [row.name for row in frappe.get_all("CFDI", fields=["name", "bulk_run", "attempt_count", "claimed_at"],
                                                  filters={"status": CfdiState.STAMPING.value})
               if row.claimed_at and row.claimed_at < add_to_date(now, seconds=-(
                   stamping_stale_seconds or stale_after(BULK_QUEUE if row.bulk_run else LIVE_QUEUE)))
               and rescue(row, now)]
    due = frappe.get_all("CFDI", pluck="name", filters={
        "status": ["in", [CfdiState.RETRYING.value, CfdiState.PENDING_AT_PAC.value]], "next_attempt_at": ["<=", now]})
    waiting = frappe.get_all("CFDI", pluck="name", filters={
        "status": CfdiState.QUEUED.value, "modified": ["<", add_to_date(now, seconds=-queued_grace_seconds)]})
    live = jobs_in_rq() if waiting else set()
    stale_queued = [name for name in waiting if not has_live_job(name, live)]
    for name in stale_queued:
        enqueue_afresh(name)
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


def jobs_in_rq() -> set[str]:
    """The ids of the jobs RQ will still run: waiting in a queue or started by a worker. A job's record
    can outlive both (a queue emptied, a worker gone), so its status alone proves nothing."""
    found: set[str] = set()
    for name in (LIVE_QUEUE, BULK_QUEUE):
        queue = get_queue(name)
        found.update(queue.get_job_ids())
        found.update(queue.started_job_registry.get_job_ids())
    return found


def has_live_job(cfdi: str, live: set[str]) -> bool:
    """Whether any stamp job of the CFDI (whatever its try) is in RQ's hands."""
    prefix = create_job_id(job_id("stamp", cfdi))
    return any(j == prefix or j.startswith(prefix + ":") for j in live)


def enqueue_afresh(cfdi: str) -> None:
    """A new job under a new id: a stale record of the old one would make RQ's de-duplication skip it."""
    enqueue_stamp(cfdi, attempt=f"sweep-{frappe.generate_hash(length=8)}")


def stuck_in_queue(cfdi: str) -> bool:
    """A Queued CFDI that no job will run, long enough for a person to be offered Retry."""
    row = frappe.db.get_value("CFDI", cfdi, ["status", "modified"], as_dict=True)
    return bool(row and row.status == CfdiState.QUEUED.value
                and row.modified < add_to_date(now_datetime(), seconds=-STUCK_QUEUED_SECONDS)
                and not has_live_job(cfdi, jobs_in_rq()))


def rescue(row, now) -> bool:
    """A try whose worker died mid-call: counted as an attempt, and looked up before any create. Its
    claim is dropped, so a worker that outlived its job can no longer record over the next try."""
    tries = int(row.attempt_count or 0) + 1
    state = CfdiState.FAILED if tries >= retry_policy().max_attempts else CfdiState.RETRYING
    return transition(row.name, RESCUE_STAMPING, state, {
        "needs_reconcile": 1, "next_attempt_at": now, "attempt_count": tries, "claim_token": "",
        "last_error_code": "worker_lost", "last_error": "The worker stamping this CFDI stopped before it recorded an "
                                                        "answer; FacturaAPI is looked up before anything is created."})

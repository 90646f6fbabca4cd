"""A CFDI row's identity and its moves: the one factory that writes new rows, the names FacturaAPI
knows it by (External ID, idempotency key), its job ids and queues, and `transition`, the one way
its state changes."""

from __future__ import annotations

from typing import Any

import frappe
from frappe.utils import now_datetime
from frappe.utils.background_jobs import enqueue

from mexico_localization.cfdi.moves import Move
from mexico_localization.cfdi.states import CfdiState

LIVE_QUEUE = "short"   # live sales; bulk re-generation keeps its retries on "long"
STAMP_JOB = "mexico_localization.einvoice.pipeline.jobs.stamp"
CANCEL_JOB = "mexico_localization.einvoice.pipeline.jobs.cancel"


def external_id(subject: str) -> str:
    """How FacturaAPI finds a document again after a lost answer: the site and the document's name."""
    return f"{frappe.local.site}:{subject}"


def idempotency_key(cfdi) -> str:
    """Only a sale's first ingreso is keyed by the sale: globals, substitutes, credit notes and payment
    complements are documents of their own (a sale can have several). The generation moves on only
    after a definitive answer, so every try of one document replays the same key."""
    own = cfdi.is_global or cfdi.substitutes or cfdi.cfdi_type != "I"
    subject = f"CFDI:{cfdi.name}" if own else f"{cfdi.reference_doctype}:{cfdi.reference_name}"
    return f"{frappe.local.site}:{subject}:stamp:{cfdi.generation or 1}"


def new_row(values: dict[str, Any], *, external_subject: str | None = None, name: str | None = None,
            queue: str | None = LIVE_QUEUE) -> str:
    """Writes a new CFDI row (every kind's rows come from here) with its child rows, in the caller's
    transaction. A plain insert: the cashier's submit stays cheap, and the referenced document may
    not be in its table yet. `external_subject`: what its External ID names (default: the row
    itself). A Queued row's stamp job is queued on `queue` after the commit; None stamps it inline
    (bulk re-generation)."""
    cfdi = frappe.new_doc("CFDI")  # with the doctype's defaults
    cfdi.update({"generation": 1, **values})
    cfdi.set_new_name(set_name=name)
    cfdi.external_id = external_id(external_subject or cfdi.name)
    cfdi.set_parent_in_children()
    cfdi.set_user_and_timestamp()
    cfdi.db_insert()
    for child in cfdi.get_all_children():
        child.db_insert()
    if cfdi.status == CfdiState.QUEUED.value and queue:
        enqueue_stamp(cfdi.name, queue=queue)
    return cfdi.name


def add_child(cfdi: str, parentfield: str, doctype: str, values: dict[str, Any]) -> None:
    """Appends one child row (an attempt, say) without loading and saving the whole CFDI."""
    idx = frappe.db.count(doctype, {"parent": cfdi, "parenttype": "CFDI", "parentfield": parentfield}) + 1
    child = frappe.new_doc(doctype)
    child.update({**values, "parent": cfdi, "parenttype": "CFDI", "parentfield": parentfield, "idx": idx})
    child.set_new_name()
    child.set_user_and_timestamp()
    child.db_insert()


def transition(cfdi: str, move: Move, to: CfdiState | str, values: dict[str, Any] | None = None,
               claim: str | None = None) -> bool:
    """The one way a CFDI changes state. `move` names what the code is doing and the states it starts
    from; a target outside it raises (a bug, in tests and in production alike). Under the row's lock,
    the CFDI moves only if it is still in one of the move's starting states, and, given a `claim`,
    still held by that claim (a try that outlived its job must not record over the next one): False
    means another worker or person moved it first, and nothing was written."""
    target = move.check(to)
    current = frappe.db.get_value("CFDI", cfdi, ["status", "claim_token"], as_dict=True, for_update=True)
    if current is None or CfdiState(current.status) not in move.sources:
        return False
    if claim is not None and current.claim_token != claim:
        return False
    frappe.db.set_value("CFDI", cfdi, {**(values or {}), "status": target.value})
    return True


def new_claim() -> str:
    return frappe.generate_hash(length=16)


def job_id(kind: str, cfdi: str, attempt: int | str | None = None) -> str:
    """One job id per try: a job SIGKILLed mid-call stays "started" in RQ for a while, and must not
    keep the next try out. Two jobs for one try are harmless: only one claims the CFDI."""
    return f"cfdi:{kind}:{cfdi}" if attempt is None else f"cfdi:{kind}:{cfdi}:{attempt}"


def enqueue_stamp(cfdi: str, attempt: int | str | None = None, queue: str = LIVE_QUEUE) -> None:
    """After the caller's transaction commits; a job already queued or running for this try is kept."""
    enqueue(STAMP_JOB, queue=queue, cfdi=cfdi, job_id=job_id("stamp", cfdi, attempt), deduplicate=True,
            enqueue_after_commit=True)


def enqueue_cancel(cfdi: str, attempt: int) -> None:
    enqueue(CANCEL_JOB, queue=LIVE_QUEUE, cfdi=cfdi, job_id=job_id("cancel", cfdi, attempt), deduplicate=True,
            enqueue_after_commit=True)


def stale_before(seconds: float):
    return frappe.utils.add_to_date(now_datetime(), seconds=-seconds)

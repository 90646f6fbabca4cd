"""What happens to a CFDI after one call to FacturaAPI: the retry policy, as a pure function.

Waiting never happens inside a job: a retry is a time written on the CFDI (`at`), and the
scheduler's sweep re-enqueues it when due.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.facturapi.errors import ConflictError, FacturapiError

MAX_RETRY_AFTER = 86400.0  # a day: the longest Retry-After honoured


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: float = 30.0      # seconds before the 2nd attempt
    max_delay: float = 3600.0     # backoff cap
    max_attempts: int = 8         # then Failed, "attempts exhausted"
    pending_poll: float = 600.0   # FacturaAPI recovers pending CFDIs every 10 minutes
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Capped exponential backoff with equal jitter, never shorter than Retry-After (itself taken
        at most a day: an absurd or infinite value must not overflow the clock or park a CFDI forever)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(max(0, attempt - 1), 32)))
        delay = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        advised = retry_after if retry_after is not None and math.isfinite(retry_after) else None
        if retry_after is not None and advised is None and retry_after > 0:
            advised = MAX_RETRY_AFTER  # +inf: as long as we ever wait
        return max(delay, min(max(advised or 0.0, 0.0), MAX_RETRY_AFTER))


@dataclass(frozen=True)
class Decision:
    state: CfdiState
    at: datetime | None = None        # next_attempt_at / next_check_at
    reason: str = ""
    error_code: str = ""
    reconcile_first: bool = False     # look the CFDI up by external_id before creating again
    definitive: bool = False          # a definitive answer: the idempotency generation moves on


class Step(str, Enum):
    """The call a stamping try ended on: only a create's answer can be the document's answer."""

    CREATE = "create"      # POST /invoices
    LOOKUP = "lookup"      # GET /invoices?external_id=...: what FacturaAPI holds after a lost answer
    RETRIEVE = "retrieve"  # GET /invoices/{id}: a pending stamp being recovered


def next_action(outcome: dict[str, Any] | FacturapiError, attempt: int, now: datetime,
                policy: RetryPolicy | None = None, *, step: Step = Step.CREATE, reconciling: bool = False,
                looked_up: bool = False) -> Decision:
    """Where a CFDI goes after attempt number `attempt` (1-based) ended with `outcome` on `step`.

    `reconciling`: the try began owing a look-up (an earlier answer was lost). Only a look-up that
    completed settles that debt, so an error of the look-up (or of a retrieve) keeps it and never
    moves the generation on: a new idempotency key after a lost answer is how one sale gets two
    CFDIs. `looked_up`: this try's look-up completed and found nothing before the create.
    """
    policy = policy or RetryPolicy()
    if isinstance(outcome, FacturapiError):
        return _after_error(outcome, attempt, now, policy, step, reconciling, looked_up)
    return _after_invoice(outcome, now, policy)


def _after_invoice(invoice: dict[str, Any], now: datetime, policy: RetryPolicy) -> Decision:
    status = invoice.get("status")
    if status == "valid" and invoice.get("uuid"):
        return Decision(CfdiState.STAMPED)
    if status == "pending":
        return Decision(CfdiState.PENDING_AT_PAC, at=now + timedelta(seconds=policy.pending_poll),
                        reason="FacturaAPI is recovering the stamp from the PAC")
    if status == "failed":
        return Decision(CfdiState.FAILED, reason="FacturaAPI could not recover the stamp from the PAC",
                        error_code="stamp_recovery_failed", definitive=True)
    return Decision(CfdiState.NEEDS_REVIEW, reason=f"FacturaAPI answered an invoice in status {status!r}",
                    error_code="unexpected_status")


def _after_error(error: FacturapiError, attempt: int, now: datetime, policy: RetryPolicy, step: Step,
                 reconciling: bool, looked_up: bool) -> Decision:
    code = error.code or error.kind
    creating = step is Step.CREATE
    # A create refused as a conflict can only be its idempotency key already used (our bodies are new
    # documents): the document may exist, so the outcome is unknown, never a reason for a new key.
    replayed = creating and isinstance(error, ConflictError)
    if replayed and looked_up:
        return Decision(CfdiState.NEEDS_REVIEW, error_code=code, reconcile_first=True, reason=(
            f"FacturaAPI says this document's idempotency key was already used, but holds no CFDI under its "
            f"External ID: check FacturaAPI's dashboard. Last answer: {error.summary()}"))
    reconcile = (error.outcome_unknown or replayed) if creating else reconciling
    if not (error.retryable or replayed):
        return Decision(CfdiState.FAILED, reason=error.summary(), error_code=code, definitive=creating,
                        reconcile_first=reconcile)
    if attempt >= policy.max_attempts:
        return Decision(CfdiState.FAILED, error_code=code, reconcile_first=reconcile,
                        reason=f"attempts exhausted ({attempt}); last error: {error.summary()}")
    delay = policy.backoff(attempt, error.retry_after)
    return Decision(CfdiState.RETRYING, at=now + timedelta(seconds=delay), reason=error.summary(),
                    error_code=code, reconcile_first=reconcile)


CANCEL_PENDING_POLL = timedelta(hours=1)      # the receiver has three business days to answer
CANCEL_VERIFYING_POLL = timedelta(minutes=5)  # SAT is validating: minutes


def after_cancel(outcome: dict[str, Any] | FacturapiError, attempt: int, now: datetime,
                 policy: RetryPolicy | None = None) -> Decision:
    """Where a CFDI goes after a cancellation request (or a look at one in progress) ended with `outcome`."""
    policy = policy or RetryPolicy()
    if isinstance(outcome, FacturapiError):
        code = outcome.code or outcome.kind
        if not outcome.retryable:
            return Decision(CfdiState.CANCEL_REJECTED, reason=outcome.summary(), error_code=code)
        if attempt >= policy.max_attempts:
            return Decision(CfdiState.CANCEL_REJECTED, error_code=code,
                            reason=f"attempts exhausted ({attempt}); last error: {outcome.summary()}")
        delay = policy.backoff(attempt, outcome.retry_after)
        return Decision(CfdiState.CANCEL_REQUESTED, at=now + timedelta(seconds=delay), reason=outcome.summary(),
                        error_code=code)
    status, answer = outcome.get("status"), outcome.get("cancellation_status")
    if status == "canceled":
        return Decision(CfdiState.CANCELLED)
    if answer in ("rejected", "expired"):
        return Decision(CfdiState.CANCEL_REJECTED, error_code=f"cancellation_{answer}",
                        reason=f"the cancellation was {answer} (the receiver refused it or did not answer in time)")
    if answer in (None, "none"):  # FacturaAPI holds no request (ours was lost on the way): ask again
        return Decision(CfdiState.CANCEL_REQUESTED, at=now + timedelta(seconds=policy.backoff(attempt)),
                        reason="FacturaAPI has no cancellation request on record for this CFDI; asking again")
    wait = CANCEL_VERIFYING_POLL if answer == "verifying" else CANCEL_PENDING_POLL
    return Decision(CfdiState.CANCEL_PENDING, at=now + wait,
                    reason=f"cancellation {answer or 'requested'}: waiting for the receiver or SAT")

"""What happens to a CFDI after one call to FacturaAPI: the retry policy, as a pure function.

Waiting never happens inside a job: a retry is a time written on the CFDI (`at`), and the
scheduler's sweep re-enqueues it when due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.facturapi.errors import FacturapiError


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: float = 30.0      # seconds before the 2nd attempt
    max_delay: float = 3600.0     # backoff cap
    max_attempts: int = 8         # then Failed, "attempts exhausted"
    pending_poll: float = 600.0   # FacturaAPI recovers pending CFDIs every 10 minutes
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Capped exponential backoff with equal jitter, never shorter than Retry-After."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        delay = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class Decision:
    state: CfdiState
    at: datetime | None = None        # next_attempt_at / next_check_at
    reason: str = ""
    error_code: str = ""
    reconcile_first: bool = False     # look the CFDI up by external_id before creating again
    definitive: bool = False          # a definitive answer: the idempotency generation moves on


def next_action(outcome: dict[str, Any] | FacturapiError, attempt: int, now: datetime,
                policy: RetryPolicy | None = None) -> Decision:
    """Where a CFDI goes after attempt number `attempt` (1-based) ended with `outcome`."""
    policy = policy or RetryPolicy()
    if isinstance(outcome, FacturapiError):
        return _after_error(outcome, attempt, now, policy)
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


def _after_error(error: FacturapiError, attempt: int, now: datetime, policy: RetryPolicy) -> Decision:
    code = error.code or error.kind
    if not error.retryable:
        return Decision(CfdiState.FAILED, reason=error.summary(), error_code=code, definitive=True)
    if attempt >= policy.max_attempts:
        return Decision(CfdiState.FAILED, error_code=code, reconcile_first=error.outcome_unknown,
                        reason=f"attempts exhausted ({attempt}); last error: {error.summary()}")
    delay = policy.backoff(attempt, error.retry_after)
    return Decision(CfdiState.RETRYING, at=now + timedelta(seconds=delay), reason=error.summary(),
                    error_code=code, reconcile_first=error.outcome_unknown)


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

"""The one state table for every CFDI (ingreso, egreso, pago, global): the source of truth.

`../shared/design.md` started it; changes since are listed in `CHANGES` below and in the README.
"""

from __future__ import annotations

from enum import Enum


class CfdiState(str, Enum):
    NOT_APPLICABLE = "Not Applicable"      # no CFDI is due; never picked up implicitly
    QUEUED = "Queued"                      # job enqueued; worker claims it
    STAMPING = "Stamping"                  # claimed, call in flight
    RETRYING = "Retrying"                  # transient failure; next_attempt_at set
    PENDING_AT_PAC = "Pending at PAC"      # FacturaAPI answered 202/pending; next_check_at set
    AWAITING_GLOBAL = "Awaiting Global"    # walk-in ticket waiting for its period's global CFDI
    AWAITING_ORIGINAL = "Awaiting Original"  # a return's egreso waits for the CFDI of the sale it returns
    STAMPED = "Stamped"                    # valid CFDI, UUID known
    FAILED = "Failed"                      # definitive; a person fixes data and re-generates
    NEEDS_REVIEW = "Needs Review"          # ambiguous at FacturaAPI (possible duplicate): a person decides
    CANCEL_REQUESTED = "Cancel Requested"  # cancellation sent
    CANCEL_PENDING = "Cancel Pending"      # waiting for the receiver or SAT
    CANCELLED = "Cancelled"
    CANCEL_REJECTED = "Cancel Rejected"    # receiver or SAT said no (or it expired); still valid

    def __str__(self) -> str:
        return self.value


S = CfdiState

IN_FLIGHT = frozenset({S.QUEUED, S.STAMPING, S.RETRYING, S.PENDING_AT_PAC})
CANCEL_IN_FLIGHT = frozenset({S.CANCEL_REQUESTED, S.CANCEL_PENDING})
# A fiscal document exists at SAT in these states: ERPNext's Cancel must be refused.
VALID_AT_SAT = frozenset({S.STAMPED, S.CANCEL_REQUESTED, S.CANCEL_PENDING, S.CANCEL_REJECTED})
REGENERABLE = frozenset({S.FAILED, S.NOT_APPLICABLE})

TRANSITIONS: dict[CfdiState, frozenset[CfdiState]] = {
    S.NOT_APPLICABLE: frozenset({S.QUEUED}),  # only when a person asks (bulk re-generation)
    S.QUEUED: frozenset({S.STAMPING, S.NOT_APPLICABLE}),
    S.STAMPING: frozenset({S.STAMPED, S.RETRYING, S.PENDING_AT_PAC, S.FAILED, S.NEEDS_REVIEW,
                           S.QUEUED,            # the sweep re-queues a job killed mid-call
                           S.NOT_APPLICABLE}),  # the sale was cancelled in ERPNext and nothing was stamped
    S.RETRYING: frozenset({S.STAMPING, S.QUEUED}),
    S.PENDING_AT_PAC: frozenset({S.STAMPED, S.FAILED, S.PENDING_AT_PAC, S.RETRYING}),
    S.AWAITING_GLOBAL: frozenset({S.QUEUED, S.STAMPED}),
    S.AWAITING_ORIGINAL: frozenset({S.QUEUED, S.NOT_APPLICABLE}),
    S.STAMPED: frozenset({S.CANCEL_REQUESTED,
                          S.CANCEL_PENDING, S.CANCELLED}),  # cancelled outside the app, found by the daily check
    S.FAILED: frozenset({S.QUEUED}),
    S.NEEDS_REVIEW: frozenset({S.STAMPED, S.FAILED, S.QUEUED}),
    S.CANCEL_REQUESTED: frozenset({S.CANCEL_REQUESTED, S.CANCEL_PENDING, S.CANCELLED, S.CANCEL_REJECTED}),
    S.CANCEL_PENDING: frozenset({S.CANCEL_PENDING, S.CANCELLED, S.CANCEL_REJECTED}),
    S.CANCELLED: frozenset(),
    S.CANCEL_REJECTED: frozenset({S.CANCEL_REQUESTED, S.CANCEL_PENDING, S.CANCELLED}),
}

CHANGES = (
    "Needs Review: added for two valid CFDIs found under one external_id (possible double stamp).",
    "Awaiting Global is a sale's state, not a CFDI row's: a global CFDI row starts Queued when its period's "
    "tickets are collected; its tickets mirror its state from then on.",
    "Cancel Requested repeats (a transient error, retried by the sweep) and Cancel Pending repeats (polled); "
    "a failed cancellation ends Cancel Rejected (still valid at SAT), never back to Stamped.",
    "Awaiting Original: added for a return whose sale's CFDI is not stamped yet; it is queued when that "
    "CFDI is stamped.",
    "Stamping -> Not Applicable: the stamp job found its sale cancelled in ERPNext and nothing at FacturaAPI.",
    "Stamped / Cancel Rejected -> Cancel Pending or Cancelled: a cancellation made outside the app (FacturaAPI's "
    "dashboard, another integration, SAT's portal), found by the daily status check; the CFDI is marked "
    "Cancelled Outside This System.",
)


def can_move(current: CfdiState | str, target: CfdiState | str) -> bool:
    return CfdiState(target) in TRANSITIONS[CfdiState(current)]

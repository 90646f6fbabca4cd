"""The one state table for every CFDI row (ingreso, egreso, pago, global): the source of truth.

`TRANSITIONS` lists every move the app may make; `cfdi/moves.py` declares the moves its code
makes, each checked against this table when it is declared.
"""

from __future__ import annotations

from enum import Enum


class CfdiState(str, Enum):
    NOT_APPLICABLE = "Not Applicable"      # no CFDI is due; never picked up implicitly
    QUEUED = "Queued"                      # job enqueued; worker claims it
    STAMPING = "Stamping"                  # claimed, call in flight
    RETRYING = "Retrying"                  # transient failure; next_attempt_at set
    PENDING_AT_PAC = "Pending at PAC"      # FacturaAPI answered 202/pending; next_attempt_at set
    AWAITING_GLOBAL = "Awaiting Global"    # a sale's state only: a walk-in ticket waiting for its period's global
    AWAITING_ORIGINAL = "Awaiting Original"  # a return's egreso waits for the CFDI of the sale it returns
    STAMPED = "Stamped"                    # valid CFDI, UUID known
    FAILED = "Failed"                      # definitive; a person fixes data and re-generates
    NEEDS_REVIEW = "Needs Review"          # ambiguous at FacturaAPI (possible duplicate): a person decides
    CANCEL_REQUESTED = "Cancel Requested"  # cancellation sent (repeats while retried)
    CANCEL_PENDING = "Cancel Pending"      # waiting for the receiver or SAT (repeats while polled)
    CANCELLED = "Cancelled"
    CANCEL_REJECTED = "Cancel Rejected"    # receiver or SAT said no (or it expired); still valid

    def __str__(self) -> str:
        return self.value


IN_FLIGHT = frozenset({CfdiState.QUEUED, CfdiState.STAMPING, CfdiState.RETRYING, CfdiState.PENDING_AT_PAC})
CANCEL_IN_FLIGHT = frozenset({CfdiState.CANCEL_REQUESTED, CfdiState.CANCEL_PENDING})
# A fiscal document exists at SAT in these states: ERPNext's Cancel must be refused.
VALID_AT_SAT = frozenset({CfdiState.STAMPED, CfdiState.CANCEL_REQUESTED, CfdiState.CANCEL_PENDING,
                          CfdiState.CANCEL_REJECTED})
# Where a sale's row may go after one stamping try, whatever FacturaAPI answered.
STAMP_OUTCOMES = frozenset({CfdiState.STAMPED, CfdiState.RETRYING, CfdiState.PENDING_AT_PAC, CfdiState.FAILED,
                            CfdiState.NEEDS_REVIEW,
                            CfdiState.NOT_APPLICABLE})  # the sale was cancelled in ERPNext, nothing was stamped
# Where a cancellation goes after one call (request, or a look at one in progress).
CANCEL_OUTCOMES = frozenset({CfdiState.CANCEL_REQUESTED, CfdiState.CANCEL_PENDING, CfdiState.CANCELLED,
                             CfdiState.CANCEL_REJECTED})

TRANSITIONS: dict[CfdiState, frozenset[CfdiState]] = {
    CfdiState.NOT_APPLICABLE: frozenset(),
    CfdiState.QUEUED: frozenset({CfdiState.STAMPING}),
    CfdiState.STAMPING: STAMP_OUTCOMES,  # a worker that died mid-call is rescued to Retrying, with a look-up first
    CfdiState.RETRYING: frozenset({CfdiState.STAMPING}),
    CfdiState.PENDING_AT_PAC: frozenset({CfdiState.STAMPING}),  # claimed to poll FacturaAPI, never to create
    CfdiState.AWAITING_GLOBAL: frozenset(),  # rows never hold it: the sale waits with no CFDI row of its own
    CfdiState.AWAITING_ORIGINAL: frozenset({CfdiState.QUEUED}),  # its sale's CFDI was stamped
    CfdiState.STAMPED: frozenset({CfdiState.CANCEL_REQUESTED,
                                  # cancelled outside the app (dashboard, SAT's portal), found by the daily check
                                  CfdiState.CANCEL_PENDING, CfdiState.CANCELLED}),
    CfdiState.FAILED: frozenset({CfdiState.QUEUED}),  # a person fixed the data: Retry CFDI or bulk
    # A CFDI Manager decides: the CFDI that stands is adopted (Stamped), or FacturaAPI is looked at again.
    CfdiState.NEEDS_REVIEW: frozenset({CfdiState.STAMPED, CfdiState.QUEUED}),
    CfdiState.CANCEL_REQUESTED: CANCEL_OUTCOMES,
    CfdiState.CANCEL_PENDING: CANCEL_OUTCOMES,  # FacturaAPI may hold no request any more: asked again
    CfdiState.CANCELLED: frozenset(),
    CfdiState.CANCEL_REJECTED: frozenset({CfdiState.CANCEL_REQUESTED, CfdiState.CANCEL_PENDING, CfdiState.CANCELLED}),
}


def can_move(current: CfdiState | str, target: CfdiState | str) -> bool:
    return CfdiState(target) in TRANSITIONS[CfdiState(current)]

"""The RQ entry points of the pipeline: one try of a step, then, once its record has committed, the
follow-ups it made due."""

from __future__ import annotations

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.cancellation import cancel_once
from mexico_localization.einvoice.pipeline.followups import run_due
from mexico_localization.einvoice.pipeline.stamping import stamp_once


def stamp(cfdi: str) -> CfdiState | None:
    """Stamping job (rows.STAMP_JOB); bulk re-generation calls it inline."""
    state = stamp_once(cfdi)
    if state is CfdiState.STAMPED:
        run_due(cfdi)
    return state


def cancel(cfdi: str) -> CfdiState | None:
    """Cancellation job (rows.CANCEL_JOB)."""
    state = cancel_once(cfdi)
    if state is CfdiState.CANCELLED:
        run_due(cfdi)
    return state

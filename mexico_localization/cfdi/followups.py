"""What a recorded outcome makes due once its record has committed: e-mailing the CFDI, queueing
the credit notes and complements that waited for it, cancelling what it replaces, re-issuing a
global's remaining tickets. Decided here from the row alone, written with the outcome, and run by
`einvoice/pipeline/followups.py` each in its own transaction, so a failing follow-up never undoes
the record of a stamp."""

from __future__ import annotations

from collections.abc import Iterable

EMAIL = "email"                                  # FacturaAPI e-mails the XML and PDF to the customer
RELEASE_RETURNS = "release returns"              # credit notes waiting for this CFDI are queued
TILL_COMPLEMENT = "till complement"              # a PPD sale's payment at the till gets its complement
LEAVE_GLOBAL = "leave global"                    # the ticket's global is cancelled with motive 04
CANCEL_REPLACED = "cancel replaced"              # the CFDI this one substitutes is cancelled with motive 01
CANCEL_FOR_CANCELLED_SALE = "cancel for cancelled sale"  # adopted for a sale cancelled in ERPNext: motive 03
REISSUE_GLOBAL = "reissue global"                # a global cancelled with 04: its other tickets in a new one
NOTIFY_OUTSIDE = "notify outside cancellation"   # CFDI Managers learn of a cancellation made elsewhere


def after_stamp(row, wants_email: bool) -> list[str]:
    """Follow-ups of a CFDI that has just been stamped (`row`: its CFDI row before the record)."""
    due = [EMAIL] if wants_email else []
    if row.cfdi_type == "I":
        due.append(RELEASE_RETURNS)
        if not row.is_global and row.reference_doctype == "POS Invoice":
            due.append(TILL_COMPLEMENT)
    if row.replaces_global:
        due.append(LEAVE_GLOBAL)
    if row.substitutes:
        due.append(CANCEL_REPLACED)
    return due


def after_cancel(row) -> list[str]:
    """Follow-ups of a CFDI whose cancellation SAT has just accepted."""
    return [REISSUE_GLOBAL] if row.is_global and row.reissue_remaining else []


def encode(names: Iterable[str]) -> str:
    return "\n".join(names)


def decode(text: str | None) -> list[str]:
    return [name for name in (text or "").split("\n") if name]

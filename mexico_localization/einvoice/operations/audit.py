"""The audit trail's tamper evidence: a daily job seals each finished day's CFDI events, chained to
the day before (cfdi/audit_chain.py), and "Verify audit trail" names the first day whose records
no longer match their seal.

A day's records are what cannot legitimately change once the day is over: the CFDI Attempts made
that day (every call, append-only), the CFDIs stamped that day (UUID, seals, total) and those
cancelled that day (motive, substitution). Sealing runs in the scheduler, never in a request.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import frappe
from frappe.utils import add_days, getdate, now_datetime

from mexico_localization.cfdi.audit_chain import GENESIS, Seal, seal, verify
from mexico_localization.einvoice.pipeline.records import file_content

ATTEMPT_FIELDS = ["parent", "idx", "attempted_at", "operation", "outcome", "http_status", "error_code",
                  "facturapi_log_id", "integration_request"]
STAMP_FIELDS = ["name", "reference_doctype", "reference_name", "cfdi_type", "is_global", "uuid", "facturapi_id",
                "livemode", "total", "sat_cert_number", "sat_signature", "stamped_at", "xml_sha256"]
CANCEL_FIELDS = ["name", "uuid", "cancellation_motive", "substitution_uuid", "cancelled_at"]
# Sealed under the day the app recorded them; rows from before those times existed, under their own.
STAMP_DAY = "coalesce(stamp_recorded_at, stamped_at)"
CANCEL_DAY = "coalesce(cancellation_recorded_at, cancelled_at)"


def day_records(day: date) -> list[dict[str, Any]]:
    start, end = f"{day} 00:00:00", f"{add_days(day, 1)} 00:00:00"
    rows: list[dict[str, Any]] = []
    for kind, table, fields, when in (("attempt", "CFDI Attempt", ATTEMPT_FIELDS, "attempted_at"),
                                      ("stamp", "CFDI", STAMP_FIELDS, STAMP_DAY),
                                      ("cancellation", "CFDI", CANCEL_FIELDS, CANCEL_DAY)):
        columns = ", ".join(f"`{f}`" for f in fields)
        for row in frappe.db.sql(f"select {columns} from `tab{table}` where {when} >= %s and {when} < %s",  # noqa: S608
                                 (start, end), as_dict=True):
            # A field added to the seal later is left out where it is empty, so older days still verify.
            rows.append({"kind": kind, **{k: v for k, v in row.items() if not (k == "xml_sha256" and not v)}})
    return rows


def seals() -> list[Seal]:
    return [Seal(getdate(s.day), s.digest, s.record_count, s.previous, s.chain)
            for s in frappe.get_all("CFDI Audit Seal", fields=["day", "digest", "record_count", "previous", "chain"],
                                    order_by="day asc")]


def seal_days(until: date | None = None) -> list[str]:
    """Scheduler (daily): seals every finished day not sealed yet, oldest first."""
    until = until or add_days(getdate(now_datetime()), -1)
    last = frappe.get_all("CFDI Audit Seal", fields=["day", "chain"], order_by="day desc", limit=1)
    first_event = frappe.db.sql("select min(attempted_at) from `tabCFDI Attempt`")[0][0]
    if not first_event:
        return []
    day = add_days(getdate(last[0].day), 1) if last else getdate(first_event)
    previous = last[0].chain if last else GENESIS
    made = []
    while day <= getdate(until):
        made.append(seal_day(day, previous))
        previous = frappe.db.get_value("CFDI Audit Seal", made[-1], "chain")
        day = add_days(day, 1)
    return made


def seal_day(day: date, previous: str) -> str:
    s = seal(day, day_records(day), previous)
    doc = frappe.get_doc({"doctype": "CFDI Audit Seal", "day": s.day, "digest": s.digest, "record_count": s.count,
                          "previous": s.previous, "chain": s.chain, "sealed_at": now_datetime()})
    doc.insert(ignore_permissions=True)
    frappe.db.commit()
    return doc.name


def verify_trail() -> dict[str, Any]:
    """The chain of seals, each sealed day's records, then each XML's bytes against the fingerprint its
    (sealed) CFDI row keeps."""
    sealed = seals()
    finding = verify(sealed, {s.day: day_records(s.day) for s in sealed})
    if finding is not None:
        return {"intact": False, "day": str(finding.day), "reason": finding.reason, "days": len(sealed)}
    altered = altered_xml()
    if altered:
        return {"intact": False, "reason": "file changed", "cfdi": altered.name, "file": altered.xml_file,
                "day": str(getdate(altered.day)) if altered.day else None, "days": len(sealed)}
    return {"intact": True, "days": len(sealed), "last": str(sealed[-1].day) if sealed else None,
            "last_seal": sealed[-1].chain if sealed else None}


def altered_xml() -> frappe._dict | None:
    """The first CFDI whose XML on disk is no longer the one it recorded (missing, or other bytes)."""
    for row in frappe.db.sql(f"""select name, xml_file, xml_sha256, {STAMP_DAY} as day from `tabCFDI`
            where ifnull(xml_sha256, '') != '' order by {STAMP_DAY}, name""", as_dict=True):  # noqa: S608
        content = file_content(row.name, row.xml_file)
        if content is None or hashlib.sha256(content).hexdigest() != row.xml_sha256:
            return row
    return None

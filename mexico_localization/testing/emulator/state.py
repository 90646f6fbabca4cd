"""The emulator's memory: invoices, idempotency keys, queued faults and call counts."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# Fault kinds a test can queue, and what each does (see README "Emulator").
FAULT_KINDS = frozenset({
    "latency",              # {"ms": 200}: answer normally, late
    "rate_limit",           # {"retry_after": 2}: 429 rate_limit_exceeded with Retry-After
    "server_error",         # {"status": 500, "code": "internal_error"}
    "reset",                # drop the connection (RST) before doing anything
    "sat_rejection",        # {"sat_code": "CFDI40145", "message": ...}: 400 invoice_stamping_validation_error
    "validation",           # {"path": "customer.tax_id", "message": ...}: 400 invalid_request
    "in_use",               # 400 idempotency_key_in_use
    "pending",              # create answers 202 pending; valid after config.pending_polls retrievals
    "timeout_after_stamp",  # {"delay": 2}: stamp, then hold the connection and drop it unanswered
    "reset_after_stamp",    # stamp, then drop the connection (RST) unanswered
    "malformed",            # {"set": {...}, "item": ...}: do the work, then spoil fields of the JSON answer
    "web_page",             # a download answered 200 with a proxy's HTML page
    "other_uuid",           # an XML download whose stamp names another UUID
})


@dataclass
class Fault:
    operation: str  # an operation name, or "*"
    kind: str
    times: int = 1
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, str] = field(default_factory=dict)
    keys_in_flight: set[str] = field(default_factory=set)
    pending_polls: dict[str, int] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)
    emails: list[dict[str, Any]] = field(default_factory=list)
    create_requests: list[dict[str, Any]] = field(default_factory=list)  # every create as it arrived
    # Cancelled at SAT's portal, not through FacturaAPI: FacturaAPI learns it only when asked to refresh.
    cancelled_at_sat: dict[str, str] = field(default_factory=dict)  # invoice id -> motive
    next_folio: int = 1
    sat_records: dict[str, dict[str, Any]] = field(default_factory=dict)  # RFC -> what SAT has on file
    customers: dict[tuple, dict[str, Any]] = field(default_factory=dict)

    def take_fault(self, operation: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.operation in (operation, "*"):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {sorted(FAULT_KINDS)}")
        with self.lock:
            self.faults.append(fault)

    def find(self, key: str) -> dict[str, Any] | None:
        """An invoice by FacturaAPI id or by UUID, as cancellation's `substitution` allows."""
        invoice = self.invoices.get(key)
        if invoice is None:
            invoice = next((i for i in self.invoices.values() if (i.get("uuid") or "").lower() == key.lower()),
                           None)
        return invoice

    def summary(self) -> dict[str, Any]:
        with self.lock:
            stamped = [i for i in self.invoices.values() if i.get("uuid")]
            per_external_id = Counter(i.get("external_id") for i in stamped)
            return {
                "invoices": [
                    {k: i.get(k) for k in ("id", "type", "status", "cancellation_status", "uuid", "external_id",
                                           "idempotency_key", "total", "series", "folio_number", "organization")}
                    for i in self.invoices.values()
                ],
                "stamps": len(stamped),
                "stamps_per_external_id": {k: v for k, v in per_external_id.items() if k},
                "calls": dict(self.calls),
                "emails": list(self.emails),
                "create_requests": list(self.create_requests),
                "faults_left": [f.__dict__ for f in self.faults],
            }

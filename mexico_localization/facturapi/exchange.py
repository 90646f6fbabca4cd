"""What one HTTP exchange with FacturaAPI looked like, for the audit record.

Built by the client after every call, success or failure, and handed to the caller's hook. It
holds masked headers only: the Authorization value never reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mexico_localization.facturapi.secret import MASK

_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if k.lower() in _SENSITIVE_HEADERS else str(v)) for k, v in headers.items()}


@dataclass
class Exchange:
    operation: str                       # ping, create_invoice, cancel_invoice, ...
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any = None             # the JSON we sent, or None
    status: int | None = None            # None when no answer came back
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None            # parsed JSON, or a short description of binary content
    duration_ms: float = 0.0
    error: str | None = None             # the client's one-line summary of the failure
    error_kind: str | None = None        # FacturapiError subclass name
    log_id: str | None = None            # X-Facturapi-Log-Id, for FacturaAPI support

    @property
    def ok(self) -> bool:
        return self.error is None

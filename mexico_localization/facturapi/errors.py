"""FacturaAPI failures, typed by what the caller must do about them.

FacturaAPI's stable root `code` (never its Spanish `message`) and the HTTP status pick the class.
Two properties drive every decision upstream:
- `retryable`: the same request may succeed later without anyone changing data;
- `outcome_unknown`: the request may have been carried out (a create may have stamped), so before
  creating again the caller must look the document up by `external_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    message: str
    source: str = "facturapi"  # facturapi | sat | pac
    path: str | None = None


class FacturapiError(Exception):
    """Base of everything the client raises."""

    retryable = False
    outcome_unknown = False

    def __init__(self, message: str, *, code: str = "", status: int | None = None,
                 details: tuple[ErrorDetail, ...] = (), log_id: str | None = None,
                 retry_after: float | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path  # the one field at fault, when FacturaAPI names it at the top of its answer
        self.code = code
        self.status = status
        self.details = details
        self.log_id = log_id
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        """A short stable name for records and reports."""
        return type(self).__name__

    def summary(self) -> str:
        """One line for a record: code, status, message and every detail."""
        head = f"[{self.code or self.kind}{f' {self.status}' if self.status else ''}] {self.message}"
        extra = "; ".join(
            f"{d.source}:{d.code}{f' ({d.path})' if d.path else ''}: {d.message}" for d in self.details
        )
        return f"{head} — {extra}" if extra else head


# --- answers from FacturaAPI ---------------------------------------------------------------------

class ApiError(FacturapiError):
    """FacturaAPI answered with its error envelope."""


class ValidationError(ApiError):
    """The request does not fit FacturaAPI's contract (`invalid_request` and the like)."""


class StampingRejected(ApiError):
    """SAT or the PAC refused to stamp; `sat_code` is the code a finance user can look up."""

    @property
    def sat_code(self) -> str | None:
        for detail in self.details:
            if detail.source in ("sat", "pac"):
                return detail.code
        return None


class AuthenticationError(ApiError):
    """The key is missing, wrong or revoked (401)."""


class PermissionDenied(ApiError):
    """The key is valid but may not do this (403, live key or subscription required, 402)."""


class NotFoundError(ApiError):
    """404: the document does not exist in this organization and environment."""


class ConflictError(ApiError):
    """The document's state forbids the operation (409, already stamped, not cancelable...)."""


class RateLimited(ApiError):
    """429; `retry_after` holds FacturaAPI's advice in seconds."""

    retryable = True


class ServiceUnavailable(ApiError):
    """5xx or a stamping/cancellation service outage: heals by itself; the outcome is unknown."""

    retryable = True
    outcome_unknown = True


class InProgress(ApiError):
    """Another request with the same idempotency key or on the same document is still running."""

    retryable = True
    outcome_unknown = True


class InvalidResponse(FacturapiError):
    """A 2xx whose body is not what FacturaAPI sends (a proxy page, truncated JSON)."""

    retryable = True
    outcome_unknown = True


# --- no answer -----------------------------------------------------------------------------------

class TransportError(FacturapiError):
    """No usable HTTP answer."""

    retryable = True


class ConnectError(TransportError):
    """Never reached FacturaAPI (DNS, refused, TLS, connect timeout): nothing was carried out."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code=reason)
        self.reason = reason  # dns | refused | unreachable | tls | connect_timeout | invalid_url


class OutcomeUnknown(TransportError):
    """The request was sent but no answer came back (read timeout, reset after sending)."""

    outcome_unknown = True

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code=reason)
        self.reason = reason  # read_timeout | reset | connection | client_error


# --- mapping the envelope ------------------------------------------------------------------------

_CONFLICT_CODES = frozenset({
    "conflict", "invoice_already_stamped", "invoice_not_draft", "invoice_not_stamped",
    "invoice_not_cancelable", "invoice_not_cancelable_by_sat", "invoice_cancellation_in_progress",
    "invoice_cancellation_not_allowed", "substitution_invoice_canceled",
    "substitution_invoice_status_not_allowed", "receipt_not_open", "receipt_expired",
})
_IN_PROGRESS_CODES = frozenset({"idempotency_key_in_use", "stamping_in_progress", "draft_update_in_progress"})
_UNAVAILABLE_CODES = frozenset({
    "internal_error", "invoice_stamping_service_unavailable", "invoice_cancellation_service_unavailable",
})
_AUTH_CODES = frozenset({"unauthorized", "api_key_invalid", "missing_credentials", "user_key_invalid"})
_PERMISSION_CODES = frozenset({
    "forbidden", "api_key_not_allowed", "live_api_key_required", "subscription_required",
    "subscription_live_access_required", "organization_incomplete", "feature_not_available",
})
_STAMPING_CODES = frozenset({"invoice_stamping_validation_error", "invoice_stamping_failed"})


@dataclass(frozen=True)
class Envelope:
    """FacturaAPI's error body, as far as it could be read."""

    status: int
    code: str = ""
    message: str = ""
    details: tuple[ErrorDetail, ...] = field(default_factory=tuple)
    path: str | None = None


def parse_envelope(status: int, body: object) -> Envelope:
    if not isinstance(body, dict):
        return Envelope(status=status)
    errors = body.get("errors")
    details = tuple(
        ErrorDetail(
            code=str(item.get("code", "")),
            message=str(item.get("message", "")),
            source=str(item.get("source", "facturapi")),
            path=str(item["path"]) if item.get("path") is not None else None,
        )
        for item in (errors if isinstance(errors, list) else ())  # any other shape: the body stays on record
        if isinstance(item, dict)
    )
    return Envelope(status=status, code=str(body.get("code") or ""), message=str(body.get("message") or ""),
                    details=details, path=str(body["path"]) if body.get("path") is not None else None)


def error_class(envelope: Envelope) -> type[ApiError]:
    """The class for an error answer: the stable code first, the HTTP status as fallback."""
    code, status = envelope.code, envelope.status
    by_code: list[tuple[frozenset[str], type[ApiError]]] = [
        (_STAMPING_CODES, StampingRejected),
        (_IN_PROGRESS_CODES, InProgress),
        (_UNAVAILABLE_CODES, ServiceUnavailable),
        (_AUTH_CODES, AuthenticationError),
        (_PERMISSION_CODES, PermissionDenied),
        (_CONFLICT_CODES, ConflictError),
        (frozenset({"rate_limit_exceeded"}), RateLimited),
    ]
    for codes, cls in by_code:
        if code in codes:
            return cls
    if code.endswith("_not_found"):
        return NotFoundError
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServiceUnavailable
    return {400: ValidationError, 401: AuthenticationError, 402: PermissionDenied, 403: PermissionDenied,
            404: NotFoundError, 409: ConflictError}.get(status, ValidationError)

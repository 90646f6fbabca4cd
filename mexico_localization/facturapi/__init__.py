"""FacturaAPI v2: the one HTTP client every call goes through, its typed errors and the Secret.

Pure: nothing here imports frappe, so it is tested under plain pytest against a real HTTP server.
"""

from mexico_localization.facturapi.client import Client, CreateResult, PingResult
from mexico_localization.facturapi.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    ConnectError,
    FacturapiError,
    InvalidResponse,
    NotFoundError,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    StampingRejected,
    TransportError,
    ValidationError,
)
from mexico_localization.facturapi.exchange import Exchange
from mexico_localization.facturapi.secret import Secret

__all__ = [
    "ApiError",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "ConnectError",
    "CreateResult",
    "Exchange",
    "FacturapiError",
    "InvalidResponse",
    "NotFoundError",
    "OutcomeUnknown",
    "PermissionDenied",
    "PingResult",
    "RateLimited",
    "Secret",
    "ServiceUnavailable",
    "StampingRejected",
    "TransportError",
    "ValidationError",
]

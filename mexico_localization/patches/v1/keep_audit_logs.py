"""Sites installed before Retention: Log Settings keeps FacturaAPI's Integration Requests and Error
Logs long enough for a year's audit (einvoice/setup.AUDIT_LOG_DAYS)."""

from mexico_localization.einvoice.setup import keep_audit_logs


def execute() -> None:
    keep_audit_logs()

"""Sites installed before Retention: Log Settings keeps FacturaAPI's Integration Requests and Error
Logs long enough for a year's audit (einvoice/setup/install.AUDIT_LOG_DAYS)."""

from mexico_localization.einvoice.setup.install import keep_audit_logs


def execute() -> None:
    keep_audit_logs()

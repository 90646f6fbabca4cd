"""Background jobs used only by the bench tier's tests."""

from mexico_localization.einvoice.settings import make_client


def ping_and_raise() -> None:
    """Lets the client's error escape, so RQ and Frappe record a failed job."""
    with make_client() as client:
        client.ping()

"""Background jobs used only by the bench tier's tests."""

from mexico_localization.einvoice.settings import issuing_companies, make_client
from mexico_localization.facturapi import FacturapiError


def ping_and_raise() -> None:
    """Pings with each company's key, then lets the last client error escape, so RQ and Frappe record
    a failed job that went through every key."""
    failures: list[FacturapiError] = []
    for company in issuing_companies():
        try:
            with make_client(company) as client:
                client.ping()
        except FacturapiError as error:
            failures.append(error)
    if failures:
        raise failures[-1]

"""E Invoice Setting, read for use: each company's FacturaAPI organization (its row, key and client)
and the retry policy the settings configure."""

from __future__ import annotations

from collections.abc import Callable

import frappe
from frappe import _
from rq.timeouts import JobTimeoutException

from mexico_localization.cfdi.policy import RetryPolicy
from mexico_localization.facturapi import Client, Exchange, Secret

DOCTYPE = "E Invoice Setting"
COMPANY_DOCTYPE = "E Invoice Company"
# What a ping learns of a company's organization: forgotten when its key changes or a ping fails.
ORGANIZATION_FIELDS = ("key_environment", "served_by_emulator", "organization_legal_name", "organization_tax_id",
                       "organization_tax_system", "certificate_expires_at", "is_production_ready", "pending_steps")
MAX_READ_TIMEOUT = 240.0  # a short-queue job dies at 300 s; leave room to record the outcome


def get_settings():
    return frappe.get_cached_doc(DOCTYPE)


def company_row(company: str | None, settings=None):
    """The company's row (its organization), or None: a company without one issues no CFDI."""
    if not company:
        return None
    settings = settings or get_settings()
    return next((row for row in settings.get("companies") or [] if row.company == company), None)


def issuing_companies(settings=None) -> list[str]:
    return [row.company for row in (settings or get_settings()).get("companies") or [] if row.company]


def default_company(settings=None) -> str | None:
    """The company a report opens on: the user's default when it issues CFDIs, else the first that does."""
    companies = issuing_companies(settings)
    default = frappe.defaults.get_user_default("Company")
    return default if default in companies else next(iter(companies), None)


def issues_for(company: str | None, settings=None) -> bool:
    """Whether a document of `company` gets a CFDI: E Invoice is on and the company has its row."""
    settings = settings or get_settings()
    return bool(settings.enable_e_invoice and company_row(company, settings))


def not_issuing_reason(company: str | None, settings=None) -> str:
    """Why a document of `company` gets no CFDI ("" when it does)."""
    settings = settings or get_settings()
    if not settings.enable_e_invoice:
        return _("E Invoice was disabled when this document was submitted.")
    if not company_row(company, settings):
        return _("{0} has no row in E Invoice Setting's Companies: no CFDI is issued for it.").format(company)
    return ""


def secret(row) -> Secret:
    """A company row's key, wrapped at once: a bare str in a local would show in Frappe's tracebacks."""
    if row is None:
        return Secret("")
    return Secret(row.get_password("secret_key", raise_exception=False) or "")


def company_secret(company: str | None, settings=None) -> Secret:
    return secret(company_row(company, settings))


def make_client(company: str | None, settings=None, on_exchange: Callable[[Exchange], None] | None = None,
                timeout: tuple[float, float] | None = None) -> Client:
    """A client speaking with `company`'s organization, by its key. `timeout` (connect, read): shorter
    than the settings' where a person waits for the answer."""
    settings = settings or get_settings()
    timeout = timeout or (float(settings.connect_timeout or 10),
                          min(float(settings.read_timeout or 60), MAX_READ_TIMEOUT))
    # A job that reaches its queue's timeout must end, not carry on as if FacturaAPI had failed.
    return Client(settings.server_url, company_secret(company, settings), timeout=timeout, on_exchange=on_exchange,
                  propagate=(JobTimeoutException,))


def retry_policy(settings=None) -> RetryPolicy:
    """The backoff and attempt cap every stamping and cancellation try is decided with."""
    return RetryPolicy(max_attempts=int((settings or get_settings()).max_attempts or 8))

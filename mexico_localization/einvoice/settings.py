"""E Invoice Setting, read for use: the client and the retry policy it configures."""

from __future__ import annotations

from collections.abc import Callable

import frappe
from rq.timeouts import JobTimeoutException

from mexico_localization.cfdi.policy import RetryPolicy
from mexico_localization.facturapi import Client, Exchange, Secret

DOCTYPE = "E Invoice Setting"
MAX_READ_TIMEOUT = 240.0  # a short-queue job dies at 300 s; leave room to record the outcome


def get_settings():
    return frappe.get_cached_doc(DOCTYPE)


def secret(settings=None) -> Secret:
    """The key, wrapped at once: a bare str in a local would show in Frappe's tracebacks."""
    settings = settings or get_settings()
    return Secret(settings.get_password("secret_key", raise_exception=False) or "")


def make_client(settings=None, on_exchange: Callable[[Exchange], None] | None = None,
                timeout: tuple[float, float] | None = None) -> Client:
    """`timeout` (connect, read): shorter than the settings' where a person waits for the answer."""
    settings = settings or get_settings()
    timeout = timeout or (float(settings.connect_timeout or 10),
                          min(float(settings.read_timeout or 60), MAX_READ_TIMEOUT))
    # A job that reaches its queue's timeout must end, not carry on as if FacturaAPI had failed.
    return Client(settings.server_url, secret(settings), timeout=timeout, on_exchange=on_exchange,
                  propagate=(JobTimeoutException,))


def retry_policy(settings=None) -> RetryPolicy:
    """The backoff and attempt cap every stamping and cancellation try is decided with."""
    return RetryPolicy(max_attempts=int((settings or get_settings()).max_attempts or 8))

"""Ping Server: proves URL and key against FacturaAPI, records the call, and says in plain words
what was found or exactly what is wrong."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from mexico_localization.einvoice.pipeline import records
from mexico_localization.einvoice.settings import (
    COMPANY_DOCTYPE,
    DOCTYPE,
    ORGANIZATION_FIELDS,
    get_settings,
    make_client,
    secret,
)
from mexico_localization.einvoice.timeutil import to_site_time
from mexico_localization.facturapi import (
    AuthenticationError,
    ConnectError,
    FacturapiError,
    InvalidResponse,
    NotFoundError,
    OutcomeUnknown,
    PermissionDenied,
    PingResult,
    RateLimited,
    ServiceUnavailable,
)

CONNECTED, FAILED = "Connected", "Failed"
UNCONFIRMED = {**dict.fromkeys(ORGANIZATION_FIELDS), "served_by_emulator": 0, "is_production_ready": 0}


def run_ping(company: str | None = None) -> dict[str, Any]:
    """Pings `company`'s organization, or every company's: one answer per company (each recorded, and
    written to its row's Last Ping block), `ok` only when every one connected."""
    settings = get_settings()
    rows = [row for row in settings.get("companies") or [] if not company or row.company == company]
    if not rows:
        return _answer(False, _("Add the company and its Secret Key from FacturaAPI's dashboard to the Companies "
                                "table, save, then ping."))
    answers = [dict(ping_company(settings, row), company=row.company) for row in rows]
    if len(answers) == 1:
        return answers[0] | {"companies": answers}
    return {"ok": all(a["ok"] for a in answers), "companies": answers,
            "message": "\n".join(f"{a['company']}: {a['message']}" for a in answers),
            "warnings": [f"{a['company']}: {w}" for a in answers for w in a["warnings"]]}


def ping_company(settings, row) -> dict[str, Any]:
    """One organization's ping, with the company row's key."""
    if not secret(row):
        return _store(row, _answer(False, _("Enter the Secret Key of {0} from FacturaAPI's dashboard and save, then "
                                            "ping.").format(row.company)))
    log = records.ExchangeLog(DOCTYPE, DOCTYPE)
    try:
        client = make_client(row.company, settings, on_exchange=log)
    except ValueError as exc:
        return _store(row, _answer(False, _("The FacturaAPI Server URL cannot be used: {0}").format(str(exc))))
    try:
        with client:
            result = client.ping()
    except FacturapiError as error:
        log.write()
        records.error_log(_("FacturaAPI ping failed for {0}").format(row.company), error, DOCTYPE, DOCTYPE)
        return _store(row, _answer(False, explain(error, settings)))
    log.write()
    return _store(row, _connected(result, settings, row.company))


def _answer(ok: bool, message: str, warnings: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    return {"ok": ok, "message": message, "warnings": warnings or [], "fields": fields}


def _connected(result: PingResult, settings, company: str) -> dict[str, Any]:
    org = result.organization or {}
    legal, certificate = _object(org.get("legal")), _object(org.get("certificate"))
    environment = _environment_label(result.key_environment)
    name, rfc = _text(legal.get("legal_name") or legal.get("name")), _text(legal.get("tax_id")).upper()
    if org:
        message = _("Connected to FacturaAPI at {0} as {1} (RFC {2}), {3} environment.").format(
            _host(settings.server_url), name or _("(no legal name)"), rfc or _("unknown"), environment)
    else:
        message = _("Connected to FacturaAPI at {0}, {1} environment. This key may not read the organization, "
                    "so its RFC and certificate were not checked.").format(_host(settings.server_url), environment)
    fields = {
        "key_environment": result.key_environment,
        "served_by_emulator": 1 if result.emulator else 0,
        "organization_legal_name": name,
        "organization_tax_id": rfc,
        "organization_tax_system": _text(legal.get("tax_system"))[:3],
        "certificate_expires_at": _expiry(certificate),
        "is_production_ready": 1 if org.get("is_production_ready") is True else 0,
        "pending_steps": "\n".join(_steps(org)),
    }
    return _answer(True, message, ping_warnings(result, settings, company), **fields)


def ping_warnings(result: PingResult, settings, company: str) -> list[str]:
    """What a successful ping found that still blocks or endangers stamping."""
    org = result.organization or {}
    warnings = []
    if result.emulator:
        warnings.append(_("This server is the offline FacturaAPI emulator: nothing it stamps has fiscal validity."))
    if result.key_environment == "Test":
        warnings.append(_("This is a Test key: CFDIs are stamped in FacturaAPI's Test environment and have no "
                          "fiscal validity (PRUEBA – sin validez fiscal)."))
    if (result.emulator or result.key_environment == "Test") and settings.production_site:
        warnings.append(_("This site is marked Production Site, but this connection stamps nothing with fiscal "
                          "value: use the Live key and FacturaAPI's server."))
    if result.key_environment == "User":
        warnings.append(_("This is a user key (sk_user_): stamping needs an organization key, sk_test_ or sk_live_."))
    if org and org.get("is_production_ready") is not True:
        steps = ", ".join(_steps(org))
        warnings.append(_("The organization is not ready to stamp live CFDIs. Pending in FacturaAPI: {0}").format(
            steps or _("see FacturaAPI's dashboard")))
    rfc = _text(_object(org.get("legal")).get("tax_id")).upper()
    company_rfc = _company_rfc(company)
    if org and rfc != company_rfc:
        warnings.append(_("The organization's RFC ({0}) is not the Tax ID of {1} ({2}): CFDIs would be issued by "
                          "another taxpayer. Check the key or the company.").format(
            rfc or _("none"), company, company_rfc or _("empty")))
    expires = _expiry(_object(org.get("certificate")))
    if expires and get_datetime(expires) < now_datetime():
        warnings.append(_("The CSD certificate loaded in FacturaAPI expired on {0}: upload a current one.").format(
            expires))
    elif expires and (get_datetime(expires) - now_datetime()).days < 30:
        warnings.append(_("The CSD certificate loaded in FacturaAPI expires on {0}.").format(expires))
    return warnings


def explain(error: FacturapiError, settings) -> str:
    """What went wrong, in words an IT administrator can act on."""
    host, timeout = _host(settings.server_url), settings.read_timeout or 60
    if isinstance(error, ConnectError):
        return {
            "dns": _("The host name {0} does not resolve. Check the FacturaAPI Server URL and this server's DNS."),
            "refused": _("Nothing answers at {0}. Check the URL and port, and that the server or emulator is running."),
            "unreachable": _("{0} cannot be reached from this server. Check the network route or firewall."),
            "tls": _("The secure (https) connection to {0} failed. Check the URL, the server's certificate and "
                     "this machine's CA certificates."),
            "connect_timeout": _("No connection to {0} within the connect timeout. A firewall or proxy may block "
                                 "outgoing https."),
        }.get(error.reason, _("Could not connect to {0}.")).format(host) + _detail(error)
    if isinstance(error, OutcomeUnknown):
        if error.reason == "read_timeout":
            return _("{0} accepted the connection but did not answer within {1} seconds.").format(host, timeout)
        return _("The connection to {0} broke before an answer came back.").format(host) + _detail(error)
    if isinstance(error, AuthenticationError):
        return _("FacturaAPI rejected the Secret Key (HTTP {0}, {1}). Copy the key again from FacturaAPI's "
                 "dashboard (Developers → API keys), save, and ping again.").format(error.status, error.code)
    if isinstance(error, PermissionDenied):
        return _("The key is valid but may not do this (HTTP {0}, {1}): {2}").format(
            error.status, error.code, error.message)
    if isinstance(error, NotFoundError):
        return _("{0} answered 404: the URL does not point at FacturaAPI's v2 API. Use e.g. "
                 "https://www.facturapi.io/v2").format(host)
    if isinstance(error, InvalidResponse):
        return _("The server at {0} answered, but not like FacturaAPI (no JSON). Check the URL.").format(host)
    if isinstance(error, RateLimited):
        return _("FacturaAPI says there were too many requests; try again in {0} seconds.").format(
            int(error.retry_after or 60))
    if isinstance(error, ServiceUnavailable):
        return _("FacturaAPI is unavailable right now (HTTP {0}); try again in a few minutes.").format(error.status)
    return _("FacturaAPI answered with an error: {0}").format(error.summary())


def _store(row, answer: dict[str, Any]) -> dict[str, Any]:
    """Writes the result to the company row's Last Ping block without touching the settings' modified
    time."""
    values = {
        "last_ping_status": CONNECTED if answer["ok"] else FAILED,  # a code, translated where shown
        "last_ping_at": now_datetime(),
        "last_ping_message": "\n".join([answer["message"], *answer["warnings"]]),
    }
    # A failed ping confirms nothing of the organization: what an earlier one found is not shown beside it.
    values.update(answer["fields"] if answer["ok"] else UNCONFIRMED)
    frappe.db.set_value(COMPANY_DOCTYPE, row.name, values, update_modified=False)
    frappe.clear_document_cache(DOCTYPE, DOCTYPE)
    return answer


def _environment_label(environment: str) -> str:
    return {"Test": _("Test"), "Live": _("Live"), "User": _("User key")}.get(environment, _("Unknown"))


def _company_rfc(company: str | None) -> str:
    return ((frappe.db.get_value("Company", company, "tax_id") if company else "") or "").strip().upper()


def _host(url: str) -> str:
    parts = urlsplit(url or "")
    return parts.netloc or url


def _detail(error: FacturapiError) -> str:
    return " " + _("Technical detail: {0}").format(error.message)


# FacturaAPI's organization is read from the network: what is shown or stored of it is plain, escaped
# text, and a malformed part is left out rather than breaking the ping.

def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return frappe.utils.escape_html(str(value)) if isinstance(value, (str, int, float)) else ""


def _steps(org: dict[str, Any]) -> list[str]:
    steps = org.get("pending_steps")
    return [_text(_object(step).get("description") or _object(step).get("type"))
            for step in (steps if isinstance(steps, list) else [])]


def _expiry(certificate: dict[str, Any]):
    try:
        return to_site_time(certificate.get("expires_at") if isinstance(certificate.get("expires_at"), str) else None)
    except Exception:
        return None

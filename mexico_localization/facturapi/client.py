"""The FacturaAPI v2 client: one request choke point, explicit timeouts, typed errors, audit hook.

Every operation goes through `Client._send`, which adds Bearer auth at the last moment, times the
call, turns every failure into a `FacturapiError`, and hands an `Exchange` (never the key) to
`on_exchange`. Errors are raised outside the `except` block so no `requests`/`urllib3` frame, whose
locals hold the Authorization header, is chained to what the caller logs.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from mexico_localization import __version__
from mexico_localization.facturapi.errors import (
    ConnectError,
    FacturapiError,
    InvalidResponse,
    NotFoundError,
    OutcomeUnknown,
    PermissionDenied,
    error_class,
    parse_envelope,
)
from mexico_localization.facturapi.exchange import Exchange, mask_headers
from mexico_localization.facturapi.secret import MASK, Secret
from mexico_localization.facturapi.shapes import file_problem, invoice_problem

DEFAULT_BASE_URL = "https://www.facturapi.io/v2"
FACTURAPI_DOMAIN = "facturapi.io"
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # a CFDI's XML or PDF is kilobytes; anything near this is not one
MAX_RETRY_AFTER = 86400.0
DEFAULT_TIMEOUT = (10.0, 60.0)  # connect, read: stamping waits for SAT, so reads get a minute
CANCEL_MOTIVES = ("01", "02", "03", "04")
MAX_SEARCH_PAGES = 30  # FacturaAPI refuses page > 30
# The spec's CancellationStatus has no "verifying": accepted is done, pending waits for the receiver.
CANCELLATION_UNDER_WAY = ("accepted", "pending")
EMULATOR_HEADER = "X-Facturapi-Emulator"  # our emulator's self-description; FacturaAPI never sends it

log = logging.getLogger(__name__)
ExchangeHook = Callable[[Exchange], None]


def base_url_problems(url: str) -> list[str]:
    """Why a Server URL cannot be used, in plain words; empty when it can. The key is sent to this
    host, so only FacturaAPI's own hosts and this machine (the emulator) are accepted."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        return ["The FacturaAPI Server URL is not a valid address, e.g. " + DEFAULT_BASE_URL]
    if parts.scheme not in ("http", "https") or not host:
        return ["The FacturaAPI Server URL must be a full http(s) address, e.g. " + DEFAULT_BASE_URL]
    problems = []
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        problems.append("The FacturaAPI Server URL must not carry a user name or password.")
    if not (is_facturapi_host(host) or _is_loopback(host)):
        problems.append("The FacturaAPI Server URL must be FacturaAPI's (https://www.facturapi.io/v2) or an emulator "
                        "on this machine (http://127.0.0.1:PORT/v2): the Secret Key is sent to it.")
    if parts.scheme == "http" and not _is_loopback(host):
        problems.append("Plain http is only allowed for an emulator on this machine; use https.")
    if parts.query or parts.fragment:
        problems.append("The FacturaAPI Server URL must not carry a query or fragment.")
    return problems


def is_facturapi_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == FACTURAPI_DOMAIN or host.endswith("." + FACTURAPI_DOMAIN)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerAuth(requests.auth.AuthBase):
    """Puts the key on the request as it leaves; the only place the key is unwrapped."""

    def __init__(self, secret: Secret) -> None:
        self._secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self._secret.reveal()
        return request

    def redacted(self, error: FacturapiError) -> FacturapiError:
        """The error with the key masked in its message and arguments."""
        error.message = self._secret.redact(error.message)
        error.args = tuple(self._secret.redact(a) if isinstance(a, str) else a for a in error.args)
        return error

    def __repr__(self) -> str:
        return f"BearerAuth({MASK})"


@dataclass(frozen=True)
class CreateResult:
    invoice: dict[str, Any]
    accepted: bool  # 202: FacturaAPI keeps it pending and recovers it; never create it again


@dataclass(frozen=True)
class PingResult:
    organization: dict[str, Any] | None  # None when only /check could be used
    checked_via: str                     # "organizations/me" | "check"
    key_environment: str                 # Test | Live | User | Unknown, from the key's prefix
    duration_ms: float
    emulator: str | None = None          # the emulator's self-description, when it answered


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Client:
    def __init__(self, base_url: str, secret: Secret, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 on_exchange: ExchangeHook | None = None, session: requests.Session | None = None,
                 propagate: tuple[type[BaseException], ...] = ()) -> None:
        """`propagate`: exceptions that must end the caller (a job runner's timeout), reported with
        the exchange and re-raised instead of being taken as FacturaAPI's failure."""
        problems = base_url_problems(base_url)
        if problems:
            raise ValueError(" ".join(problems))
        if not isinstance(secret, Secret):
            raise TypeError("Client takes a Secret, never a plain string")
        self.base_url = base_url.strip().rstrip("/")
        self.timeout = timeout
        self.on_exchange = on_exchange
        self._auth = BearerAuth(secret)
        self._environment = secret.environment
        self._session = session or requests.Session()
        self._session.trust_env = False  # no proxy or .netrc credentials picked up behind our back
        self._propagate = propagate

    def __repr__(self) -> str:
        return f"Client({self.base_url!r}, {MASK})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- operations --------------------------------------------------------------------------

    def ping(self) -> PingResult:
        """Proves URL and key without side effects; reads the organization when the key may."""
        started = time.monotonic()
        try:
            answer = self._send("ping", "GET", "/organizations/me")
            org, via = answer.body, "organizations/me"
        except (PermissionDenied, NotFoundError):
            answer = self._send("ping", "GET", "/check")
            org, via = None, "check"
        if org is not None and not isinstance(org, dict):
            raise InvalidResponse("FacturaAPI answered /organizations/me without an organization object")
        return PingResult(org, via, self._environment, (time.monotonic() - started) * 1000,
                          emulator=answer.headers.get(EMULATOR_HEADER))

    def create_invoice(self, body: dict[str, Any], *, idempotency_key: str, external_id: str,
                       expedition_zip: str | None = None, async_: bool = False) -> CreateResult:
        """Creates (and stamps) a CFDI. `expedition_zip` is the place of issue (the POS Profile's zip),
        sent as `address.zip`; without it FacturaAPI uses the organization's address."""
        if not idempotency_key or not external_id:
            raise ValueError("every create carries an idempotency_key and an external_id")
        payload = {**body, "idempotency_key": idempotency_key, "external_id": external_id}
        if expedition_zip:
            payload["address"] = {**(body.get("address") or {}), "zip": expedition_zip}
        params = {"async": "true"} if async_ else None
        answer = self._send("create_invoice", "POST", "/invoices", json=payload, params=params, check=_not_invoice)
        return CreateResult(answer.body, accepted=answer.status == 202)

    def retrieve_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._send("retrieve_invoice", "GET", f"/invoices/{_seg(invoice_id)}", check=_not_invoice).body

    def refresh_invoice_status(self, invoice_id: str) -> dict[str, Any]:
        """Asks FacturaAPI to re-query SAT for the invoice's status."""
        return self._send("refresh_status", "PUT", f"/invoices/{_seg(invoice_id)}/status", check=_not_invoice).body

    def search_invoices(self, filters: Mapping[str, str | list[str]] | None = None,
                        **named: str) -> Iterator[dict[str, Any]]:
        """Every invoice matching FacturaAPI's list filters, page by page (30 pages at most).

        `filters` takes what keywords cannot: deepObject names (`date[gte]`) and arrays
        (`cancellation_status`, sent as repeated parameters, the spec's form style)."""
        page = 1
        while page <= MAX_SEARCH_PAGES:
            params = {**(filters or {}), **named, "page": page, "limit": 100}
            body = self._send("search_invoices", "GET", "/invoices", params=params, check=_not_a_list).body
            yield from body["data"]
            if page >= max(body.get("total_pages", 1), 1):
                return
            page += 1

    def find_by_external_id(self, external_id: str) -> list[dict[str, Any]]:
        return list(self.search_invoices(external_id=external_id))

    def cancellations_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        """Invoices issued since `since` whose cancellation FacturaAPI has accepted or is processing:
        one listing finds what was cancelled from its dashboard, another integration or its API."""
        return self.search_invoices({"cancellation_status": list(CANCELLATION_UNDER_WAY),
                                     "date[gte]": _utc_iso(since)})

    def cancel_invoice(self, invoice_id: str, motive: str, substitution: str | None = None) -> dict[str, Any]:
        if motive not in CANCEL_MOTIVES:
            raise ValueError(f"SAT cancellation motive must be one of {', '.join(CANCEL_MOTIVES)}")
        if (motive == "01") != bool(substitution):
            raise ValueError("motive 01 needs the substituting CFDI, and only motive 01 takes one")
        params = {"motive": motive, **({"substitution": substitution} if substitution else {})}
        return self._send("cancel_invoice", "DELETE", f"/invoices/{_seg(invoice_id)}", params=params,
                          check=_not_invoice).body

    def download_invoice(self, invoice_id: str, fmt: str, uuid: str | None = None) -> bytes:
        """The CFDI's file. Checked before anyone keeps it: an XML must parse as a CFDI whose stamp
        carries `uuid` (when given), a PDF must be a PDF; anything else (a proxy's page) is refused."""
        if fmt not in ("xml", "pdf", "zip"):
            raise ValueError("format is xml, pdf or zip")
        path = f"/invoices/{_seg(invoice_id)}/{fmt}"
        return self._send(f"download_{fmt}", "GET", path, binary=True, check=_not_the_file(fmt, uuid)).body

    def download_cancellation_receipt(self, invoice_id: str, fmt: str) -> bytes:
        if fmt not in ("xml", "pdf"):
            raise ValueError("format is xml or pdf")
        path = f"/invoices/{_seg(invoice_id)}/cancellation_receipt/{fmt}"
        return self._send(f"download_cancellation_receipt_{fmt}", "GET", path, binary=True,
                          check=_not_the_file(fmt, None, "acuse")).body

    def email_invoice(self, invoice_id: str, emails: str | list[str] | None = None) -> bool:
        body = {"email": emails} if emails else None
        answer = self._send("email_invoice", "POST", f"/invoices/{_seg(invoice_id)}/email", json=body)
        return bool(isinstance(answer.body, dict) and answer.body.get("ok"))

    def create_customer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Registers a customer (createCustomer): FacturaAPI checks its RFC, legal name, zip and regime
        against SAT's records and answers 400 naming what disagrees; the same data again answers 200."""
        return self._send("create_customer", "POST", "/customers", json=body, check=_not_customer).body

    # --- the choke point ---------------------------------------------------------------------

    def _send(self, operation: str, method: str, path: str, *, json: Any = None,
              params: dict[str, Any] | None = None, binary: bool = False,
              check: Callable[[_Answer], str | None] | None = None) -> _Answer:
        """`check` names what makes a 2xx answer unusable (not an invoice, not the CFDI's file): such an
        answer is recorded as the failed exchange it is, then raised as InvalidResponse."""
        url = self.base_url + path
        request = requests.Request(method, url, json=json, params=params, auth=self._auth, headers={
            "Accept": "application/json" if not binary else "*/*",
            "User-Agent": f"mexico_localization/{__version__}",
        })
        prepared = self._session.prepare_request(request)
        exchange = Exchange(operation=operation, method=method, url=prepared.url or url,
                            request_headers=mask_headers(prepared.headers), request_body=json)
        started = time.monotonic()
        failure: FacturapiError | None = None
        answer: _Answer | None = None
        fatal: BaseException | None = None
        try:
            response = self._session.send(prepared, timeout=self.timeout, allow_redirects=False, stream=binary)
            answer, failure = self._read(response, binary)
            problem = check(answer) if failure is None and check is not None else None
            if problem:
                failure = InvalidResponse(problem, status=answer.status)
        except requests.RequestException as exc:
            failure = _transport_failure(exc, self.timeout)
        except Exception as exc:  # anything else from the HTTP stack inside the call
            failure = OutcomeUnknown(f"Unexpected failure while calling FacturaAPI ({type(exc).__name__}: {exc})",
                                     reason="client_error")
            if isinstance(exc, self._propagate):
                fatal = exc
        finally:
            exchange.duration_ms = round((time.monotonic() - started) * 1000, 1)
        del prepared, request  # the prepared request holds the Authorization header
        if answer is not None:
            exchange.status = answer.status
            exchange.response_headers = answer.headers
            exchange.response_body = answer.body if not binary or failure else _describe_bytes(answer)
            exchange.log_id = answer.headers.get("X-Facturapi-Log-Id")
        if failure is not None:
            failure = self._auth.redacted(failure)
            failure.log_id = failure.log_id or exchange.log_id
            exchange.error, exchange.error_kind = failure.summary(), failure.kind
        self._report(exchange)
        if fatal is not None:
            raise fatal
        if failure is not None:
            raise failure
        assert answer is not None
        return answer

    def _read(self, response: requests.Response, binary: bool) -> tuple[_Answer, FacturapiError | None]:
        headers = dict(response.headers)
        ok = 200 <= response.status_code < 300
        if ok and binary:
            content = bytearray()
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) > MAX_DOWNLOAD_BYTES:
                    response.close()
                    return _Answer(response.status_code, headers, bytes(content[:1024])), InvalidResponse(
                        f"FacturaAPI's file is larger than {MAX_DOWNLOAD_BYTES} bytes: not a CFDI file",
                        status=response.status_code)
            return _Answer(response.status_code, headers, bytes(content)), None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text[:2000]
        answer = _Answer(response.status_code, headers, body)
        if ok:
            if not isinstance(body, (dict, list)):
                return answer, InvalidResponse(
                    f"FacturaAPI answered {response.status_code} without JSON", status=response.status_code)
            return answer, None
        envelope = parse_envelope(response.status_code, body)
        cls = error_class(envelope)
        message = envelope.message or f"FacturaAPI answered HTTP {response.status_code}"
        return answer, cls(message, code=envelope.code, status=response.status_code, details=envelope.details,
                           path=envelope.path,
                           log_id=headers.get("X-Facturapi-Log-Id"),
                           retry_after=_retry_after(headers.get("Retry-After")))

    def _report(self, exchange: Exchange) -> None:
        if self.on_exchange is None:
            return
        try:
            self.on_exchange(exchange)
        except Exception:  # a broken audit hook must not turn a stamped CFDI into an error
            log.exception("FacturaAPI exchange hook failed for %s", exchange.operation)



def _not_invoice(answer: _Answer) -> str | None:
    problem = invoice_problem(answer.body)
    return f"FacturaAPI's answer is not an invoice as its API describes it: {problem}" if problem else None


def _not_customer(answer: _Answer) -> str | None:
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
        return "FacturaAPI's answer is not a customer as its API describes it: no id"
    return None


def _not_a_list(answer: _Answer) -> str | None:
    body = answer.body
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return "FacturaAPI's invoice list had no data array"
    problems = [p for p in (invoice_problem(item) for item in body["data"]) if p]
    if problems:
        return f"FacturaAPI's invoice list holds something that is not an invoice: {problems[0]}"
    pages = body.get("total_pages", 1)
    if isinstance(pages, bool) or not isinstance(pages, int) or pages < 0:
        return f"FacturaAPI's invoice list gave total_pages {pages!r}, not a page count"
    return None


def _not_the_file(fmt: str, uuid: str | None, what: str = "") -> Callable[[_Answer], str | None]:
    def check(answer: _Answer) -> str | None:
        problem = file_problem(fmt, answer.headers.get("Content-Type", ""), answer.body, uuid)
        return f"FacturaAPI's {what or fmt.upper()} cannot be kept: {problem}" if problem else None
    return check


def _utc_iso(moment: datetime) -> str:
    """A date-time filter as FacturaAPI writes dates (UTC, milliseconds); a naive time is taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _seg(value: str) -> str:
    if not value:
        raise ValueError("a FacturaAPI id is required")
    return quote(str(value), safe="")


def _describe_bytes(answer: _Answer) -> dict[str, Any]:
    return {"content_type": answer.headers.get("Content-Type", ""), "bytes": len(answer.body or b"")}


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from either form of the header; at most a day, whatever it says."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _transport_failure(exc: requests.RequestException, timeout: tuple[float, float]) -> FacturapiError:
    """Names what went wrong on the wire, and whether the request can have been carried out."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return ConnectError(f"No connection to FacturaAPI within {timeout[0]:g} s ({text})",
                            reason="connect_timeout")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return OutcomeUnknown(f"FacturaAPI did not answer within {timeout[1]:g} s; the request may have "
                              f"been carried out ({text})", reason="read_timeout")
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectError(f"TLS handshake with FacturaAPI failed ({text})", reason="tls")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return ConnectError(f"Invalid FacturaAPI URL ({text})", reason="invalid_url")
    if isinstance(exc, requests.exceptions.ConnectionError):
        lowered = text.lower()
        if "name or service not known" in lowered or "nodename nor servname" in lowered \
                or "failed to resolve" in lowered or "temporary failure in name resolution" in lowered:
            return ConnectError(f"The FacturaAPI host name does not resolve ({text})", reason="dns")
        if "connection refused" in lowered:
            return ConnectError(f"FacturaAPI refused the connection ({text})", reason="refused")
        if "newconnectionerror" in lowered:
            return ConnectError(f"FacturaAPI cannot be reached ({text})", reason="unreachable")
        return OutcomeUnknown(f"The connection to FacturaAPI broke before an answer; the request may "
                              f"have been carried out ({text})", reason="reset")
    return OutcomeUnknown(f"HTTP failure talking to FacturaAPI ({text})", reason="connection")

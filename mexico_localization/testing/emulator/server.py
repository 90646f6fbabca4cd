"""The emulator's HTTP server: FacturaAPI v2 routes under /v2, control routes under /_emulator."""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import threading
import time
import uuid as uuidlib
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mexico_localization.facturapi.client import EMULATOR_HEADER
from mexico_localization.testing.emulator import documents, printed
from mexico_localization.testing.emulator.state import Fault, State

EMULATOR_NAME = "mexico_localization FacturaAPI emulator - sin validez fiscal"
MAX_PAGE = 30
CANCEL_MOTIVES = ("01", "02", "03", "04")


@dataclass(frozen=True)
class Organization:
    id: str
    tax_id: str
    legal_name: str


@dataclass
class EmulatorConfig:
    keys: frozenset[str] | None = None       # None: any sk_test_/sk_live_/sk_user_ key of sane length
    org_id: str = "6a00000000000000000e0001"
    org_tax_id: str = "EKU9003173C9"        # SAT's published test RFC
    org_legal_name: str = "ESCUELA KEMPER URGATE"
    # Keys of other organizations (a group with several RFCs): key -> {"id", "tax_id", "legal_name"}. Each
    # organization sees only its own invoices and idempotency keys; a key not listed is the default one's.
    organizations: dict[str, dict[str, str]] = field(default_factory=dict)
    production_ready: bool = True
    idempotency_replay: str = "original"     # "original": 200 with the stored invoice; "error": 400 conflict
    cancellation: str = "accepted"           # accepted | pending | verifying
    pending_polls: int = 1                   # a 202 invoice turns valid after this many retrievals
    stamp_latency_ms: float = 0.0            # simulated PAC/SAT time on every stamp
    max_date_age_hours: float = 72.0

    def organization_of(self, key: str) -> Organization:
        listed = self.organizations.get(key)
        if listed:
            return Organization(listed["id"], listed.get("tax_id", self.org_tax_id),
                                listed.get("legal_name", self.org_legal_name))
        return Organization(self.org_id, self.org_tax_id, self.org_legal_name)

    def update(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if not hasattr(self, name):
                raise ValueError(f"unknown emulator setting {name!r}")
            setattr(self, name, frozenset(value) if name == "keys" and value is not None else value)


class _Dropped(Exception):
    """The handler dropped the connection on purpose; nothing more is written."""


class _Reply(Exception):
    """Ends a request early with an answer (used for errors)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None,
           headers: dict[str, str] | None = None, path: str | None = None) -> _Reply:
    body: dict[str, Any] = {"ok": False, "status": status, "code": code, "message": message}
    if path:
        body["path"], body["location"] = path, "body"
    if details:
        body["errors"] = details
    return _Reply(status, body, headers)


def _required(path: str) -> dict[str, Any]:
    return {"code": "required", "message": f'El campo "{path}" es requerido.', "source": "facturapi",
            "location": "body", "path": path}


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), op) for m, p, op in [
        ("GET", r"^/v2/check$", "check"),
        ("GET", r"^/v2/organizations/me$", "ping"),
        ("POST", r"^/v2/invoices$", "create_invoice"),
        ("GET", r"^/v2/invoices$", "search_invoices"),
        ("GET", r"^/v2/invoices/(?P<id>[^/]+)$", "retrieve_invoice"),
        ("PUT", r"^/v2/invoices/(?P<id>[^/]+)/status$", "refresh_status"),
        ("DELETE", r"^/v2/invoices/(?P<id>[^/]+)$", "cancel_invoice"),
        ("GET", r"^/v2/invoices/(?P<id>[^/]+)/cancellation_receipt/(?P<fmt>xml|pdf)$", "download_receipt"),
        ("GET", r"^/v2/invoices/(?P<id>[^/]+)/(?P<fmt>xml|pdf|zip)$", "download"),
        ("POST", r"^/v2/invoices/(?P<id>[^/]+)/email$", "email_invoice"),
        ("POST", r"^/v2/customers$", "create_customer"),
    ]
]


class Emulator:
    """A running emulator; `with Emulator() as emu:` serves on a free loopback port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.state = State()
        handler = type("BoundHandler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """The FacturaAPI Server URL to put in settings."""
        host, port = self.address
        return f"http://{host}:{port}/v2"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="facturapi-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # In-process control, the same as the /_emulator routes.
    def add_fault(self, operation: str, kind: str, times: int = 1, **params: Any) -> None:
        self.state.add_fault(Fault(operation, kind, times, params))

    def cancel_outside(self, invoice_id: str, motive: str = "02", *, outcome: str = "accepted",
                       at_sat: bool = False) -> None:
        """A cancellation the app did not make: from FacturaAPI's dashboard (seen at once, `outcome`
        accepted or pending) or at SAT's portal (`at_sat`: seen only when the status is refreshed)."""
        with self.state.lock:
            invoice = self.state.invoices.get(invoice_id)
            if invoice is None or invoice["status"] != "valid":
                raise ValueError(f"no valid invoice {invoice_id!r} to cancel")
            if at_sat:
                self.state.cancelled_at_sat[invoice_id] = motive
                return
            invoice["cancellation"] = {"requested_at": documents.now_iso(), "motive": motive,
                                       "substitution": None, "status": "none"}
            _cancel_settle(invoice, outcome)

    def add_sat_record(self, tax_id: str, legal_name: str, tax_system: str, zip_: str) -> None:
        """What SAT has on file for an RFC, for the customer checks (same as POST /_emulator/sat_records)."""
        with self.state.lock:
            self.state.sat_records[tax_id.upper()] = {"tax_id": tax_id, "legal_name": legal_name,
                                                      "tax_system": tax_system, "zip": zip_}

    def reset(self) -> None:
        with self.state.lock:
            fresh = State()
            for name in ("invoices", "by_idempotency_key", "keys_in_flight", "pending_polls", "faults",
                         "calls", "emails", "create_requests", "cancelled_at_sat", "sat_records", "customers"):
                setattr(self.state, name, getattr(fresh, name))
            self.state.next_folio = 1


@dataclass
class _Request:
    operation: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    key: str
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of a repeated parameter
    fault: Fault | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    protocol_version = "HTTP/1.1"
    server_version = "facturapi-emulator"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read state, not logs
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (_Dropped, ConnectionError):  # dropped on purpose, or the client gave up (its timeout)
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass

    # --- plumbing --------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        try:
            body = self._read_body()
            if parts.path.startswith("/_emulator/"):
                status, payload = self._control(method, parts.path, body)
                self._send(status, payload)
                return
            request = self._route(method, parts.path, parts.query, body)
            status, payload = self._operate(request)
            self._send(status, payload, request.extra_headers)
        except _Reply as reply:
            self._send(reply.status, reply.body, reply.headers)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise _error(400, "invalid_json", "El cuerpo de la solicitud no es JSON válido.") from None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, bytes):
            data, content_type = body, (headers or {}).pop("Content-Type", "application/octet-stream")
        else:
            data, content_type = json.dumps(body).encode("utf-8"), "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Facturapi-Log-Id", uuidlib.uuid4().hex)
        self.send_header(EMULATOR_HEADER, EMULATOR_NAME)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self, delay: float = 0.0) -> None:
        """Closes the connection with a TCP reset, after `delay` seconds, without answering."""
        if delay:
            time.sleep(delay)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        raise _Dropped

    def _route(self, method: str, path: str, query: str, body: Any) -> _Request:
        found = next(((op, m) for route_method, pattern, op in _ROUTES
                      if route_method == method and (m := pattern.match(path))), None)
        if found is None:
            raise _error(404, "not_found", f"No existe la ruta {method} {path}.")
        operation, match = found
        key = self._authenticate(operation)
        with self.emulator.state.lock:
            self.emulator.state.calls[operation] += 1
        parsed = parse_qs(query)
        return _Request(operation, match.groupdict(), {k: v[-1] for k, v in parsed.items()}, body, key, parsed)

    def _authenticate(self, operation: str) -> str:
        header = self.headers.get("Authorization") or ""
        if not header:
            raise _error(401, "missing_credentials", "No se encontró la llave secreta en la solicitud.",
                         headers={"WWW-Authenticate": 'Bearer realm="facturapi"'})
        scheme, _, key = header.partition(" ")
        allowed = self.emulator.config.keys
        valid = key.startswith(("sk_test_", "sk_live_", "sk_user_")) and len(key) >= 16
        if scheme != "Bearer" or (allowed is not None and key not in allowed) or not valid:
            raise _error(401, "api_key_invalid", "La llave secreta no es válida.",
                         headers={"WWW-Authenticate": 'Bearer realm="facturapi"'})
        if key.startswith("sk_user_") and operation != "check":
            raise _error(401, "api_key_not_allowed", "Esta operación requiere una llave de organización.")
        return key

    # --- faults ----------------------------------------------------------------------------------

    def _before(self, request: _Request) -> None:
        fault = self.emulator.state.take_fault(request.operation)
        if fault is None:
            return
        p = fault.params
        if fault.kind == "latency":
            time.sleep(float(p.get("ms", 100)) / 1000)
        elif fault.kind == "rate_limit":
            seconds = str(p.get("retry_after", 1))
            raise _error(429, "rate_limit_exceeded", "Se excedió el límite de solicitudes.",
                         headers={"Retry-After": seconds})
        elif fault.kind == "server_error":
            status = int(p.get("status", 500))
            raise _error(status, p.get("code", "internal_error"), p.get("message", "Error interno."))
        elif fault.kind == "reset":
            self._drop()
        elif fault.kind == "validation":
            path = p.get("path", "customer.tax_id")
            detail = {"code": p.get("code", "invalid_format"), "source": "facturapi", "path": path,
                      "location": "body", "message": p.get("message", f'El campo "{path}" no es válido.')}
            raise _error(400, "invalid_request", detail["message"], details=[detail], path=path)
        elif fault.kind == "in_use":
            raise _error(400, "idempotency_key_in_use", "La llave de idempotencia está en uso por otra solicitud.")
        elif fault.kind == "sat_rejection" and request.operation == "create_invoice":
            message = p.get("message", "El nombre del receptor no coincide con el RFC en la lista del SAT.")
            detail = {"code": p.get("sat_code", "CFDI40145"), "source": p.get("source", "sat"), "message": message}
            raise _error(400, "invoice_stamping_validation_error", message, details=[detail])
        elif fault.kind == "sat_rejection" and request.operation == "cancel_invoice":
            raise _error(400, "invoice_not_cancelable_by_sat", p.get("message", "El SAT no permite cancelar."))
        else:
            request.fault = fault  # acted on after the operation's own work

    def _after(self, request: _Request) -> None:
        fault = request.fault
        if fault is None:
            return
        if fault.kind == "timeout_after_stamp":
            self._drop(float(fault.params.get("delay", 2.0)))
        if fault.kind == "reset_after_stamp":
            self._drop()

    # --- FacturaAPI operations -------------------------------------------------------------------

    def _operate(self, request: _Request) -> tuple[int, Any]:
        if request.operation == "create_invoice" and isinstance(request.body, dict):
            with self.emulator.state.lock:
                self.emulator.state.create_requests.append({
                    "external_id": request.body.get("external_id"),
                    "idempotency_key": request.body.get("idempotency_key")})
        self._before(request)
        result = getattr(self, "_op_" + request.operation)(request)
        self._after(request)
        return self._garbled(request, result)

    def _garbled(self, request: _Request, result: tuple[int, Any]) -> tuple[int, Any]:
        """Faults that spoil a successful answer after the work was done (the CFDI is stamped):
        `malformed` sets fields of the JSON answer (`set`, and for a list `item`, replacing its
        first invoice); `web_page` answers a download with a proxy's HTML page; `other_uuid` serves
        an XML whose stamp names another UUID."""
        fault, (status, payload) = request.fault, result
        if fault is None or fault.kind not in ("malformed", "web_page", "other_uuid"):
            return result
        request.fault = None
        if fault.kind == "web_page":
            request.extra_headers["Content-Type"] = "text/html; charset=utf-8"
            return 200, b"<html><body><h1>Proxy Authentication Required</h1></body></html>"
        if fault.kind == "other_uuid" and isinstance(payload, bytes):
            return status, payload.replace(b'UUID="', b'UUID="00000000-0000-4000-8000-', 1)
        garbled = json.loads(json.dumps(payload))  # the stored invoice stays as it is
        if isinstance(garbled, dict):
            garbled.update(fault.params.get("set", {}))
            if "item" in fault.params and garbled.get("data"):
                garbled["data"][0] = fault.params["item"]
        return status, garbled

    def _op_check(self, request: _Request) -> tuple[int, Any]:
        return 200, {"ok": True}

    def _op_ping(self, request: _Request) -> tuple[int, Any]:
        cfg = self.emulator.config
        org = cfg.organization_of(request.key)
        return 200, documents.organization(org.tax_id, org.legal_name, cfg.production_ready, org.id)

    def _op_create_invoice(self, request: _Request) -> tuple[int, Any]:
        body = request.body
        if not isinstance(body, dict):
            raise _error(400, "invalid_request", "Se esperaba un objeto JSON.")
        self._validate_create(body)
        state, cfg = self.emulator.state, self.emulator.config
        org = cfg.organization_of(request.key)
        # Idempotency keys are the organization's own: another organization's may repeat them.
        key = f"{org.id}:{body['idempotency_key']}" if body.get("idempotency_key") else ""
        with state.lock:
            if key and key in state.keys_in_flight:
                raise _error(400, "idempotency_key_in_use", "La llave de idempotencia está en uso por otra solicitud.")
            if key and key in state.by_idempotency_key:
                if cfg.idempotency_replay == "error":
                    raise _error(400, "conflict", "La llave de idempotencia ya fue utilizada.")
                return 200, state.invoices[state.by_idempotency_key[key]]
            if key:
                state.keys_in_flight.add(key)
            invoice = documents.new_invoice(body, org.id, state.next_folio)
            state.next_folio += 1
        try:
            if cfg.stamp_latency_ms:
                time.sleep(cfg.stamp_latency_ms / 1000)
            pending = request.fault is not None and request.fault.kind == "pending"
            with state.lock:
                if not pending:
                    documents.stamp(invoice)
                else:
                    state.pending_polls[invoice["id"]] = int(request.fault.params.get("polls", cfg.pending_polls))
                    request.fault = None
                state.invoices[invoice["id"]] = invoice
                if key:
                    state.by_idempotency_key[key] = invoice["id"]
        finally:
            with state.lock:
                state.keys_in_flight.discard(key)
        return (202 if pending else 200), invoice

    def _validate_create(self, body: dict[str, Any]) -> None:
        kind = body.get("type", "I")
        if kind not in ("I", "E", "P"):
            raise _error(400, "invalid_request", f"El emulador no emite comprobantes de tipo {kind!r}.",
                         path="type")
        needed = ["customer"] + (["complements"] if kind == "P" else ["items", "payment_form"])
        missing = [_required(name) for name in needed if not body.get(name)]
        if missing:
            raise _error(400, "invalid_request", missing[0]["message"], details=missing, path=missing[0]["path"])
        if body.get("date"):
            try:
                when = datetime.fromisoformat(str(body["date"]).replace("Z", "+00:00"))
            except ValueError:
                raise _error(400, "invalid_request", "La fecha no tiene formato ISO 8601.", path="date") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone(timedelta(hours=-6)))  # the organization's zone
            age = datetime.now(timezone.utc) - when
            if age > timedelta(hours=self.emulator.config.max_date_age_hours) or age < timedelta(minutes=-5):
                raise _error(400, "invalid_request",
                             "La fecha no puede ser anterior a 72 horas ni posterior al momento actual.",
                             path="date")

    def _op_create_customer(self, request: _Request) -> tuple[int, Any]:
        """FacturaAPI's customer check against SAT's records: here, the records a test registered
        (`sat_records`); an RFC with no record is taken as it comes."""
        body = request.body if isinstance(request.body, dict) else {}
        missing = [_required(name) for name in ("legal_name", "tax_id", "tax_system") if not body.get(name)]
        if not (body.get("address") or {}).get("zip"):
            missing.append(_required("address.zip"))
        if missing:
            raise _error(400, "invalid_request", missing[0]["message"], details=missing, path=missing[0]["path"])
        state = self.emulator.state
        tax_id = str(body["tax_id"]).upper()
        record = state.sat_records.get(tax_id)
        if record:
            for path, expected, given, message in documents.sat_disagreements(record, body):
                if expected != given:
                    raise _error(400, "invalid_request", message, path=path)
        with state.lock:
            key = (tax_id, body["legal_name"], body["tax_system"], body["address"]["zip"])
            if key in state.customers:
                return 200, state.customers[key]
            state.customers[key] = documents.customer(body)
            return 201, state.customers[key]

    def _invoice(self, request: _Request) -> dict[str, Any]:
        invoice = self.emulator.state.invoices.get(request.params["id"])
        if invoice is None or invoice["organization"] != self.emulator.config.organization_of(request.key).id:
            raise _error(404, "invoice_not_found", "No se encontró la factura.")
        return invoice

    def _op_retrieve_invoice(self, request: _Request) -> tuple[int, Any]:
        state = self.emulator.state
        with state.lock:
            invoice = self._invoice(request)
            self._progress(invoice)
            return 200, invoice

    def _op_refresh_status(self, request: _Request) -> tuple[int, Any]:
        """FacturaAPI asks SAT again: a cancellation made at SAT's portal shows up here, not on retrieve."""
        state = self.emulator.state
        with state.lock:
            invoice = self._invoice(request)
            motive = state.cancelled_at_sat.pop(invoice["id"], None)
            if motive and invoice["status"] == "valid":
                invoice["cancellation"] = {"requested_at": documents.now_iso(), "motive": motive,
                                           "substitution": None, "status": "none"}
                _cancel_settle(invoice, "accepted")
            self._progress(invoice)
            return 200, invoice

    def _progress(self, invoice: dict[str, Any]) -> None:
        """A pending stamp or a SAT-verifying cancellation moves on as it is looked at."""
        state = self.emulator.state
        if invoice["status"] == "pending" and invoice["id"] in state.pending_polls:
            state.pending_polls[invoice["id"]] -= 1
            if state.pending_polls[invoice["id"]] <= 0:
                del state.pending_polls[invoice["id"]]
                documents.stamp(invoice)
        if invoice.get("cancellation_status") == "verifying":
            _cancel_settle(invoice, "accepted")

    def _op_search_invoices(self, request: _Request) -> tuple[int, Any]:
        query = request.query
        page, limit = int(query.get("page", 1)), min(100, max(1, int(query.get("limit", 100))))
        if page > MAX_PAGE:
            raise _error(400, "page_too_large", "La página solicitada excede el máximo de 30.")
        filters = {name: query[name] for name in ("external_id", "type", "uuid", "series") if name in query}
        cancellation = set(request.lists.get("cancellation_status", []))
        since = query.get("date[gte]")
        with self.emulator.state.lock:
            org_id = self.emulator.config.organization_of(request.key).id
            found = [i for i in self.emulator.state.invoices.values()
                     if i["organization"] == org_id and all(str(i.get(k) or "") == v for k, v in filters.items())
                     and (not cancellation or i.get("cancellation_status", "none") in cancellation)
                     and (not since or _instant(i["date"]) >= _instant(since))]
        found.sort(key=lambda i: i["date"], reverse=True)
        total_pages = max(1, -(-len(found) // limit))
        return 200, {"page": page, "total_pages": total_pages, "total_results": len(found),
                     "data": found[(page - 1) * limit: page * limit]}

    def _op_cancel_invoice(self, request: _Request) -> tuple[int, Any]:
        motive, substitution = request.query.get("motive"), request.query.get("substitution")
        state = self.emulator.state
        with state.lock:
            invoice = self._invoice(request)
            if motive not in CANCEL_MOTIVES:
                raise _error(400, "invalid_request", "El motivo de cancelación debe ser 01, 02, 03 o 04.",
                             path="motive")
            if motive == "01" and not substitution:
                raise _error(400, "substitution_invoice_required",
                             "El motivo 01 requiere la factura que sustituye a la cancelada.")
            if substitution:
                substitute = state.find(substitution)
                if substitute is None or substitute["organization"] != invoice["organization"]:
                    raise _error(400, "substitution_invoice_not_found", "No se encontró la factura sustituta.")
                if substitute["status"] != "valid":
                    raise _error(400, "substitution_invoice_status_not_allowed",
                                 "La factura sustituta no está vigente.")
            if invoice["status"] == "draft":
                del state.invoices[invoice["id"]]
                return 200, invoice
            if invoice.get("cancellation_status") in ("pending", "verifying"):
                raise _error(409, "invoice_cancellation_in_progress", "La factura ya tiene una solicitud de "
                             "cancelación en proceso.")
            if invoice["status"] != "valid":
                raise _error(409, "invoice_not_cancelable", "Solo se pueden cancelar facturas vigentes.")
            invoice["cancellation"] = {"requested_at": documents.now_iso(), "motive": motive,
                                       "substitution": substitution, "status": "none"}
            _cancel_settle(invoice, self.emulator.config.cancellation)
            return 200, invoice

    def _op_download(self, request: _Request) -> tuple[int, Any]:
        with self.emulator.state.lock:
            invoice = self._invoice(request)
        if not invoice.get("uuid"):
            raise _error(400, "invoice_not_stamped", "La factura no ha sido timbrada.")
        fmt = request.params["fmt"]
        org = self.emulator.config.organization_of(request.key)
        xml = documents.invoice_xml(invoice, org.tax_id)
        pdf = printed.invoice_pdf(invoice, org.tax_id, org.legal_name)
        if fmt == "xml":
            request.extra_headers["Content-Type"] = "application/xml"
            return 200, xml
        if fmt == "pdf":
            request.extra_headers["Content-Type"] = "application/pdf"
            return 200, pdf
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"{invoice['uuid']}.xml", xml)
            archive.writestr(f"{invoice['uuid']}.pdf", pdf)
        request.extra_headers["Content-Type"] = "application/zip"
        return 200, buffer.getvalue()

    def _op_download_receipt(self, request: _Request) -> tuple[int, Any]:
        with self.emulator.state.lock:
            invoice = self._invoice(request)
        if invoice["status"] != "canceled":
            raise _error(400, "invoice_cancellation_receipt_unavailable", "El acuse de cancelación no está "
                         "disponible.")
        if request.params["fmt"] == "xml":
            request.extra_headers["Content-Type"] = "application/xml"
            return 200, documents.cancellation_receipt_xml(invoice)
        request.extra_headers["Content-Type"] = "application/pdf"
        return 200, printed.receipt_pdf("Acuse de cancelación", invoice["uuid"])

    def _op_email_invoice(self, request: _Request) -> tuple[int, Any]:
        state = self.emulator.state
        with state.lock:
            invoice = self._invoice(request)
            if invoice["status"] not in ("valid", "canceled"):
                raise _error(400, "invoice_email_status_not_allowed", "La factura no se puede enviar.")
            email = (request.body or {}).get("email") if isinstance(request.body, dict) else None
            if not email and not (invoice["customer"].get("email")):
                email = "cliente@emulador.invalid"
            state.emails.append({"invoice": invoice["id"], "to": email})
        return 200, {"ok": True}

    # --- control ---------------------------------------------------------------------------------

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        emulator, body = self.emulator, body or {}
        if method == "POST" and path == "/_emulator/reset":
            emulator.reset()
            return 200, {"ok": True}
        if method == "GET" and path == "/_emulator/state":
            return 200, emulator.state.summary()
        if method == "POST" and path == "/_emulator/config":
            try:
                emulator.config.update(body)
            except ValueError as exc:
                raise _error(400, "invalid_request", str(exc)) from None
            return 200, {"ok": True}
        if method == "POST" and path == "/_emulator/sat_records":
            with emulator.state.lock:
                emulator.state.sat_records[str(body["tax_id"]).upper()] = dict(body)
            return 200, {"ok": True}
        if method == "POST" and path == "/_emulator/faults":
            params = {k: v for k, v in body.items() if k not in ("operation", "kind", "times")}
            try:
                emulator.add_fault(body.get("operation", "*"), body.get("kind", ""), int(body.get("times", 1)),
                                   **params)
            except ValueError as exc:
                raise _error(400, "invalid_request", str(exc)) from None
            return 200, {"ok": True}
        if method == "DELETE" and path == "/_emulator/faults":
            with emulator.state.lock:
                emulator.state.faults.clear()
            return 200, {"ok": True}
        match = re.match(r"^/_emulator/invoices/([^/]+)/outside_cancellation$", path)
        if method == "POST" and match:
            try:
                emulator.cancel_outside(match.group(1), body.get("motive", "02"),
                                        outcome=body.get("outcome", "accepted"), at_sat=bool(body.get("at_sat")))
            except ValueError as exc:
                raise _error(409, "conflict", str(exc)) from None
            return 200, {"ok": True}
        match = re.match(r"^/_emulator/invoices/([^/]+)/cancellation$", path)
        if method == "POST" and match:
            with emulator.state.lock:
                invoice = emulator.state.invoices.get(match.group(1))
                if invoice is None or invoice.get("cancellation_status") not in ("pending", "verifying"):
                    raise _error(409, "conflict", "No hay una cancelación en proceso para esa factura.")
                _cancel_settle(invoice, body.get("outcome", "accepted"))
                return 200, invoice
        raise _error(404, "not_found", f"No existe la ruta de control {method} {path}.")


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _error(400, "invalid_request", f"Fecha inválida: {value!r}", path="date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _cancel_settle(invoice: dict[str, Any], outcome: str) -> None:
    """Moves a cancellation to `outcome`: accepted cancels; pending/verifying wait; rejected/expired keep it valid."""
    if outcome not in ("accepted", "pending", "verifying", "rejected", "expired"):
        raise _error(400, "invalid_request", f"Resultado de cancelación desconocido: {outcome!r}")
    invoice["cancellation_status"] = outcome
    invoice.setdefault("cancellation", {})["status"] = outcome
    invoice["cancellation"]["last_checked"] = documents.now_iso()
    if outcome == "accepted":
        invoice["status"] = "canceled"
        invoice["canceled_at"] = documents.now_iso()

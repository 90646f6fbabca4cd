"""E Invoice Setting: the one record that connects the site to FacturaAPI, a FacturaAPI organization
per issuing company."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, flt, get_datetime, now_datetime
from frappe.utils.scheduler import is_scheduler_inactive

from mexico_localization.einvoice.roles import SYSTEM_MANAGER
from mexico_localization.einvoice.settings import COMPANY_DOCTYPE, MAX_READ_TIMEOUT, ORGANIZATION_FIELDS, secret
from mexico_localization.facturapi import Secret
from mexico_localization.facturapi.client import base_url_problems

_KEY_SHAPE = re.compile(r"sk_(test|live|user)_[A-Za-z0-9_\-]{8,}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")  # a host name or IPv4, a port


def _host(url: str) -> str:
    """Where the key goes: scheme, host and port (another port on the same host may be another server)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port or ''}"


class EInvoiceSetting(Document):
    def validate(self) -> None:
        self.server_url = (self.server_url or "").strip()
        for problem in base_url_problems(self.server_url):
            frappe.throw(_(problem), title=_("FacturaAPI Server URL"))
        self._validate_companies()
        self._guard_server_url()
        for row in self.get("companies") or []:
            self._validate_new_key(row)
        self._validate_limits()
        self._validate_periodicity()
        self._validate_self_invoicing()
        for row in self.get("companies") or []:
            if not cint(self.production_site):
                row.production_since = None
            elif not row.production_since:
                row.production_since = now_datetime()
        if cint(self.enable_e_invoice):
            if not self.get("companies"):
                frappe.throw(_("Add the issuing company and its Secret Key to the Companies table before enabling "
                               "E Invoice."))
            for row in self.companies:
                if not self._has_key(row):
                    frappe.throw(_("Enter the Secret Key of {0} before enabling E Invoice.").format(row.company))

    def on_update(self) -> None:
        """A company row removed takes its stored key with it."""
        kept = [row.name for row in self.get("companies") or []]
        frappe.db.delete("__Auth", {"doctype": COMPANY_DOCTYPE, "fieldname": "secret_key",
                                    "name": ["not in", kept or [""]]})

    def _validate_companies(self) -> None:
        seen = set()
        for row in self.get("companies") or []:
            if row.company in seen:
                frappe.throw(_("{0} is in the Companies table twice: each company has one FacturaAPI organization.")
                             .format(row.company), title=_("Companies"))
            seen.add(row.company)

    def _guard_server_url(self) -> None:
        """The keys are sent wherever the URL points: only a System Manager may point it elsewhere, and
        a new host never receives the keys typed for the old one."""
        before = self.get_doc_before_save()
        old = ((before.server_url if before else "") or "").strip()
        if old == self.server_url:
            return
        if SYSTEM_MANAGER not in frappe.get_roles():
            raise frappe.PermissionError(_("Only a System Manager may change the FacturaAPI Server URL."))
        if not old or _host(old) == _host(self.server_url):
            return
        cleared = []
        for row in self.get("companies") or []:
            typed = row.secret_key or ""
            if not typed or set(typed) == {"*"}:
                row.secret_key = ""  # Frappe then deletes the stored key
                row.flags.key_cleared = True
                _forget_last_ping(row)
                cleared.append(row.company)
        if cleared:
            message = _("The server changed, so the stored Secret Keys were removed ({0}): enter the keys for {1}.")
            frappe.msgprint(message.format(", ".join(cleared), _host(self.server_url)), title=_("Secret Key removed"),
                            indicator="orange")

    def _validate_new_key(self, row) -> None:
        typed = row.secret_key or ""
        if not typed or set(typed) == {"*"}:
            return  # unchanged: Frappe keeps the stored, encrypted key
        if not _KEY_SHAPE.fullmatch(typed.strip()):
            row.secret_key = None  # never echo the bad value back through the form
            frappe.throw(_("The Secret Key of {0} does not look like a FacturaAPI key: it starts with sk_test_ or "
                           "sk_live_ and has no spaces. Copy it again from FacturaAPI's dashboard.").format(
                row.company))
        row.secret_key = typed.strip()
        _forget_last_ping(row)

    def _validate_limits(self) -> None:
        self.connect_timeout = flt(self.connect_timeout) or 10
        self.read_timeout = flt(self.read_timeout) or 60
        self.max_attempts = cint(self.max_attempts) or 8
        if not 1 <= self.connect_timeout <= 60:
            frappe.throw(_("Connect Timeout must be between 1 and 60 seconds."))
        if not 5 <= self.read_timeout <= MAX_READ_TIMEOUT:
            frappe.throw(_("Request Timeout must be between 5 and {0} seconds.").format(int(MAX_READ_TIMEOUT)))
        if not 1 <= self.max_attempts <= 20:
            frappe.throw(_("Attempt Cap must be between 1 and 20."))

    def _validate_periodicity(self) -> None:
        """Bimonthly globals (periodicity 05) are for issuers in regime 621, Incorporación Fiscal, only
        (Anexo 20, InformacionGlobal; RMF 2.7.1.21): each company's last ping tells its regime."""
        if self.global_periodicity != "Bimonthly":
            return
        for row in self.get("companies") or []:
            if row.organization_tax_system != "621":
                frappe.throw(_("Bimonthly global CFDIs are only for issuers in regime 621 (Incorporación Fiscal); "
                               "the organization of {0} is in regime {1}. Choose another periodicity.").format(
                    row.company, row.organization_tax_system or _("unknown (press Ping Server first)")),
                    title=_("Global Periodicity"))

    def _validate_self_invoicing(self) -> None:
        """The QR must open this site from a buyer's phone: an absolute http(s) address, https unless
        it is this machine (a demo)."""
        self.self_invoice_base_url = (self.self_invoice_base_url or "").strip().rstrip("/")
        if not cint(self.enable_self_invoicing):
            return
        parts = urlsplit(self.self_invoice_base_url)
        host = parts.hostname or ""
        local = host in ("localhost", "127.0.0.1") or host.endswith(".localhost")
        if parts.scheme not in ("https", "http") or not _HOST.fullmatch(parts.netloc) \
                or (parts.scheme == "http" and not local):
            frappe.throw(_("The Public Site URL must be the https:// address buyers open this site at, e.g. "
                           "https://facturas.mitienda.mx."), title=_("Self-invoicing"))
        if parts.path or parts.query or parts.fragment:
            frappe.throw(_("The Public Site URL is the site's address alone, without a path: the ticket adds "
                           "/factura itself."), title=_("Self-invoicing"))
        if cint(self.self_invoice_days) < 0:
            frappe.throw(_("Days after the Sale cannot be negative."), title=_("Self-invoicing"))

    def _has_key(self, row) -> bool:
        typed = row.secret_key or ""
        return bool(typed and set(typed) != {"*"}) or (not row.flags.key_cleared and bool(secret(row)))

    def onload(self) -> None:
        self.set_onload("warnings", self.warnings())

    def warnings(self) -> list[str]:
        """What the form should tell the administrator before anything goes wrong."""
        found: list[str] = []
        if cint(self.enable_e_invoice) and not self.get("companies"):
            found.append(_("E Invoice is enabled but no company is in the Companies table."))
        for row in self.get("companies") or []:
            found.extend(self._company_warnings(row))
        if cint(self.enable_e_invoice) and is_scheduler_inactive():
            found.append(_("The scheduler is inactive: retries, pending stamps and global CFDIs will not run. "
                           "Enable it with: bench --site {0} enable-scheduler").format(frappe.local.site))
        return found

    def _company_warnings(self, row) -> list[str]:
        found: list[str] = []
        key: Secret = secret(row)
        company = row.company
        if cint(row.served_by_emulator):
            found.append(_("{0} stamps against the sandbox emulator (the demo): its CFDIs have NO FISCAL VALIDITY. "
                           "Enter FacturaAPI's URL and your key to go live.").format(company))
        if cint(self.enable_e_invoice) and not key:
            found.append(_("E Invoice is enabled but the Secret Key of {0} is missing.").format(company))
        if row.last_ping_status == "Failed":
            found.append(_("The last ping of {0} failed: {1}").format(
                company, (row.last_ping_message or "").split("\n")[0]))
        if key and not row.last_ping_at:
            found.append(_("The key of {0} has not been checked yet: press Ping Server.").format(company))
        if key.environment == "Test" and cint(self.enable_e_invoice):
            found.append(_("Test key for {0}: its CFDIs are stamped in FacturaAPI's Test environment and have no "
                           "fiscal validity (PRUEBA – sin validez fiscal).").format(company))
        if key.environment == "Live":
            found.extend(self._live_site_warnings(row))
        if row.organization_tax_id:
            company_rfc = (frappe.db.get_value("Company", company, "tax_id") or "").strip().upper()
            if company_rfc != row.organization_tax_id.upper():
                found.append(_("FacturaAPI's organization RFC ({0}) differs from the Tax ID of {1} ({2}).").format(
                    row.organization_tax_id, company, company_rfc or _("empty")))
        if row.certificate_expires_at and get_datetime(row.certificate_expires_at) < now_datetime():
            found.append(_("The CSD certificate of {0} in FacturaAPI has expired: live stamping will fail.").format(
                company))
        return found

    def _live_site_warnings(self, row) -> list[str]:
        found = []
        if cint(row.served_by_emulator):
            found.append(_("A Live key ({0}) is pointed at the offline emulator: check the FacturaAPI Server URL.")
                         .format(row.company))
        if row.last_ping_at and not cint(row.is_production_ready):
            found.append(_("FacturaAPI says the organization of {0} is not ready for live stamping: {1}").format(
                row.company, row.pending_steps or _("see FacturaAPI's dashboard")))
        test_stamps = frappe.db.count("CFDI", {"livemode": 0, "uuid": ["is", "set"], "company": row.company})
        if test_stamps:
            found.append(_("{0} CFDIs of {1} on this live site were stamped in Test mode and have no fiscal validity.")
                         .format(test_stamps, row.company))
        return found


def _forget_last_ping(row) -> None:
    for field in ("last_ping_status", "last_ping_at", "last_ping_message", *ORGANIZATION_FIELDS):
        row.set(field, None)

"""What `bench --site SITE mexico-localization demo [start|stop|status]` does: the sandbox started
(or found), E Invoice Setting pointed at it, a shop made where the site has none, and the checks
that tell the user what still has to run before a sale is stamped."""

from __future__ import annotations

from dataclasses import dataclass, field

import frappe
from frappe import _
from frappe.utils.scheduler import is_scheduler_disabled, is_scheduler_inactive

from mexico_localization.demo import sandbox, shop
from mexico_localization.einvoice.operations.ping import run_ping
from mexico_localization.einvoice.settings import DOCTYPE, company_row, get_settings, secret

DEMO_KEY = "sk_test_mexico_localization_demo"  # the sandbox takes any test key; this one says what it is


class LiveKeyError(Exception):
    """The site holds a Live key: it is a real store, and the demo would point its CFDIs at a sandbox."""


@dataclass
class Report:
    """What the command prints: what was done, then what the user must do."""
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def start(port: int | None = None) -> Report:
    report = Report()
    settings = get_settings()
    if any(secret(row).environment == "Live" for row in settings.get("companies") or []) or settings.production_site:
        raise LiveKeyError(_("E Invoice Setting holds a Live key (or Production Site is on): this site stamps real "
                             "CFDIs, and the demo never replaces its settings. Use a site of its own for the demo."))
    box = sandbox.start(frappe.get_site_path(), port)
    report.done.append(_("Sandbox FacturaAPI (the emulator: no fiscal validity) at {0}, log {1}").format(
        box.url, box.log))
    company = shop.mexican_company()
    if company:
        report.done.append(_("Mexican data found ({0}): nothing created, only the sandbox configured.").format(company))
        if company == shop.COMPANY:  # the demo's own shop, from an earlier run: a shift for today
            shop.open_shift(frappe.session.user)
    else:
        company = shop.make_shop()
        report.done.append(_("Demo shop made: company {0} (RFC {1}), POS profile {2}, items, payment modes, customers "
                             "{3} and {4}, an open shift.").format(shop.COMPANY, shop.RFC, shop.PROFILE, shop.WALK_IN,
                                                                   shop.NOMINATIVE))
    configure(box.url, company, own_shop=company == shop.COMPANY)
    ping = run_ping(company)
    report.done.append(_("E Invoice Setting: the sandbox's URL and a test key, E Invoice on. Ping: {0}").format(
        ping["message"]))
    frappe.db.commit()
    report.missing = missing_services()
    report.next_steps = [
        _("Open {0}/app/point-of-sale, choose the POS profile {1}, sell and pay: the POS Invoice shows its CFDI, with "
          "a TEST badge (no fiscal validity).").format(site_url(), shop.PROFILE if company == shop.COMPANY else "…"),
        _("A worker stamps it, and the scheduler retries and issues the global CFDI: run `bench start` (or `bench "
          "worker` and `bench --site {0} enable-scheduler`).").format(frappe.local.site),
        _("Stop the sandbox: bench --site {0} mexico-localization demo stop").format(frappe.local.site),
        _("The sandbox's CFDIs have NO FISCAL VALIDITY (EMULADOR – SIN VALIDEZ FISCAL)."),
    ]
    return report


def configure(url: str, company: str, own_shop: bool) -> None:
    """The settings a person would type, saved through the form's own checks. In the demo's own shop a
    walk-in sale is stamped at once as its own global CFDI ("Each ticket"), so the first sale shows its
    CFDI in seconds; a site's own shop keeps its periodicity."""
    settings = frappe.get_doc(DOCTYPE)
    if settings.server_url != url:
        settings.server_url = url
    row = company_row(company, settings) or settings.append("companies", {"company": company})
    if secret(row).reveal() != DEMO_KEY:
        row.secret_key = DEMO_KEY
    settings.update({"enable_e_invoice": 1, "enable_cancellation": 1, "email_cfdi": 1})
    if own_shop:
        settings.global_periodicity = "Each ticket"
    settings.save(ignore_permissions=True)
    frappe.clear_document_cache(DOCTYPE, DOCTYPE)


def missing_services() -> list[str]:
    """What must run for the demo's sales to be stamped, and does not."""
    found = []
    if not _workers():
        found.append(_("No RQ worker is running: sales stay Queued. Run `bench start` (or `bench worker`)."))
    if is_scheduler_disabled() or is_scheduler_inactive():
        found.append(_("The scheduler is off for {0}: retries and global CFDIs will not run. Run `bench --site {0} "
                       "enable-scheduler` (and `bench start`).").format(frappe.local.site))
    return found


def _workers() -> list:
    from frappe.utils.background_jobs import get_workers

    try:
        return get_workers()
    except Exception:  # Redis down: then no worker can run either
        return []


def site_url() -> str:
    port = frappe.conf.get("webserver_port") or 8000
    return f"http://{frappe.local.site}:{port}"


def stop() -> Report:
    report = Report()
    stopped = sandbox.stop(frappe.get_site_path())
    report.done.append(_("Sandbox stopped.") if stopped else _("No sandbox was running for this site."))
    if any(row.served_by_emulator for row in get_settings().get("companies") or []):
        report.missing.append(_("E Invoice Setting still points at the sandbox: sales will retry until it runs "
                                "again (`demo start`) or real settings are entered."))
    return report


def status() -> Report:
    report = Report()
    box = sandbox.status(frappe.get_site_path())
    report.done.append((_("Sandbox at {0}: answering") if box.answers else _("Sandbox at {0}: not answering")).format(
        box.url))
    settings = get_settings()
    pointed = (settings.server_url or "").rstrip("/") == box.url
    report.done.append(_("E Invoice Setting points at it.") if pointed else
                       _("E Invoice Setting points at {0}.").format(settings.server_url or "—"))
    report.missing = missing_services()
    return report

"""What the app's jobs import, imported once by an RQ worker before it forks a process per job.

`bench worker` forks a fresh process for every job, and whatever the worker itself has not imported
each job imports again: measured on a cold stamp, about half its CPU (benchmarks/README). Frappe
imports every app's `commands` module in the worker's process before it starts working, which is
where `preload` is called from (commands.py), in worker processes only.
"""

from __future__ import annotations

import importlib
import sys

# Roots: each pulls in what a stamp, a bulk slice or a follow-up would otherwise import in every job.
FRAPPE_MODULES = (
    "frappe.model.document",
    "frappe.model.create_new",           # user permissions, markdownify, bs4
    "frappe.model.naming",
    "frappe.email.doctype.notification.notification",  # run_method's notifications: safe_exec, website
    "frappe.utils.password",             # the Secret Key: passlib, cryptography
    "frappe.core.doctype.file.file",     # the XML's File: PIL
    "frappe.integrations.doctype.integration_request.integration_request",
    "frappe.core.doctype.error_log.error_log",
    "frappe.core.doctype.comment.comment",
    "frappe.desk.doctype.notification_log.notification_log",
    "frappe.realtime",
    "frappe.database.mariadb.database",  # each job connects: pymysql
    "frappe.database.query",
    "frappe.utils.redis_wrapper",        # and reads Frappe's caches: redis
    "frappe.utils.logger",
    "frappe.utils.nestedset",
    "frappe.core.doctype.docfield.docfield",
    "frappe.core.doctype.docperm.docperm",
    "frappe.core.doctype.system_settings.system_settings",
    "cryptography.fernet",
    "_strptime",                         # datetime.strptime's first call imports it
)
APP_MODULES = (
    "mexico_localization.mexico_localization.doctype.cfdi.cfdi",
    "mexico_localization.mexico_localization.doctype.cfdi_attempt.cfdi_attempt",
    "mexico_localization.mexico_localization.doctype.e_invoice_setting.e_invoice_setting",
    "mexico_localization.einvoice.overrides.file",
    "mexico_localization.einvoice.pipeline.jobs",
    "mexico_localization.einvoice.pipeline.sweep",
    "mexico_localization.einvoice.operations.bulk",
    "mexico_localization.einvoice.operations.status_check",
)
WORKER_COMMANDS = ("worker", "worker-pool")


def is_worker(argv: list[str] | None = None) -> bool:
    """`bench worker` runs `python -m frappe.utils.bench_helper frappe [--site S] worker ...`."""
    return any(arg in WORKER_COMMANDS for arg in (argv if argv is not None else sys.argv)[1:])


def preload(apps: list[str] | None = None) -> list[str]:
    """Imports the modules above and each app's hooks (read by every job); returns those that could not
    be imported, which each job then imports as before."""
    hooks = [f"{app}.hooks" for app in (apps if apps is not None else bench_apps())]
    failed = []
    for name in (*FRAPPE_MODULES, *hooks, *APP_MODULES):
        try:
            importlib.import_module(name)
        except Exception:  # a module that needs a site is simply left to the job
            failed.append(name)
    return failed


def bench_apps() -> list[str]:
    try:
        import frappe

        return frappe.get_all_apps(with_internal_apps=False, sites_path=".")  # as bench_helper reads them
    except Exception:  # outside a bench's sites folder
        return []

"""Helpers for the stamping tests: these tests commit (the job does), so they clean up with SQL."""

from __future__ import annotations

import subprocess
import sys

import frappe

from mexico_localization.tests.pos_fixtures import shop, till
from mexico_localization.tests.utils import EmulatorTestCase, configure


class StampingTestCase(EmulatorTestCase):
    """The shop, E Invoice enabled against the emulator, committed; CFDI rows wiped at the end."""

    own_till: tuple[str, str] | None = None  # (POS Profile, expedition zip): a place of issue of the class's own
    partial_payments = False                 # its till takes partial payments (PPD sales)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = shop()
        if cls.own_till:
            till(*cls.own_till)
            frappe.db.set_value("POS Profile", cls.own_till[0], "allow_partial_payment", int(cls.partial_payments))
        cls.enable()

    @classmethod
    def enable(cls, **values) -> None:
        configure(cls.emulator.url, **{"company": cls.shop.company, "enable_e_invoice": 1, "read_timeout": 5, **values})
        frappe.db.commit()

    @classmethod
    def tearDownClass(cls):
        wipe_cfdis()
        super().tearDownClass()


def wipe_cfdis() -> None:
    """CFDI rows refuse deletion by design; tests remove theirs with SQL."""
    frappe.db.rollback()
    for table in ("CFDI Attempt", "CFDI Global Ticket", "CFDI"):
        frappe.db.sql(f"delete from `tab{table}`")  # noqa: S608 - fixed table names
    for doctype in ("POS Invoice", "Sales Invoice", "Payment Entry"):  # links to removed rows
        frappe.db.sql(f"update `tab{doctype}` set mx_cfdi = null where mx_cfdi is not null")  # noqa: S608
    frappe.db.sql("delete from `tabFile` where attached_to_doctype='CFDI'")
    frappe.db.commit()


def cfdi_of(invoice) -> frappe._dict:
    name = frappe.db.get_value(invoice.doctype, invoice.name, "mx_cfdi")
    return frappe.get_doc("CFDI", name) if name else None


def run_worker_burst(queue: str = "short", timeout: int = 240) -> subprocess.CompletedProcess:
    """A real RQ worker in its own process, as production runs it, until the queue is empty."""
    return subprocess.run([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site,
                           "worker", "--burst", "--queue", queue], cwd=frappe.utils.get_bench_path() + "/sites",
                          check=True, timeout=timeout, capture_output=True)

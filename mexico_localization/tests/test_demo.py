"""The sandbox demo (`bench --site SITE mexico-localization demo`): its shop, a real emulator process
found again by later runs, the settings pointed at it, sales stamped by a real worker, the bench
command itself; a site with its own Mexican data keeps it, and a Live key is refused."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import zlib

import frappe
from frappe.utils import flt

from mexico_localization.demo import run, sandbox, shop
from mexico_localization.einvoice.operations.cfdi_files import cfdi_pdf
from mexico_localization.tests.stamping_utils import run_worker_burst, wipe_cfdis
from mexico_localization.tests.utils import EmulatorTestCase, configure

COUNTED = ("Company", "Item", "Customer", "POS Profile", "Mode of Payment", "Account", "Item Price")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def counts() -> dict[str, int]:
    return {doctype: frappe.db.count(doctype) for doctype in COUNTED}


def sale(customer: str, item: str = "DEMO-CAFE"):
    """A sale at the demo's till as its POS page makes it: the profile's taxes (IVA included) and cash."""
    invoice = frappe.new_doc("POS Invoice")
    invoice.update({"company": shop.COMPANY, "pos_profile": shop.PROFILE, "customer": customer, "is_pos": 1})
    invoice.set_missing_values()
    invoice.append("items", {"item_code": item, "qty": 1})
    invoice.set_missing_values()
    invoice.calculate_taxes_and_totals()
    for row in invoice.payments:
        row.amount = flt(invoice.rounded_total or invoice.grand_total) if row.default else 0
    invoice.insert(ignore_permissions=True)
    invoice.submit()
    frappe.db.commit()
    return invoice


class TestDemo(EmulatorTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = free_port()

    @classmethod
    def tearDownClass(cls):
        sandbox.stop(frappe.get_site_path())
        wipe_cfdis()
        super().tearDownClass()

    def tearDown(self):
        frappe.db.rollback()
        configure(self.emulator.url)  # the in-process emulator again, E Invoice off, for the next tests
        frappe.db.commit()

    def test_the_demo_shop_sells_and_its_cfdis_are_stamped_by_the_sandbox(self):
        company = shop.make_shop()  # what a site without Mexican data gets
        frappe.db.commit()
        self.assertEqual(frappe.db.get_value("Company", company, ["tax_id", "country", "default_currency"]),
                         ("EKU9003173C9", "Mexico", "MXN"))
        self.assertEqual(frappe.db.get_value("Account", shop.IVA_ACCOUNT, "mx_tax_type"), "IVA")
        self.assertEqual(frappe.db.get_value("POS Profile", shop.PROFILE, ["mx_expedition_zip", "mx_series"]),
                         ("06600", "DEMO"))
        self.assertEqual(frappe.db.get_value("Mode of Payment", shop.CARD, "mx_payment_form"), "28")
        configure(self.emulator.url, company=company)  # as after the demo's first run on such a site
        frappe.db.commit()

        report = run.start(self.port)
        settings = frappe.get_doc("E Invoice Setting")
        self.assertEqual((settings.server_url, settings.enable_e_invoice, [r.company for r in settings.companies]),
                         (f"http://127.0.0.1:{self.port}/v2", 1, [company]))
        row = settings.companies[0]
        self.assertEqual((row.served_by_emulator, row.last_ping_status), (1, "Connected"))
        self.assertEqual(settings.global_periodicity, "Each ticket")
        self.assertIn("NO FISCAL VALIDITY", " ".join(settings.warnings()))
        self.assertTrue(any("no fiscal validity" in line.lower() for line in report.next_steps))
        first = sandbox.status(frappe.get_site_path())
        self.assertTrue(first.answers and first.pid)

        named, walk_in = sale(shop.NOMINATIVE), sale(shop.WALK_IN, "DEMO-REFRESCO")
        run_worker_burst()
        frappe.db.rollback()
        for invoice in (named, walk_in):
            state = frappe.db.get_value("POS Invoice", invoice.name, ["mx_cfdi_status", "mx_cfdi_uuid"], as_dict=True)
            self.assertEqual(state.mx_cfdi_status, "Stamped", invoice.name)
            self.assertTrue(state.mx_cfdi_uuid)
        row = frappe.get_doc("CFDI", frappe.db.get_value("POS Invoice", named.name, "mx_cfdi"))
        self.assertEqual((row.livemode, flt(row.total)), (0, 89.90))
        pdf = cfdi_pdf(row.name)[1]  # fetched from the sandbox on first demand
        streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL)
        text = b"".join(zlib.decompress(s) for s in streams if s[:1] == b"x").decode("latin-1")
        self.assertIn("SIN VALIDEZ FISCAL", text)
        self.assertIn(row.uuid, text)

        before = counts()
        run.start(self.port)  # again: the same sandbox, nothing made twice
        self.assertEqual(sandbox.status(frappe.get_site_path()).pid, first.pid)
        self.assertEqual(counts(), before)

        output = subprocess.run(  # the bench command itself
            [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site,
             "mexico-localization", "demo", "status"], cwd=frappe.utils.get_bench_path() + "/sites",
            capture_output=True, text=True, timeout=120)
        self.assertEqual(output.returncode, 0, output.stderr)
        self.assertIn(f"127.0.0.1:{self.port}/v2", output.stdout)
        self.assertIn("E Invoice Setting points at it.", output.stdout)
        self.assertTrue(run.stop().done)
        self.assertFalse(sandbox.status(frappe.get_site_path()).answers)

    def test_a_site_with_its_own_mexican_shop_keeps_it(self):
        from mexico_localization.tests.pos_fixtures import COMPANY
        from mexico_localization.tests.pos_fixtures import shop as test_shop

        test_shop()
        configure(self.emulator.url, company=COMPANY, global_periodicity="Daily")
        frappe.db.commit()
        before = counts()
        report = run.start(self.port)
        self.assertEqual(counts(), before)
        self.assertIn(COMPANY, report.done[1])
        settings = frappe.get_doc("E Invoice Setting")
        self.assertEqual(([r.company for r in settings.companies], settings.global_periodicity,
                          settings.enable_e_invoice), ([COMPANY], "Daily", 1))

    def test_a_live_key_is_refused(self):
        configure(self.emulator.url, key="sk_live_REALSTORE0123456789")
        frappe.db.commit()
        sandbox.stop(frappe.get_site_path())
        with self.assertRaises(run.LiveKeyError):
            run.start(self.port)
        self.assertEqual(frappe.db.get_single_value("E Invoice Setting", "server_url"), self.emulator.url)
        self.assertFalse(sandbox.status(frappe.get_site_path()).answers)

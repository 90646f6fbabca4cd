"""The printed ticket (issue 18, the ticket): the "Ticket CFDI" print format shows a stamped sale's
CFDI block and SAT's verification QR made from the stamped XML, tells a walk-in buyer their sale
goes into the global, and renders in the print view and as a PDF; the ticket code is the app's."""

from __future__ import annotations

import shutil
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import frappe

from mexico_localization.cfdi.ticket import normalized, verification_url
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.einvoice.printing import qr_data_uri
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of

PROFILE, ZIP = "ML Caja Ticket", "06760"


class Assets(SimpleHTTPRequestHandler):
    """The site's built assets, as its web server would serve them to wkhtmltopdf."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=f"{frappe.utils.get_bench_path()}/sites", **kwargs)

    def log_message(self, *args):
        pass
FORMAT = "Ticket CFDI"


class TestTicketPrint(StampingTestCase):
    own_till = (PROFILE, ZIP)

    def setUp(self):
        self.emulator.reset()
        self.enable(global_periodicity="Daily")

    def stamped_sale(self):
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80)], profile=PROFILE)
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        row = cfdi_of(sale)
        self.assertEqual(row.status, "Stamped", row.last_error)
        return sale, row

    def test_a_stamped_sale_prints_its_cfdi_block_and_sats_qr(self):
        sale, row = self.stamped_sale()
        html = frappe.get_print("POS Invoice", sale.name, print_format=FORMAT)
        invoice = self.emulator.state.invoices[row.facturapi_id]
        seal = invoice["stamp"]["signature"]
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "signature"), seal)
        for shown in (row.uuid, f"{row.series}-{row.folio_number}", row.sat_cert_number, seal[-8:]):
            self.assertIn(shown, html)
        expected = verification_url(row.uuid, self.emulator.config.org_tax_id, "EKU9003173C9",
                                    frappe.utils.flt(invoice["total"]), seal)
        self.assertIn(f'src="{qr_data_uri(expected)}"', html)  # the same QR, so the same content
        self.assertIn("&amp;tt=185.6&amp;fe=", html)
        self.assertIn("NO FISCAL VALIDITY", html)  # the emulator's CFDIs are test stamps

    def test_a_walk_in_ticket_says_it_goes_into_the_global(self):
        sale = pos_invoice(WALK_IN, [("ML-CAFE", 1, 80)], profile=PROFILE)
        frappe.db.commit()
        html = frappe.get_print("POS Invoice", sale.name, print_format=FORMAT)
        self.assertIn("global CFDI to público en general", html)
        self.assertNotIn("cfdi-qr", html)

    def test_the_ticket_renders_as_a_pdf(self):
        if not shutil.which("wkhtmltopdf"):
            self.skipTest("wkhtmltopdf is not installed: Frappe's PDF cannot be made here (.ci/bench-tier "
                          "installs it as root)")
        sale, _row = self.stamped_sale()
        # wkhtmltopdf fetches the site's stylesheets from its URL; no web server runs under the tests, so a
        # local one serves the built assets in its place.
        server = ThreadingHTTPServer(("127.0.0.1", 0), Assets)
        Thread(target=server.serve_forever, daemon=True).start()
        host_name = frappe.local.conf.get("host_name")
        frappe.local.conf.host_name = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            pdf = frappe.get_print("POS Invoice", sale.name, print_format=FORMAT, as_pdf=True)
        finally:
            frappe.local.conf.host_name = host_name
            server.shutdown()
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertIn(b"/Image", pdf)  # the QR

    def test_every_sale_gets_an_unguessable_ticket_code_nobody_can_change(self):
        sale, _row = self.stamped_sale()
        code = frappe.db.get_value("POS Invoice", sale.name, "mx_ticket_code")
        self.assertEqual(normalized(code), code)
        self.assertNotIn(sale.name, code)
        doc = frappe.get_doc("POS Invoice", sale.name)
        doc.mx_ticket_code = "0000-0000-0000-0"
        doc.save(ignore_permissions=True)  # a submitted sale saved again (POS closing, the REST API)
        self.assertEqual(frappe.db.get_value("POS Invoice", sale.name, "mx_ticket_code"), code)

    def test_the_pos_prints_the_ticket_by_default(self):
        self.assertEqual(frappe.get_meta("POS Invoice").default_print_format, FORMAT)

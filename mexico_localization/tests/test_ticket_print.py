"""The printed ticket (issue 18, the ticket): the "Ticket CFDI" print format shows a stamped sale's
CFDI block and SAT's verification QR made from the stamped XML, tells a walk-in buyer their sale
goes into the global and how to self-invoice it (QR, link, code, deadline), and renders in the print
view and as a PDF; the ticket code is the app's."""

from __future__ import annotations

import shutil
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import frappe

from mexico_localization.cfdi import self_invoice
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

    def test_a_walk_in_ticket_shows_how_to_self_invoice_it_once_self_invoicing_is_on(self):
        sale = pos_invoice(WALK_IN, [("ML-CAFE", 1, 19.90)], profile=PROFILE, included=True)
        frappe.db.commit()
        self.assertNotIn("self-invoice-qr", frappe.get_print("POS Invoice", sale.name, print_format=FORMAT))
        self.enable(global_periodicity="Daily", enable_self_invoicing=1,
                    self_invoice_base_url="https://facturas.mitienda.mx")
        html = frappe.get_print("POS Invoice", sale.name, print_format=FORMAT)
        link = self_invoice.ticket_url("https://facturas.mitienda.mx", sale.mx_ticket_code)
        self.assertIn(f'src="{qr_data_uri(link)}"', html)
        self.assertIn(sale.mx_ticket_code, html)
        self.assertIn("https://facturas.mitienda.mx/factura", html)
        until = self_invoice.deadline(frappe.utils.getdate(sale.posting_date), self_invoice.END_OF_MONTH)
        self.assertIn(frappe.utils.formatdate(until), html)
        doc = frappe.get_doc("POS Invoice", sale.name)
        doc.run_method("onload")
        self.assertEqual(doc.get_onload().mx_self_invoice["url"], link, "the form shows the buyer's link")
        stamped, _row = self.stamped_sale()
        self.assertNotIn("self-invoice-qr", frappe.get_print("POS Invoice", stamped.name, print_format=FORMAT),
                         "a sale with its own CFDI has nothing to self-invoice")

    def test_the_ticket_renders_as_a_pdf(self):
        if not shutil.which("wkhtmltopdf"):
            self.skipTest("wkhtmltopdf is not installed: Frappe's PDF cannot be made here (.ci/bench-tier "
                          "installs it as root)")
        sale, _row = self.stamped_sale()
        self.enable(global_periodicity="Daily", enable_self_invoicing=1,
                    self_invoice_base_url="https://facturas.mitienda.mx")
        walk_in = pos_invoice(WALK_IN, [("ML-CAFE", 1, 19.90)], profile=PROFILE, included=True)
        frappe.db.commit()
        for name in (sale.name, walk_in.name):  # SAT's QR; the self-invoicing QR
            pdf = self.pdf(name)
            self.assertTrue(pdf.startswith(b"%PDF"))
            self.assertIn(b"/Image", pdf)

    def pdf(self, name: str) -> bytes:
        # wkhtmltopdf fetches the site's stylesheets from its URL; no web server runs under the tests, so a
        # local one serves the built assets in its place.
        server = ThreadingHTTPServer(("127.0.0.1", 0), Assets)
        Thread(target=server.serve_forever, daemon=True).start()
        host_name = frappe.local.conf.get("host_name")
        frappe.local.conf.host_name = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            return frappe.get_print("POS Invoice", name, print_format=FORMAT, as_pdf=True)
        finally:
            frappe.local.conf.host_name = host_name
            server.shutdown()

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

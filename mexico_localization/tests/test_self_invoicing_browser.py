"""Self-invoicing in a real browser (tests/browser.py): the ticket's print view carries a QR that
decodes to the page's link; a buyer on a phone-sized screen opens it, types the total and their
data, waits for the stamp and downloads their XML."""

from __future__ import annotations

import io
import time
from pathlib import Path

import frappe

from mexico_localization.cfdi import self_invoice
from mexico_localization.einvoice.pipeline.records import kept_xml
from mexico_localization.tests.browser import PHONE, WAIT, BrowserTestCase
from mexico_localization.tests.pos_fixtures import WALK_IN, pos_invoice

PROFILE, ZIP = "ML Caja Navegador", "06900"


class TestSelfInvoicingBrowser(BrowserTestCase):
    own_till = (PROFILE, ZIP)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable(enable_cancellation=1, enable_self_invoicing=1, self_invoice_base_url=cls.url,
                   store_contact="Tel. 55 1234 5678")
        frappe.db.sql("delete from `tabCustomer` where tax_id = 'GODE561231GR8'")
        frappe.db.commit()

    @classmethod
    def tearDownClass(cls):
        frappe.db.rollback()
        frappe.db.sql("delete from `tabCustomer` where tax_id = 'GODE561231GR8'")
        frappe.db.commit()
        super().tearDownClass()

    def decoded_qr(self, element) -> str:
        import zxingcpp
        from PIL import Image

        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB"))
        self.assertTrue(found, "no QR code could be read on the printed ticket")
        return found[0].text

    # --- the test ------------------------------------------------------------------------------------

    def test_a_buyer_with_the_printed_ticket_gets_their_cfdi_on_a_phone(self):
        with self.screenshot_on_failure():
            self.buyer_gets_their_cfdi()

    def buyer_gets_their_cfdi(self):
        sale = pos_invoice(WALK_IN, [("ML-CAFE", 2, 19.90)], profile=PROFILE, included=True)  # shelf prices
        frappe.db.commit()
        sale.reload()
        link = self_invoice.ticket_url(self.url, sale.mx_ticket_code)

        # The cashier's print view of the ticket: the QR a person scans decodes to the page's link.
        self.log_in(self.person("ml-browser-cashier@example.com", ["Accounts User", "Sales User"]))
        self.browser.set_window_size(1000, 1400)
        self.browser.get(f"{self.url}/printview?doctype=POS%20Invoice&name={sale.name}&format=Ticket%20CFDI"
                         "&no_letterhead=1")
        self.wait_for(".ticket-code", sale.mx_ticket_code)
        self.shot("ticket-print-view")
        self.assertEqual(self.decoded_qr(self.wait_for("img.self-invoice-qr")), link)

        # The buyer, on a phone, without a Desk session.
        self.browser.delete_all_cookies()
        self.browser.set_window_size(*PHONE)
        self.browser.get(link)
        self.assertEqual(self.wait_for("#ml-code").get_attribute("value"), sale.mx_ticket_code)
        self.wait_for("h1", "Obtén tu factura")
        self.wait_for("#ml-total").send_keys(f"{sale.rounded_total or sale.grand_total:.2f}")
        self.shot("portal-ticket")
        self.browser.find_element("css selector", "#ml-ticket button").click()

        from selenium.webdriver.support.ui import Select

        self.wait_for("#ml-rfc").send_keys("GODE561231GR8")
        self.browser.find_element("css selector", "#ml-name").send_keys("Emiliano Godínez Díaz")
        Select(self.browser.find_element("css selector", "#ml-regime")).select_by_value("612")
        uses = [o.get_attribute("value") for o in Select(self.browser.find_element("css selector", "#ml-use")).options]
        self.assertIn("G03", uses)
        self.assertNotIn("CN01", uses, "only the uses SAT allows for the regime, for a purchase")
        Select(self.browser.find_element("css selector", "#ml-use")).select_by_value("G03")
        self.browser.find_element("css selector", "#ml-zip").send_keys("06600")
        self.browser.find_element("css selector", "#ml-email").send_keys("emiliano@example.com")
        self.browser.execute_script("document.getElementById('ml-buyer').scrollIntoView()")
        self.shot("portal-buyer")
        self.browser.find_element("css selector", "#ml-buyer button").click()

        uuid = self.wait_for(".ml-uuid").text
        frappe.db.rollback()  # a fresh snapshot: what the server and the worker committed
        row = frappe.db.get_value("CFDI", f"{sale.name}-I", ["uuid", "self_invoiced", "name"], as_dict=True)
        self.assertEqual((uuid, row.self_invoiced), (row.uuid, 1))
        self.wait_for(".ml-emailed", "e•••@example.com")
        self.shot("portal-done")
        self.browser.find_element("css selector", ".ml-download[data-file='xml']").click()
        target = Path(self.downloads) / f"{uuid}.xml"
        deadline = time.monotonic() + WAIT
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.25)
        self.assertTrue(target.exists(), "the XML was not downloaded")
        self.assertEqual(target.read_bytes(), kept_xml(row.name))

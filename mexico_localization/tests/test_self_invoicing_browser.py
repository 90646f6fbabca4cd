"""Self-invoicing in a real browser: headless Chromium (Debian's chromium and chromium-driver, driven
by Selenium) on a real web server of the site, with a real RQ worker stamping against the emulator.
The ticket's print view carries a QR that decodes to the page's link; a buyer on a phone-sized
screen opens it, types the total and their data, waits, and downloads their XML. It skips, and
says why, where Chromium or Selenium is missing; a failure leaves screenshots in ML_ARTIFACTS_DIR
(default: the site's private files, under ml-browser-artifacts)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import frappe

from mexico_localization.cfdi import self_invoice
from mexico_localization.einvoice.pipeline.records import kept_xml
from mexico_localization.tests.pos_fixtures import WALK_IN, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.web_server import running_site

CHROMIUM = os.environ.get("ML_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = os.environ.get("ML_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
PROFILE, ZIP = "ML Caja Navegador", "06900"
PHONE = (390, 844)  # CSS pixels of a common phone
WAIT = 90


def missing_tools() -> str:
    """Why the browser test cannot run here, or "" when it can."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        return "Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    for module, package in (("selenium", "selenium"), ("zxingcpp", "zxing-cpp"), ("PIL", "Pillow")):
        try:
            __import__(module)
        except ImportError:
            return f"{package} is not installed in the bench's Python (pip install {package})"
    return ""


SKIP = missing_tools()
if SKIP:
    print(f"\nbrowser test SKIPPED: {SKIP}", file=sys.stderr)


@unittest.skipIf(SKIP, SKIP)
class TestSelfInvoicingBrowser(StampingTestCase):
    own_till = (PROFILE, ZIP)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stack = contextlib.ExitStack()
        sites = frappe.utils.get_bench_path() + "/sites"
        cls.url = cls.stack.enter_context(running_site(frappe.local.site, sites))
        cls.worker = subprocess.Popen(  # a real worker, as production runs it, for the stamp the page waits for
            [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site, "worker",
             "--queue", "short"], cwd=sites, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.downloads = cls.stack.enter_context(tempfile.TemporaryDirectory(prefix="ml-downloads-"))
        cls.artifacts = Path(os.environ.get("ML_ARTIFACTS_DIR")
                             or frappe.get_site_path("private", "files", "ml-browser-artifacts"))
        cls.enable(enable_cancellation=1, enable_self_invoicing=1, self_invoice_base_url=cls.url,
                   store_contact="Tel. 55 1234 5678")
        frappe.db.sql("delete from `tabCustomer` where tax_id = 'GODE561231GR8'")
        frappe.db.commit()
        frappe.cache.delete_keys("rl:")

    @classmethod
    def tearDownClass(cls):
        cls.worker.terminate()
        cls.worker.wait(timeout=30)
        cls.stack.close()
        frappe.db.rollback()
        frappe.db.sql("delete from `tabCustomer` where tax_id = 'GODE561231GR8'")
        frappe.db.commit()
        super().tearDownClass()

    def setUp(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", f"--window-size={PHONE[0]},{PHONE[1]}"):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='ml-chromium-')}")
        options.add_experimental_option("prefs", {"download.default_directory": self.downloads,
                                                  "download.prompt_for_download": False})
        self.browser = webdriver.Chrome(service=Service(DRIVER), options=options)
        self.browser.set_window_size(*PHONE)

    def tearDown(self):
        self.browser.quit()

    # --- helpers --------------------------------------------------------------------------------------

    def wait_for(self, css: str, text: str | None = None):
        """The element a person would look at, once it shows (and says `text`)."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as seen
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(self.browser, WAIT)
        if text is not None:
            wait.until(seen.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, css)))

    @contextlib.contextmanager
    def screenshot_on_failure(self):
        """What the browser showed when a step failed, kept for whoever reads the failure."""
        try:
            yield
        except BaseException:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            path = self.artifacts / f"{self._testMethodName}-{int(time.time())}.png"
            self.browser.save_screenshot(str(path))
            print(f"\nscreenshot of the failure: {path}", file=sys.stderr)
            raise

    def shot(self, name: str) -> None:
        """The README's pictures, when asked for (ML_SCREENSHOTS=dir)."""
        if os.environ.get("ML_SCREENSHOTS"):
            Path(os.environ["ML_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            self.browser.save_screenshot(str(Path(os.environ["ML_SCREENSHOTS"]) / f"{name}.png"))

    def log_in(self) -> None:
        self.browser.get(f"{self.url}/login")
        self.wait_for("#login_email").send_keys("Administrator")
        self.browser.find_element("css selector", "#login_password").send_keys(
            frappe.conf.get("admin_password") or "admin")
        self.browser.find_element("css selector", ".btn-login").click()
        self.wait_for("body[data-route], .page-container, #page-desktop, .navbar")
        time.sleep(1)

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
        self.log_in()
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

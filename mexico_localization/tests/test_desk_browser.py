"""The Desk flows in a real browser (tests/browser.py), each as the role that uses it: the System
Manager configures and pings; the cashier sells at the Point of Sale and sees the CFDI stamped;
the CFDI Manager retries a Failed CFDI, re-generates from the list and cancels; the CFDI Auditor
reads the workspace and reports but not the Error Log; a user in Spanish reads Spanish."""

from __future__ import annotations

import time

import frappe

from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.tests.browser import WAIT, BrowserTestCase
from mexico_localization.tests.pos_fixtures import COMPANY, IVA_ACCOUNT, NOMINATIVE, PRICE_LIST, pos_invoice
from mexico_localization.tests.utils import PLANTED_KEY

PROFILE, ZIP = "ML Caja Escritorio", "06920"
ADMIN, CASHIER = "ml-desk-admin@example.com", "ml-desk-cashier@example.com"
MANAGER, AUDITOR, SPANISH = "ml-desk-manager@example.com", "ml-desk-auditor@example.com", "ml-desk-es@example.com"


class TestDeskBrowser(BrowserTestCase):
    own_till = (PROFILE, ZIP)
    partial_payments = True  # a deferred (PPD) sale, for the payment complements report

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        taxes = "ML IVA 16% incluido - MLMX"
        if not frappe.db.exists("Sales Taxes and Charges Template", taxes):
            frappe.get_doc({"doctype": "Sales Taxes and Charges Template", "title": "ML IVA 16% incluido",
                            "company": COMPANY, "taxes": [{"charge_type": "On Net Total", "account_head": IVA_ACCOUNT,
                                                           "rate": 16, "description": "IVA 16%",
                                                           "included_in_print_rate": 1}]}).insert()
        frappe.db.set_value("POS Profile", PROFILE, "taxes_and_charges", taxes)
        if not frappe.db.exists("Item Price", {"item_code": "ML-CAFE", "price_list": PRICE_LIST}):
            frappe.get_doc({"doctype": "Item Price", "item_code": "ML-CAFE", "price_list": PRICE_LIST,
                            "price_list_rate": 89.90}).insert()
        frappe.db.set_value("POS Profile", PROFILE, "customer", "ML Mostrador")  # its walk-in customer
        cls.person(ADMIN, ["System Manager"])
        # ERPNext lets Sales Manager (not Sales User) open a POS shift: a cashier holds it.
        cls.person(CASHIER, ["Accounts User", "Sales User", "Sales Manager"])
        cls.person(MANAGER, ["CFDI Manager", "Accounts User"])
        cls.person(AUDITOR, ["CFDI Auditor"])
        cls.person(SPANISH, ["CFDI Manager", "Accounts User"], language="es")

    def setUp(self):
        super().setUp()
        self.emulator.reset()
        self.enable(enable_cancellation=1)

    # --- helpers --------------------------------------------------------------------------------------

    def sale(self, fail: bool = False):
        """A sale to the named customer; with `fail`, SAT refuses its stamp (inline, before the test)."""
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 89.90)], profile=PROFILE, included=True)
        frappe.db.commit()
        if fail:
            self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40145")
            stamp(invoice.mx_cfdi)
            frappe.db.commit()
        return invoice

    def intro(self, text: str, reload_every: float = 3.0):
        """The form's message on top says `text`, reloading the page as a person would."""
        from selenium.common.exceptions import TimeoutException

        deadline = time.monotonic() + WAIT
        while True:
            try:
                return self.wait_for(".form-message", text, timeout=reload_every)
            except TimeoutException:
                if time.monotonic() > deadline:
                    raise
                self.browser.refresh()

    def indicator(self, text: str, color: str | None = None, reload_every: float = 3.0):
        """The form's CFDI indicator says `text` (in `color`), reloading the page as a person would."""
        from selenium.common.exceptions import TimeoutException

        deadline = time.monotonic() + WAIT
        while True:
            try:
                pill = self.wait_for(".form-dashboard .indicator-column .indicator", text, timeout=reload_every)
                break
            except TimeoutException:
                if time.monotonic() > deadline:
                    raise
                self.browser.refresh()
        if color:
            self.assertIn(color, pill.get_attribute("class").split(), f"{text} in {color}")
        return pill

    def field(self, fieldname: str):
        return self.wait_for(f'.frappe-control[data-fieldname="{fieldname}"] input, '
                             f'.frappe-control[data-fieldname="{fieldname}"] .control-value')

    def company_key(self, key: str) -> None:
        """Types `key` as the first company's Secret Key: the row opened from the Companies table, as a
        person edits it, then closed."""
        from selenium.webdriver.common.keys import Keys

        self.click('.frappe-control[data-fieldname="companies"] .grid-row[data-idx="1"] .btn-open-row')
        field = self.wait_for('.grid-row-open .frappe-control[data-fieldname="secret_key"] input')
        field.clear()
        field.send_keys(key)
        field.send_keys(Keys.ESCAPE)  # the row editor's own shortcut closes it
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.browser, WAIT).until(
            lambda browser: not browser.find_elements("css selector", ".grid-row-open"), "the row stays open")

    def save(self) -> None:
        """Save, as a person presses it, and wait until the form is saved."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait

        def saved(browser) -> bool:
            return browser.execute_script("return !cur_frm.is_dirty() && !cur_frm.saving")

        self.press("Save")
        try:
            WebDriverWait(self.browser, 10).until(saved)
        except TimeoutException:
            # On the rebuilt bench the first click on Save right after typing a password is lost (the
            # page head redraws under the pointer); a person then saves again, here with Ctrl+S.
            ActionChains(self.browser).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
            WebDriverWait(self.browser, WAIT).until(saved)

    def dialog(self, title: str):
        return self.wait_for(".modal.show .modal-title", title)

    def close_dialog(self) -> None:
        """Esc, as a person closes a dialog (the X's own icon may take a click while the dialog slides in)."""
        from selenium.webdriver.common.keys import Keys

        self.settled()
        self.wait_for(".modal.show").send_keys(Keys.ESCAPE)
        self.browser.find_element("css selector", "body").send_keys(Keys.ESCAPE)
        time.sleep(0.5)

    # --- the flows ------------------------------------------------------------------------------------

    def test_a_system_manager_configures_e_invoice_and_pings(self):
        with self.screenshot_on_failure():
            self.log_in(ADMIN)
            self.open("e-invoice-setting")
            url = self.field("server_url")
            url.clear()
            url.send_keys(self.emulator.url)
            self.company_key(PLANTED_KEY)
            self.save()
            self.press("Ping Server")
            self.dialog("Connected")
            body = self.wait_for(".modal.show .modal-body")
            self.assertIn("Connected to FacturaAPI", body.text)
            self.assertIn("emulator", body.text)
            self.shot("settings-ping")
            self.close_dialog()
            self.wait_for('.frappe-control[data-fieldname="companies"] [data-fieldname="last_ping_status"]',
                          "Connected")
            self.wait_for("body", "NO FISCAL VALIDITY")  # the form says so before anything else

            self.emulator.config.update({"keys": [PLANTED_KEY]})  # the server now knows one key only
            try:
                self.company_key("sk_test_SOMEBODYELSESKEY0123")
                self.save()
                self.press("Ping Server")
                self.dialog("Connection failed")
                self.wait_for(".modal.show .modal-body", "rejected the Secret Key")
            finally:
                self.emulator.config.update({"keys": None})
                self.enable(enable_cancellation=1)

    def test_a_cashier_sells_at_the_point_of_sale_and_sees_the_cfdi_stamped(self):
        if not frappe.db.exists("POS Opening Entry", {"pos_profile": PROFILE, "user": CASHIER, "status": "Open",
                                                      "docstatus": 1}):  # the cashier's own open shift
            entry = frappe.get_doc({"doctype": "POS Opening Entry", "pos_profile": PROFILE, "company": COMPANY,
                                    "user": CASHIER, "period_start_date": frappe.utils.now_datetime(),
                                    "posting_date": frappe.utils.nowdate(),
                                    "balance_details": [{"mode_of_payment": "ML Efectivo", "opening_amount": 0}]})
            entry.insert()
            entry.submit()
        self.enable(enable_cancellation=1, global_periodicity="Each ticket")  # a walk-in sale is stamped at once
        with self.screenshot_on_failure():
            self.log_in(CASHIER)
            self.browser.get(f"{self.url}/app/point-of-sale")
            self.click('.item-wrapper[data-item-code="ML-CAFE"]')
            self.wait_for(".cart-items-section", "Café de olla")
            self.click(".checkout-btn")
            self.wait_for(".submit-order-btn")
            time.sleep(1.5)  # the default payment mode takes the total
            self.shot("pos-payment")
            self.click(".submit-order-btn")
            self.dialog("Confirm")
            self.press("Yes", within=".modal.show")
            self.wait_for(".new-btn")  # the order's summary: it was submitted
            frappe.db.rollback()
            name = frappe.get_all("POS Invoice", filters={"owner": CASHIER, "docstatus": 1}, pluck="name",
                                  order_by="creation desc", limit=1)[0]
            self.open(f"pos-invoice/{name}")
            self.indicator("CFDI: Stamped", "green")
            frappe.db.rollback()
            uuid = frappe.db.get_value("POS Invoice", name, "mx_cfdi_uuid")
            self.assertTrue(uuid)
            self.wait_for('.frappe-control[data-fieldname="mx_cfdi_uuid"]', uuid)
            self.wait_for(".form-dashboard .indicator-column .indicator", "PRUEBA")
            self.shot("pos-invoice-stamped")

    def test_a_cfdi_manager_retries_regenerates_and_cancels(self):
        failed, first, second = self.sale(fail=True), self.sale(fail=True), self.sale(fail=True)
        with self.screenshot_on_failure("retry"):
            self.log_in(MANAGER)
            self.open(f"pos-invoice/{failed.name}")
            self.indicator("CFDI: Failed", "red")
            intro = self.wait_for(".form-message")
            self.assertIn("receptor", intro.text.lower())  # SAT's words, where the person reads them
            self.assertIn(f"Fix the Legal Name of Customer {NOMINATIVE}", intro.text)  # what to change where
            link = intro.find_element("css selector", "a.mx-fix-link")
            self.assertTrue(link.get_attribute("href").endswith("/app/customer/" + NOMINATIVE.replace(" ", "%20")))
            self.shot("pos-invoice-failed")
            self.press("Retry CFDI")
            self.wait_for(".alert-message, .desk-alert", "CFDI queued again")
            self.indicator("CFDI: Stamped", "green")

        with self.screenshot_on_failure("bulk"):
            self.browser.get(f"{self.url}/app/pos-invoice?name=%5B%22in%22%2C%5B%22{first.name}%22%2C%22"
                             f"{second.name}%22%5D%5D")
            self.wait_for(".list-row-container")
            time.sleep(1)
            for box in self.browser.find_elements("css selector", ".list-row-container .list-row-checkbox"):
                self.click(box)
            self.press("Actions")
            self.press("Generate CFDI")
            self.wait_for(".modal.show .modal-body", "2 invoices will get their CFDI.")
            self.press("Yes", within=".modal.show")
            self.dialog("Completed")
            self.wait_for(".modal.show .modal-body", "Stamped 2, failed 0")
            self.shot("bulk-regeneration")
            self.close_dialog()

        with self.screenshot_on_failure("cfdi-form-retry"):
            another = self.sale(fail=True)
            self.browser.get(f"{self.url}/app/pos-invoice?name={another.name}")
            self.wait_for(".list-row-container", "Failed")  # the list's CFDI Status column
            self.open(f"cfdi/{another.mx_cfdi}")
            self.wait_for('.frappe-control[data-fieldname="last_error"]', "receptor")  # not folded away
            self.press("Retry CFDI")  # from the fiscal record itself
            self.wait_for(".alert-message, .desk-alert", "CFDI queued again")
            deadline = time.monotonic() + WAIT
            while frappe.db.get_value("CFDI", another.mx_cfdi, "status") != "Stamped" and time.monotonic() < deadline:
                time.sleep(1)
                frappe.db.rollback()
            self.browser.refresh()
            self.wait_for('.frappe-control[data-fieldname="status"]', "Stamped")

        with self.screenshot_on_failure("cancel"):
            frappe.db.rollback()
            cfdi = frappe.db.get_value("POS Invoice", first.name, "mx_cfdi")
            self.open(f"cfdi/{cfdi}")
            self.press("Cancel CFDI")
            self.dialog("Cancel CFDI")
            select = self.wait_for('.modal.show select[data-fieldname="motive"]')
            from selenium.webdriver.support.ui import Select

            Select(select).select_by_value("02")
            self.press("Request cancellation", within=".modal.show")
            self.wait_for(".alert-message, .desk-alert", "Cancellation requested")
            deadline = time.monotonic() + WAIT
            while frappe.db.get_value("CFDI", cfdi, "status") != "Cancelled" and time.monotonic() < deadline:
                time.sleep(1)
                frappe.db.rollback()
            self.browser.refresh()
            self.wait_for('.frappe-control[data-fieldname="status"]', "Cancelled")

    def test_an_accountant_invoices_on_credit_and_sees_ppd_then_the_cfdi(self):
        """A Sales Invoice (B2B, on credit): the form says PPD while the due date is later, PUE when it is
        the invoice's own date; submitted, its CFDI is stamped and shown on the form."""
        from frappe.utils import add_days, nowdate

        from mexico_localization.tests.pos_fixtures import sales_invoice

        draft = sales_invoice(NOMINATIVE, [("ML-CAFE", 2, 100)], due_days=30, payment_form="03", submit=False)
        frappe.db.commit()
        with self.screenshot_on_failure("sales-invoice"):
            self.log_in(MANAGER)  # a CFDI Manager who keeps the accounts
            self.open(f"sales-invoice/{draft.name}")
            self.wait_for('.frappe-control[data-fieldname="mx_payment_method"]', "PPD")
            self.browser.execute_script("cur_frm.set_value('due_date', arguments[0])", nowdate())
            self.wait_for('.frappe-control[data-fieldname="mx_payment_method"]', "PUE")
            self.browser.execute_script("cur_frm.set_value('due_date', arguments[0])", add_days(nowdate(), 30))
            self.wait_for('.frappe-control[data-fieldname="mx_payment_method"]', "PPD")
            self.save()
            self.press("Submit")
            self.press("Yes", within=".modal.show")
            self.intro("CFDI: Stamped")  # on top of a form with tabs (its dashboard is under Connections)
            self.wait_for('.frappe-control[data-fieldname="mx_payment_method"]', "PPD")
            self.shot("sales-invoice-stamped")
        frappe.db.rollback()
        row = frappe.db.get_value("CFDI", {"reference_name": draft.name}, ["payment_method", "status"])
        self.assertEqual(row, ("PPD", "Stamped"))

    def test_an_auditor_reads_the_workspace_and_reports_but_not_error_logs(self):
        sale = self.sale()
        deferred = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 89.90)], profile=PROFILE, included=True, cash=50)
        frappe.db.commit()
        for invoice in (sale, deferred):
            stamp(invoice.mx_cfdi)
        # The till's payment complement stays pending (FacturaAPI busy), so the report has a row to show.
        self.emulator.add_fault("create_invoice", "server_error", times=50, status=503)
        frappe.db.set_value("CFDI", sale.mx_cfdi, "self_invoiced", 1)  # as if its buyer had asked on /factura
        frappe.db.commit()
        with self.screenshot_on_failure():
            self.log_in(AUDITOR)
            self.browser.get(f"{self.url}/app/cfdi-m%C3%A9xico")
            for card in ("CFDIs Failed", "CFDIs Stamped Today", "Self-invoiced CFDIs"):
                self.wait_for(".number-widget-box", card, any_case=True)
            self.shot("workspace")
            for report, shown in (("CFDI Reconciliation", sale.name), ("CFDI Audit Trail", sale.mx_cfdi),
                                  ("Facturapi Calls", sale.mx_cfdi), ("Self-invoiced Sales", sale.name),
                                  ("Pending Payment Complements", deferred.name)):
                self.browser.get(f"{self.url}/app/query-report/{report}")
                self.wait_for(".dt-scrollable .dt-row", None)  # rows, as a person sees them
                self.assertTrue(self.browser.execute_script(
                    "return frappe.query_report.data.some((row) => Object.values(row).includes(arguments[0]))",
                    shown), f"{report} lists {shown}")
            self.browser.get(f"{self.url}/app/error-log")  # IT's, not finance's: Frappe does not even show it
            self.wait_for(".modal.show, .page-card", None)
            self.assertRegex(self.browser.find_element("css selector", "body").text,
                             r"(?i)not permitted|no permission|page error-log not found")
            self.assertFalse(self.browser.find_elements("css selector", ".list-row-container"))

    def test_a_user_in_spanish_reads_spanish(self):
        failed = self.sale(fail=True)
        with self.screenshot_on_failure():
            self.log_in(SPANISH)
            self.open(f"pos-invoice/{failed.name}")
            self.indicator("CFDI: Fallido", "red")
            self.button("Reintentar CFDI")

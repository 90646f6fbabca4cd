"""Self-invoicing through a real web server, as a guest: the buyer's whole road from a walk-in ticket
to their stamped CFDI and its files, before and after the global; and what the page refuses (a
wrong code or total alike, a second CFDI, past the cut-off, too many tries, a forged request, GET)."""

from __future__ import annotations

import calendar
import json
from concurrent.futures import ThreadPoolExecutor

import frappe
import requests
from frappe.utils import add_days, get_datetime, getdate, nowdate

from mexico_localization.cfdi.ticket import new_ticket_code
from mexico_localization.cfdi.validation import blocking, receiver_problems
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.operations.walk_in import issue_due_globals
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.einvoice.pipeline.records import PORTAL_SERVICE, kept_xml
from mexico_localization.einvoice.self_invoice.buyers import Typed
from mexico_localization.mexico_localization.report.self_invoiced_sales.self_invoiced_sales import execute
from mexico_localization.tests.pos_fixtures import WALK_IN, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, run_worker_burst
from mexico_localization.tests.web_server import running_site

PROFILE, ZIP = "ML Caja Autofactura", "06800"
METHOD = "/api/method/mexico_localization.einvoice.self_invoice.portal."
BUYER = {"tax_id": "GODE561231GR8", "legal_name": "Emiliano Godínez Díaz", "tax_regime": "612",
         "cfdi_use": "G03", "zip_code": "06600", "email": "emiliano@example.com"}


class TestSelfInvoicing(StampingTestCase):
    own_till = (PROFILE, ZIP)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = running_site(frappe.local.site, frappe.utils.get_bench_path() + "/sites")
        cls.url = cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        frappe.db.rollback()
        frappe.db.sql("delete from `tabCustomer` where tax_id in ('GODE561231GR8', 'MAHJ280603TN6')")
        frappe.db.commit()
        super().tearDownClass()

    def setUp(self):
        self.emulator.reset()
        self.open_portal()
        frappe.db.sql("""update `tabPOS Invoice` set mx_cfdi_status='Not Applicable'
                         where pos_profile=%s and mx_cfdi_status='Awaiting Global'""", PROFILE)
        frappe.db.sql("delete from `tabCustomer` where tax_id in ('GODE561231GR8', 'MAHJ280603TN6')")
        frappe.db.sql("delete from `tabIntegration Request` where integration_request_service = %s", PORTAL_SERVICE)
        frappe.db.commit()
        frappe.cache.delete_keys("rl:")
        frappe.cache.delete_keys("ml:self_invoice:")
        self.ip = 0

    # --- helpers --------------------------------------------------------------------------------------

    def open_portal(self, **values) -> None:
        self.enable(**{"enable_cancellation": 1, "global_periodicity": "Daily", "enable_self_invoicing": 1,
                       "self_invoice_base_url": self.url, "self_invoice_cutoff": "End of the Sale's Month",
                       "store_contact": "Tel. 55 1234 5678", **values})

    def post(self, method: str, ip: str | None = None, **data) -> requests.Response:
        """A guest's POST, from an address of its own unless `ip` is given (the per-IP limit is tested
        apart; the per-ticket limit holds whatever address a request claims)."""
        self.ip += 1
        response = requests.post(self.url + METHOD + method, data=data, timeout=60,
                                 headers={"X-Forwarded-For": ip or f"10.0.0.{self.ip}", "Accept": "application/json"})
        frappe.db.rollback()  # a fresh snapshot: what the server committed
        return response

    def ask(self, method: str, **data) -> dict:
        response = self.post(method, **data)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["message"]

    def ticket(self, days_ago: int = 0, lines=(("ML-CAFE", 1, 19.90),)):
        sale = pos_invoice(WALK_IN, list(lines), profile=PROFILE, submit=False, included=True)  # shelf prices
        if days_ago:
            sale.set_posting_time = 1
            sale.posting_date = add_days(nowdate(), -days_ago)
        sale.submit()
        frappe.db.commit()
        sale.reload()
        return sale

    @staticmethod
    def key(sale) -> dict:
        return {"code": sale.mx_ticket_code, "total": f"{sale.rounded_total or sale.grand_total:.2f}"}

    def portal_records(self, sale=None) -> list[frappe._dict]:
        filters = {"integration_request_service": PORTAL_SERVICE}
        if sale:
            filters["reference_docname"] = sale.name
        return frappe.get_all("Integration Request", filters=filters, order_by="creation asc",
                              fields=["request_description", "status", "reference_docname", "data"])

    def stamp_queued(self) -> None:
        """The web request queued the stamp job after its commit; a real worker runs it."""
        run_worker_burst()
        frappe.db.rollback()  # see the worker's commits

    # --- the buyer's road -----------------------------------------------------------------------------

    def test_a_buyer_turns_a_walk_in_ticket_into_their_cfdi_and_downloads_it(self):
        sale, other = self.ticket(), self.ticket()
        page = requests.get(f"{self.url}/factura?codigo={sale.mx_ticket_code}", timeout=60)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Obtén tu factura", page.text)
        self.assertIn(sale.mx_ticket_code, page.text)

        opened = self.ask("look_up", code=sale.mx_ticket_code.lower().replace("-", ""), total="$19.90")
        self.assertEqual(opened["state"], "open", opened)
        today = getdate(nowdate())
        month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        self.assertEqual(opened["ticket"]["deadline"], month_end.strftime("%d/%m/%Y"))

        asked = self.ask("request_cfdi", **self.key(sale), **BUYER)
        self.assertEqual(asked["state"], "working", asked)
        row = frappe.get_doc("CFDI", f"{sale.name}-I")
        self.assertEqual((row.self_invoiced, row.receiver_use, row.receiver_email, row.status),
                         (1, "G03", "emiliano@example.com", "Queued"))
        customer = frappe.get_doc("Customer", row.receiver_customer)
        self.assertEqual((customer.tax_id, customer.mx_legal_name, customer.mx_tax_regime, customer.mx_fiscal_zip),
                         ("GODE561231GR8", "EMILIANO GODÍNEZ DÍAZ", "612", "06600"))
        self.assertFalse(customer.mx_cfdi_email, "the buyer's e-mail stays on their CFDI, not on the customer")
        self.assertTrue(customer.mx_sat_checked_at, "checked with SAT before stamping")
        self.assertEqual(self.ask("cfdi_status", **self.key(sale))["state"], "working")

        self.stamp_queued()
        done = self.ask("cfdi_status", **self.key(sale))
        self.assertEqual(done["state"], "invoiced", done)
        row.reload()
        self.assertEqual((done["cfdi"]["uuid"], done["cfdi"]["email"]), (row.uuid, "e•••@example.com"))
        body = self.emulator.state.invoices[row.facturapi_id]
        self.assertEqual((body["customer"]["tax_id"], body["use"]), ("GODE561231GR8", "G03"))
        self.assertIn({"invoice": row.facturapi_id, "to": "emiliano@example.com"},
                      self.emulator.state.summary()["emails"])

        xml = self.post("download", **self.key(sale), file="xml")
        self.assertEqual(xml.status_code, 200)
        self.assertEqual(xml.content, kept_xml(row.name))
        self.assertIn(row.uuid, xml.headers["Content-Disposition"])
        pdf = self.post("download", **self.key(sale), file="pdf")
        self.assertEqual((pdf.status_code, pdf.content[:4]), (200, b"%PDF"))

        made = issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
        mine = [n for n in made if f"-{ZIP}-" in n]
        self.assertEqual([t.pos_invoice for t in frappe.get_doc("CFDI", mine[0]).tickets], [other.name],
                         "the ticket left the coming global")
        listed = execute({"from_date": nowdate(), "to_date": nowdate()})[1]
        self.assertIn((sale.name, row.name, "GODE561231GR8", "Stamped"),
                      [(r.sale, r.cfdi, r.tax_id, r.status) for r in listed])
        outcomes = [(r.request_description, r.status) for r in self.portal_records(sale)]
        self.assertEqual(outcomes, [("look_up: open", "Completed"), ("request_cfdi: working", "Completed"),
                                    ("status: invoiced", "Completed"), ("download: xml sent", "Completed"),
                                    ("download: pdf sent", "Completed")])
        self.assertEqual(json.loads(self.portal_records(sale)[0].data)["ip"], "10.0.0.1")

    def test_a_ticket_already_in_a_stamped_global_leaves_it_and_the_rest_is_reissued(self):
        sale, other = self.ticket(), self.ticket(lines=(("ML-PAN", 2, 9.90),))
        made = issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
        old = next(n for n in made if f"-{ZIP}-" in n)
        stamp(old)
        self.assertEqual(self.ask("look_up", **self.key(sale))["state"], "open")

        self.assertEqual(self.ask("request_cfdi", **self.key(sale), **BUYER)["state"], "working")
        nominative = frappe.get_doc("CFDI", f"{sale.name}-I")
        self.assertEqual((nominative.replaces_global, nominative.self_invoiced), (old, 1))
        self.stamp_queued()  # the nominative, then its follow-up: the global cancelled with motive 04
        self.assertEqual(self.ask("cfdi_status", **self.key(sale))["state"], "invoiced")
        old_row = frappe.get_doc("CFDI", old)
        if old_row.status == "Cancel Requested":
            cancel(old)
            old_row.reload()
        self.assertEqual((old_row.status, old_row.cancellation_motive), ("Cancelled", "04"))
        new = old_row.reissued_as
        self.assertEqual([t.pos_invoice for t in frappe.get_doc("CFDI", new).tickets], [other.name])

    # --- what it refuses ----------------------------------------------------------------------------

    def test_a_wrong_code_and_a_wrong_total_get_the_same_answer(self):
        sale = self.ticket()
        wrong_total = self.ask("look_up", code=sale.mx_ticket_code, total="19.91")
        wrong_code = self.ask("look_up", code=new_ticket_code(), total="19.90")
        self.assertEqual(wrong_total, wrong_code)
        self.assertEqual(set(wrong_total), {"state", "message"}, "nothing of any ticket is shown")
        self.assertEqual(wrong_total["state"], "not_found")
        typo = self.ask("look_up", code=sale.mx_ticket_code[:-1] + ("0" if sale.mx_ticket_code[-1] != "0" else "1"),
                        total="19.90")
        self.assertEqual(typo["state"], "typo")
        for method in ("request_cfdi", "cfdi_status", "returning_buyer", "download"):
            answer = self.ask(method, code=sale.mx_ticket_code, total="1.00", file="xml", **BUYER)
            self.assertEqual(answer["state"], "not_found", method)
        self.assertFalse(frappe.db.exists("CFDI", f"{sale.name}-I"))
        refused = [r for r in self.portal_records() if r.request_description.startswith("look_up: not_found")]
        self.assertEqual([(r.status, r.reference_docname) for r in refused], [("Failed", None)] * 2)

    def test_a_second_request_shows_the_cfdi_again_never_a_second_one(self):
        sale = self.ticket()
        self.ask("request_cfdi", **self.key(sale), **BUYER)
        again = self.ask("request_cfdi", **self.key(sale), **{**BUYER, "tax_id": "MAHJ280603TN6",
                                                                 "legal_name": "Juana Martínez"})
        self.assertEqual(again["state"], "working")
        self.stamp_queued()
        shown = self.ask("request_cfdi", **self.key(sale), **BUYER)
        self.assertEqual(shown["state"], "invoiced")
        self.assertEqual(frappe.db.count("CFDI", {"reference_name": sale.name}), 1)
        external_id = frappe.db.get_value("CFDI", f"{sale.name}-I", "external_id")
        self.assertEqual(self.emulator.state.summary()["stamps_per_external_id"].get(external_id), 1)
        self.assertFalse(frappe.db.exists("Customer", {"tax_id": "MAHJ280603TN6"}))

    def test_a_request_sat_refused_can_be_corrected_and_sent_again(self):
        sale = self.ticket()
        self.ask("request_cfdi", **self.key(sale), **BUYER)
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40147")
        stamp(f"{sale.name}-I")  # inline: a queued job of another test must not meet the fault first
        refused = self.ask("cfdi_status", **self.key(sale))
        self.assertEqual(refused["state"], "failed", refused)
        self.assertIn(frappe.db.get_value("CFDI", f"{sale.name}-I", "last_error").strip(), refused["message"])
        corrected = self.ask("request_cfdi", **self.key(sale), **{**BUYER, "cfdi_use": "G01"})
        self.assertEqual(corrected["state"], "working")
        stamp(f"{sale.name}-I")
        self.assertEqual(self.ask("cfdi_status", **self.key(sale))["state"], "invoiced")
        row = frappe.get_doc("CFDI", f"{sale.name}-I")
        self.assertEqual(self.emulator.state.invoices[row.facturapi_id]["use"], "G01")
        self.assertEqual(frappe.db.count("CFDI", {"reference_name": sale.name}), 1)

    def test_past_the_cut_off_the_buyer_is_sent_to_the_store(self):
        sale = self.ticket(days_ago=getdate(nowdate()).day)  # the last day of the previous month
        answer = self.ask("look_up", **self.key(sale))
        self.assertEqual(answer["state"], "expired")
        self.assertIn("Tel. 55 1234 5678", answer["message"])
        self.assertEqual(self.ask("request_cfdi", **self.key(sale), **BUYER)["state"], "expired")
        self.assertFalse(frappe.db.exists("CFDI", f"{sale.name}-I"))
        self.open_portal(self_invoice_cutoff="Days after the Sale", self_invoice_days=40)
        self.assertEqual(self.ask("look_up", **self.key(sale))["state"], "open")

    def test_the_data_is_checked_as_at_the_till_and_with_sat(self):
        sale = self.ticket()
        bad = {**BUYER, "tax_regime": "601", "zip_code": "6600"}  # a company's regime for a person; a short zip
        answer = self.ask("request_cfdi", **self.key(sale), **bad)
        typed = Typed.tidy(bad["tax_id"], bad["legal_name"], "601", "G03", "6600", bad["email"])
        frappe.local.lang = "es"
        till = [translate(p) for p in blocking(receiver_problems(typed.receiver(), typed.legal_name))]
        self.assertTrue(till)
        self.assertEqual(answer["problems"], till)
        self.assertIn("generic", self.ask("request_cfdi", **self.key(sale), **{**BUYER, "tax_id": "XAXX010101000"},
                                          lang="en")["problems"][0])
        self.emulator.add_sat_record("GODE561231GR8", "EMILIANO GODINEZ DIAZ", "612", "06600")
        answer = self.ask("request_cfdi", **self.key(sale), **BUYER, lang="en")
        self.assertIn("Legal name", answer["problems"][0])
        self.assertFalse(frappe.db.exists("CFDI", f"{sale.name}-I"))
        self.assertFalse(frappe.db.exists("Customer", {"tax_id": "GODE561231GR8"}))

    def test_a_returning_rfc_is_offered_its_data_only_after_the_full_rfc(self):
        sale = self.ticket()
        self.ask("request_cfdi", **self.key(sale), **BUYER)
        later = self.ticket()
        self.assertIsNone(self.ask("returning_buyer", **self.key(later), tax_id="GODE561231GR")["buyer"])
        offered = self.ask("returning_buyer", **self.key(later), tax_id="gode561231gr8")["buyer"]
        self.assertEqual(offered, {"legal_name": "EMILIANO GODÍNEZ DÍAZ", "tax_regime": "612", "zip": "06600",
                                   "cfdi_use": "G03"})
        self.assertEqual(self.ask("returning_buyer", code=later.mx_ticket_code, total="0.01",
                                  tax_id="GODE561231GR8"), self.ask("look_up", code=new_ticket_code(), total="1"))
        self.assertIsNone(self.ask("returning_buyer", **self.key(later), tax_id="EKU9003173C9")["buyer"],
                          "a customer the store registered is not offered to a ticket holder")

    def test_an_existing_customer_is_corrected_only_with_sat_s_word(self):
        self.ask("request_cfdi", **self.key(self.ticket()), **BUYER)
        later, moved = self.ticket(), {**BUYER, "zip_code": "44100"}
        self.emulator.add_fault("create_customer", "server_error", times=1)
        answer = self.ask("request_cfdi", **self.key(later), **moved, lang="en")
        self.assertIn("SAT cannot be asked to confirm it right now", answer["problems"][0])
        self.assertEqual(frappe.db.get_value("Customer", {"tax_id": "GODE561231GR8"}, "mx_fiscal_zip"), "06600")
        self.assertFalse(frappe.db.exists("CFDI", f"{later.name}-I"))
        self.assertEqual(self.ask("request_cfdi", **self.key(later), **moved)["state"], "working")
        self.assertEqual(frappe.db.get_value("Customer", {"tax_id": "GODE561231GR8"}, "mx_fiscal_zip"), "44100")

    def test_too_many_tries_are_refused_per_ticket_whatever_the_address_and_per_address(self):
        sale = self.ticket()
        typed = [sale.mx_ticket_code, sale.mx_ticket_code.lower(), sale.mx_ticket_code.replace("-", " ")]
        codes = [self.post("look_up", code=typed[i % 3], total=f"{i}.00").status_code for i in range(11)]
        self.assertEqual(codes, [200] * 10 + [429])
        self.assertEqual(self.post("look_up", **self.key(sale)).status_code, 429, "even with the right total")
        self.assertEqual(self.portal_records()[-1].request_description, "look_up: rate_limited")
        frappe.cache.delete_keys("rl:")
        codes = [self.post("look_up", ip="10.9.9.9", code=new_ticket_code(), total="1").status_code
                 for _ in range(31)]
        self.assertEqual(codes, [200] * 30 + [429])

    def test_a_forged_request_reaches_no_other_ticket_and_state_changes_are_post_only(self):
        mine, theirs = self.ticket(), self.ticket(lines=(("ML-PAN", 3, 9.90),))
        forged = self.ask("request_cfdi", code=mine.mx_ticket_code, total=self.key(theirs)["total"], **BUYER)
        self.assertEqual(forged["state"], "not_found")
        answer = self.ask("request_cfdi", **self.key(mine), **BUYER, invoice=theirs.name, name=theirs.name,
                          reference_name=theirs.name)
        self.assertEqual(answer["state"], "working")
        self.assertFalse(frappe.db.exists("CFDI", {"reference_name": theirs.name}))
        self.assertEqual(frappe.db.get_value("POS Invoice", theirs.name, "mx_cfdi_status"), "Awaiting Global")
        got = requests.get(self.url + METHOD + "request_cfdi", params={**self.key(theirs), **BUYER}, timeout=60)
        self.assertNotEqual(got.status_code, 200)
        self.assertFalse(frappe.db.exists("CFDI", {"reference_name": theirs.name}))
        desk = requests.post(self.url + "/api/method/mexico_localization.einvoice.api.request_nominative",
                             data={"invoice": theirs.name, "customer": WALK_IN}, timeout=60)
        self.assertEqual(desk.status_code, 403, "the Desk's own methods stay closed to guests")


    def test_two_requests_at_once_make_one_cfdi(self):
        sale = self.ticket()
        def request(ip: str) -> dict:  # in its own thread: plain HTTP, no Frappe there
            return requests.post(self.url + METHOD + "request_cfdi", data={**self.key(sale), **BUYER}, timeout=60,
                                 headers={"X-Forwarded-For": ip}).json()["message"]

        self.emulator.add_fault("create_customer", "latency", times=2, ms=1500)  # both are in flight together
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(request, ["10.1.0.1", "10.1.0.2"]))
        frappe.db.rollback()
        self.assertEqual({a["state"] for a in answers}, {"working"}, answers)
        self.assertEqual(frappe.db.count("CFDI", {"reference_name": sale.name}), 1)
        self.assertEqual(frappe.db.count("Customer", {"tax_id": "GODE561231GR8"}), 1)

    def test_wrong_totals_are_counted_across_every_endpoint(self):
        sale = self.ticket()
        for n, method in enumerate(["look_up", "cfdi_status", "returning_buyer", "download", "request_cfdi"] * 2):
            self.assertEqual(self.post(method, code=sale.mx_ticket_code, total=f"{n}.01", tax_id="X", file="xml",
                                       **{k: v for k, v in BUYER.items() if k != "tax_id"}).status_code, 200)
        self.assertEqual(self.post("look_up", **self.key(sale)).status_code, 429, "the right total, too late")
        self.assertEqual(self.post("cfdi_status", **self.key(sale)).status_code, 429)

    def test_a_failure_the_buyer_cannot_fix_sends_them_to_the_store(self):
        sale = self.ticket()
        self.ask("request_cfdi", **self.key(sale), **BUYER)
        self.emulator.add_fault("create_invoice", "sat_rejection")
        stamp(f"{sale.name}-I")
        self.assertEqual(self.ask("look_up", **self.key(sale))["state"], "failed")
        frappe.db.set_value("CFDI", f"{sale.name}-I", "last_error_code", "invalid_data")  # the store's own data
        frappe.db.commit()
        self.assertEqual(self.ask("look_up", **self.key(sale))["state"], "unavailable")
        self.assertEqual(self.ask("request_cfdi", **self.key(sale), **BUYER)["state"], "unavailable")

    def test_no_e_mail_is_promised_when_the_store_does_not_send_it(self):
        sale = self.ticket()
        self.open_portal(email_cfdi=0)
        self.ask("request_cfdi", **self.key(sale), **BUYER)
        stamp(f"{sale.name}-I")
        shown = self.ask("cfdi_status", **self.key(sale))
        self.assertEqual((shown["state"], shown["cfdi"]["email"]), ("invoiced", ""))


class TestSelfInvoicingSetting(StampingTestCase):
    """The settings an administrator fills in: a public address the buyer's phone can open."""

    @staticmethod
    def page_context() -> frappe._dict:
        from mexico_localization.www.factura import get_context

        context = frappe._dict()
        get_context(context)
        frappe.local.lang = "en"
        return context

    def test_the_public_site_url_must_be_an_address_buyers_can_open(self):
        for url in ("facturas.mitienda.mx", "http://facturas.mitienda.mx", "https://facturas.mitienda.mx/factura",
                    "ftp://facturas.mitienda.mx", "", "https://a<img src=x onerror=alert(1)>", "https://a b.mx"):
            with self.assertRaises(frappe.ValidationError, msg=url):
                self.enable(enable_self_invoicing=1, self_invoice_base_url=url)
        for url in ("https://facturas.mitienda.mx/", "http://127.0.0.1:8000", "http://tienda.localhost"):
            self.enable(enable_self_invoicing=1, self_invoice_base_url=url)
            self.assertEqual(frappe.db.get_single_value("E Invoice Setting", "self_invoice_base_url"), url.rstrip("/"))
        self.enable(enable_e_invoice=0, enable_self_invoicing=1, self_invoice_base_url="https://a.mx")
        self.assertFalse(self.page_context().enabled, "with E Invoice off the page says it is not available")
        self.enable(enable_self_invoicing=0)

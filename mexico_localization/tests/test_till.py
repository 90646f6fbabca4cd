"""At the till: a bad RFC is named before payment; Block stops a nominative sale, Warn lets it
through; walk-in sales are never blocked; a real POS Invoice maps to the expected body."""

from datetime import datetime
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from mexico_localization.cfdi.mapping import build_invoice
from mexico_localization.einvoice.gather import sale_from_invoice
from mexico_localization.testing.totals import sat_total
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice, shop
from mexico_localization.tests.utils import configure


class TestTill(FrappeTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = shop()

    def setUp(self):
        configure("http://127.0.0.1:8787/v2", company=self.shop.company, enable_e_invoice=1)
        frappe.db.set_value("Customer", NOMINATIVE, "tax_id", "EKU9003173C9")
        frappe.clear_document_cache("Customer", NOMINATIVE)
        frappe.local.message_log = []

    def messages(self) -> str:
        return " ".join(str(m) for m in frappe.local.message_log)

    def bad_rfc(self):
        frappe.db.set_value("Customer", NOMINATIVE, "tax_id", "EKU90031")
        frappe.clear_document_cache("Customer", NOMINATIVE)

    def test_bad_rfc_blocks_a_nominative_sale_and_says_why(self):
        self.bad_rfc()
        with self.assertRaises(frappe.ValidationError) as caught:
            pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)], submit=False)
        self.assertIn("RFC EKU90031", str(caught.exception))
        self.assertIn("Público en General", str(caught.exception))

    def test_warn_lets_the_sale_through_with_the_warning(self):
        self.bad_rfc()
        configure("http://127.0.0.1:8787/v2", company=self.shop.company, enable_e_invoice=1,
                  incomplete_customer_action="Warn")
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
        self.assertEqual(invoice.docstatus, 1)
        self.assertIn("RFC EKU90031", self.messages())

    def test_walk_in_sales_are_never_blocked(self):
        frappe.db.set_value("POS Profile", self.shop.profile, "mx_expedition_zip", "")
        frappe.clear_document_cache("POS Profile", self.shop.profile)
        try:
            invoice = pos_invoice(self.shop.walk_in, [("ML-CAFE", 1, 80)])
            self.assertEqual(invoice.docstatus, 1)
            self.assertIn("Expedition Zip", self.messages())
        finally:
            frappe.db.set_value("POS Profile", self.shop.profile, "mx_expedition_zip", "06600")
            frappe.clear_document_cache("POS Profile", self.shop.profile)

    def test_no_check_when_e_invoice_is_off_or_another_company(self):
        self.bad_rfc()
        configure("http://127.0.0.1:8787/v2", company=self.shop.company, enable_e_invoice=0)
        self.assertEqual(pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)]).docstatus, 1)
        self.assertEqual(self.messages(), "")

    def test_a_good_sale_passes_silently_and_maps_to_the_expected_body(self):
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80), ("ML-PAN", 3, 12.5)], cash=300)
        self.assertEqual(self.messages(), "")
        built = build_invoice(sale_from_invoice(invoice), datetime.now().astimezone())
        body = built.body
        self.assertEqual(body["customer"], {"legal_name": "ESCUELA KEMPER URGATE", "tax_id": "EKU9003173C9",
                                            "tax_system": "601", "address": {"zip": "26015"},
                                            "email": "facturas@kemper.example"})
        self.assertEqual((body["use"], body["payment_form"], body["payment_method"]), ("G03", "01", "PUE"))
        self.assertEqual((body["address"], body["series"]), ({"zip": "06600"}, "C1"))
        cafe, pan = body["items"]
        self.assertEqual((cafe["quantity"], cafe["discount"], cafe["product"]["price"]), (2, 0, 80))
        self.assertEqual(cafe["product"]["product_key"], "50201706")  # from its Item Group
        self.assertEqual(pan["product"]["product_key"], "50181900")   # its own
        self.assertEqual(cafe["product"]["unit_key"], "H87")
        self.assertEqual(cafe["product"]["taxes"], [{"type": "IVA", "rate": 0.16}])
        self.assertEqual((cafe["product"]["sku"], cafe["product"]["tax_included"]), ("ML-CAFE", False))
        self.assertTrue(body["date"].startswith(str(invoice.posting_date)))
        self.assertEqual(sat_total(built.body), Decimal(str(flt(invoice.grand_total, 2))))
        self.assertEqual(flt(invoice.grand_total), 229.10)  # (160 + 37.50) × 1.16

    def test_card_paying_most_sets_the_payment_form(self):
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 100)], cash=20, card=100)
        body = build_invoice(sale_from_invoice(invoice), datetime.now().astimezone()).body
        self.assertEqual(body["payment_form"], "28")  # cash 20 − change 4 = 16 < card 100

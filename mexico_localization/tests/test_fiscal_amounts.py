"""Issue 17's amounts where ERPNext makes them, against the emulator: tax-included shelf prices, IEPS
inside the price or apart, a complement's IVA base with IEPS read from the stamped XML, one Pago node
per form of a till payment, a credit note that only lowers an unpaid balance, and Check with SAT."""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.utils import flt

from mexico_localization.einvoice import api
from mexico_localization.einvoice.kinds.payment_complement import standing_payments
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.testing.totals import sat_total
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice, pos_return
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of
from mexico_localization.tests.test_fiscal_rules import customer
from mexico_localization.tests.utils import make_user

PROFILE, ZIP = "ML Caja Montos", "06750"


class TestFiscalAmounts(StampingTestCase):
    own_till = (PROFILE, ZIP)
    partial_payments = True

    def setUp(self):
        self.emulator.reset()
        self.enable(enable_cancellation=1)
        frappe.db.set_value("Customer", NOMINATIVE, "mx_ieps_breakdown", 0)
        frappe.db.commit()

    def body(self, row) -> dict:
        return self.emulator.state.invoices[row.facturapi_id]

    def stamped(self, doc):
        frappe.db.commit()
        stamp(frappe.db.get_value(doc.doctype, doc.name, "mx_cfdi"))
        row = cfdi_of(doc)
        self.assertEqual(row.status, "Stamped", row.last_error)
        return row

    def test_thirty_seven_one_peso_loaves_at_shelf_prices_make_a_cfdi_of_37_00(self):
        """ERPNext's grand total for 37 lines at $1.00 with IVA included is 36.91 (its 5-centavo
        adjustment gives up); the shelf says 37.00, the customer pays 37.00, and so does the CFDI."""
        sale = pos_invoice(NOMINATIVE, [("ML-PAN", 1, 1.0)] * 37, cash=37, profile=PROFILE, included=True)
        self.assertEqual(flt(sale.grand_total), 36.91)
        row = self.stamped(sale)
        self.assertEqual((flt(row.total), self.body(row)["total"]), (37.0, 37.0))
        self.assertFalse(row.review_note)
        self.assertEqual(sat_total(self.body(row)), Decimal("37.00"))

    def test_a_tax_included_price_of_19_90_is_stamped_at_19_90_a_piece(self):
        sale = pos_invoice(NOMINATIVE, [("ML-PAN", 3, 19.9), ("ML-CAFE", 7, 189.9)] + [("ML-PAN", 1, 9.9)] * 9,
                           profile=PROFILE, included=True)
        row = self.stamped(sale)
        self.assertEqual(Decimal(str(self.body(row)["total"])), Decimal("1478.10"))  # 59.70 + 1,329.30 + 89.10
        self.assertFalse(row.review_note)

    def test_ieps_is_inside_the_price_unless_the_customer_asked_for_it_apart(self):
        for apart, expected in ((0, [["IVA"]] * 1), (1, [["IEPS", "IVA"]])):
            frappe.db.set_value("Customer", NOMINATIVE, "mx_ieps_breakdown", apart)
            sale = pos_invoice(NOMINATIVE, [("ML-PAN", 3, 20)], profile=PROFILE, included=True, ieps=True)
            row = self.stamped(sale)
            body = self.body(row)
            self.assertEqual([[t["type"] for t in i["product"]["taxes"]] for i in body["items"]], expected)
            self.assertEqual(body["total"], 60.0)

    def test_a_till_payment_in_two_forms_and_the_iva_base_with_ieps_come_from_the_stamped_cfdi(self):
        """3 snacks at $20 (IEPS 8 % + IVA 16 %, included), $25 cash and $15 card at the till, $20 owed:
        one Pago node per form, each with the paid share of the stamped XML's IVA base (51.72)."""
        sale = pos_invoice(NOMINATIVE, [("ML-PAN", 3, 20)], cash=25, card=15, profile=PROFILE, included=True,
                           ieps=True)
        ingreso = self.stamped(sale)
        self.assertEqual(self.body(ingreso)["payment_method"], "PPD")
        complement = frappe.get_doc("CFDI", {"reference_name": sale.name, "cfdi_type": "P"})
        self.assertEqual([(a.payment_form, a.installment) for a in complement.payment_allocations],
                         [("01", 1), ("28", 2)])
        self.assertEqual(standing_payments(ingreso.name, sale.name)[1], 2, "a later payment is installment 3")
        stamp(complement.name)
        complement.reload()
        self.assertEqual(complement.status, "Stamped", complement.last_error)
        nodes = self.body(complement)["complements"][0]["data"]
        self.assertEqual([(n["payment_form"], n["related_documents"][0]["installment"],
                           n["related_documents"][0]["last_balance"], n["related_documents"][0]["amount"])
                          for n in nodes], [("01", 1, 60, 25), ("28", 2, 35, 15)])
        bases = [n["related_documents"][0]["taxes"] for n in nodes]
        self.assertEqual([[t["type"] for t in b] for b in bases], [["IVA"], ["IVA"]])
        self.assertAlmostEqual(bases[0][0]["base"], 51.72 * 25 / 60, places=2)   # 21.55, not 19.95
        self.assertAlmostEqual(bases[1][0]["base"], 51.72 * 15 / 60, places=2)

    def test_a_return_that_only_lowers_an_unpaid_balance_is_settled_by_condonation(self):
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 100)], cash=0, profile=PROFILE)
        self.stamped(sale)
        ret = pos_return(sale, 1)
        credit = frappe.get_doc("CFDI", {"reference_name": ret.name, "cfdi_type": "E"})
        # Nothing went back to the buyer, who had paid nothing: the return only lowers what is owed.
        frappe.db.sql("update `tabSales Invoice Payment` set amount = 0 where parent = %s", ret.name)
        frappe.db.commit()
        stamp(credit.name)
        credit.reload()
        self.assertEqual(credit.status, "Stamped", credit.last_error)
        self.assertEqual((self.body(credit)["payment_form"], self.body(credit)["type"]), ("15", "E"))


class TestCheckWithSat(StampingTestCase):
    def setUp(self):
        self.emulator.reset()
        self.enable()

    def integration_requests(self, name: str) -> int:
        return frappe.db.count("Integration Request", {"reference_doctype": "Customer", "reference_docname": name})

    def test_sat_disagreeing_is_said_with_the_field_to_correct_and_recorded(self):
        name = customer("ML Cliente SAT", tax_id="EKU9003173C9", mx_legal_name="ESCUELA KEMPER URGATE",
                        mx_tax_regime="601", mx_cfdi_use="G03", mx_fiscal_zip="26015")
        before = self.integration_requests(name)
        self.emulator.add_sat_record("EKU9003173C9", "ESCUELA KEMPER URGATE", "601", "42501")
        result = api.check_customer_with_sat(name)
        self.assertFalse(result["ok"])
        self.assertIn("código postal", result["message"])
        self.assertIn("Fiscal Zip Code", result["message"])
        self.assertEqual(self.integration_requests(name), before + 1)
        self.assertEqual(frappe.db.get_value("Customer", name, "mx_sat_check_result"), result["message"])
        frappe.db.set_value("Customer", name, "mx_fiscal_zip", "42501")
        self.assertTrue(api.check_customer_with_sat(name)["ok"])

    def test_a_customer_created_at_the_till_is_checked_at_once_and_never_blocked(self):
        self.emulator.add_sat_record("EKU9003173C9", "ESCUELA KEMPER URGATE", "603", "26015")
        frappe.local.message_log = []
        fresh = f"ML Cliente Rapido {frappe.generate_hash(length=6)}"  # inserted now: after_insert runs
        name = customer(fresh, tax_id="EKU9003173C9", mx_legal_name="ESCUELA KEMPER URGATE",
                        mx_tax_regime="601", mx_cfdi_use="G03", mx_fiscal_zip="26015")
        self.assertTrue(frappe.db.exists("Customer", name))
        self.assertIn("régimen fiscal", frappe.db.get_value("Customer", name, "mx_sat_check_result") or "")
        self.assertIn("régimen fiscal", " ".join(str(m) for m in frappe.local.message_log))

    def test_only_a_cfdi_manager_who_may_edit_the_customer_may_check_it(self):
        name = customer("ML Cliente SAT", tax_id="EKU9003173C9", mx_legal_name="ESCUELA KEMPER URGATE",
                        mx_tax_regime="601", mx_cfdi_use="G03", mx_fiscal_zip="26015")
        seller = make_user("ml-sat-seller@example.com", ["Sales User"])                 # edits, no CFDI role
        reader = make_user("ml-sat-manager@example.com", ["CFDI Manager", "Accounts User"])  # may not edit
        both = make_user("ml-sat-both@example.com", ["CFDI Manager", "Sales User"])
        frappe.db.commit()
        try:
            for user in ("Guest", seller, reader):
                frappe.set_user(user)
                with self.assertRaises(frappe.PermissionError, msg=user):
                    api.check_customer_with_sat(name)
            frappe.set_user(both)
            self.assertTrue(api.check_customer_with_sat(name)["ok"])
        finally:
            frappe.set_user("Administrator")

"""Month-end reconciliation and the audit reports over a seeded month at one till: nominative,
failed, cancelled, global, credit-note and payment-complement CFDIs, a ticket still waiting for its
global, a consolidated Sales Invoice with a payment whose complement is not stamped, and a test stamp
once the site is marked Production Site."""

from __future__ import annotations

import frappe
from erpnext.accounts.doctype.pos_invoice_merge_log.pos_invoice_merge_log import consolidate_pos_invoices
from frappe.desk.query_report import run
from frappe.utils import add_days, add_to_date, get_datetime, now_datetime, nowdate

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations.walk_in import issue_due_globals
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pay_sales_invoice, pos_invoice, pos_return
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import make_user

PROFILE, ZIP = "ML Caja Conciliacion", "06740"


def rows(report: str, filters: dict) -> list[dict]:
    return [r for r in run(report, filters, ignore_prepared_report=True)["result"] if isinstance(r, dict)]


class TestReconciliationReport(StampingTestCase):
    own_till = (PROFILE, ZIP)
    partial_payments = True
    seeded: dict

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable(global_periodicity="Daily", enable_cancellation=1, global_max_concepts=1000)
        frappe.db.sql("""update `tabPOS Invoice` set mx_cfdi_status='Not Applicable'
                         where pos_profile=%s and mx_cfdi_status='Awaiting Global'""", PROFILE)
        frappe.db.commit()
        cls.emulator.reset()
        cls.seeded = cls.seed()

    @classmethod
    def sale(cls, customer=NOMINATIVE, lines=(("ML-CAFE", 1, 100),), **kwargs):
        invoice = pos_invoice(customer, list(lines), profile=PROFILE, **kwargs)
        frappe.db.commit()
        return invoice

    @classmethod
    def seed(cls) -> dict:
        s = frappe._dict()
        s.stamped = cls.sale()
        stamp(s.stamped.mx_cfdi)
        s.failed = cls.sale(lines=(("ML-PAN", 1, 50),))
        cls.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40147")
        stamp(s.failed.mx_cfdi)
        s.cancelled = cls.sale(lines=(("ML-PAN", 2, 50),))
        stamp(s.cancelled.mx_cfdi)
        api.cancel_cfdi(s.cancelled.mx_cfdi, "02")
        frappe.db.commit()
        cancel(s.cancelled.mx_cfdi)
        s.returned = cls.sale(lines=(("ML-CAFE", 3, 100),))
        stamp(s.returned.mx_cfdi)
        s.credit_note = pos_return(s.returned, 1)
        stamp(frappe.db.get_value("POS Invoice", s.credit_note.name, "mx_cfdi"))
        s.walk_ins = [cls.sale(WALK_IN), cls.sale(WALK_IN, lines=(("ML-PAN", 1, 500),))]
        made = [n for n in issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
                if f"-{ZIP}-" in n]
        s.global_cfdi = made[0]
        stamp(s.global_cfdi)
        s.late_walk_in = cls.sale(WALK_IN)  # after the day's global: still waiting
        # A deferred (PPD) sale: 300 at the till (complement 1), consolidated, then two payments.
        s.deferred = cls.sale(lines=(("ML-CAFE", 10, 100),), cash=300)
        stamp(s.deferred.mx_cfdi)
        stamp(frappe.db.get_value("CFDI", {"reference_name": s.deferred.name, "cfdi_type": "P"}))
        consolidate_pos_invoices(pos_invoices=[frappe._dict(pos_invoice=s.deferred.name, customer=NOMINATIVE)])
        frappe.db.commit()
        s.consolidated = frappe.db.get_value("POS Invoice", s.deferred.name, "consolidated_invoice")
        s.paid = pay_sales_invoice(s.consolidated, 500)
        stamp(frappe.db.get_value("CFDI", {"reference_name": s.paid.name}))
        return s

    def sales(self, **filters) -> dict[str, dict]:
        return {r["pos_invoice"]: r for r in rows("CFDI Reconciliation", {"pos_profile": PROFILE, **filters})}

    def test_every_sale_is_matched_to_its_cfdi_and_every_gap_is_flagged(self):
        s = self.seeded
        found = self.sales()
        expect = {  # sale: (road, valid, finding starts with)
            s.stamped.name: ("Nominative", 1, ""),
            s.failed.name: ("Nominative", 0, f"Its CFDI {s.failed.mx_cfdi} failed:"),
            s.cancelled.name: ("Nominative", 0, f"Its CFDI {s.cancelled.mx_cfdi} was cancelled"),
            s.returned.name: ("Nominative", 1, ""),
            s.credit_note.name: ("Credit note", 1, ""),
            s.walk_ins[0].name: ("Global", 1, ""),
            s.walk_ins[1].name: ("Global", 1, ""),
            s.late_walk_in.name: ("Global", 0, "Waiting for its global CFDI"),
            s.deferred.name: ("Nominative", 1, ""),
        }
        self.assertLessEqual(set(expect), set(found))  # a re-run on a kept site also shows earlier runs' sales
        for sale, (road, valid, finding) in expect.items():
            row = found[sale]
            self.assertEqual((row["road"], row["valid_cfdi"]), (road, valid), sale)
            self.assertTrue(row["finding"].startswith(finding) and bool(row["finding"]) == bool(finding),
                            (sale, row["finding"]))
        global_uuid = frappe.db.get_value("CFDI", s.global_cfdi, "uuid")
        self.assertEqual({found[t.name]["uuid"] for t in s.walk_ins}, {global_uuid})
        self.assertIn("CFDI40147", found[s.failed.name]["finding"])
        deferred = found[s.deferred.name]
        self.assertEqual((deferred["payment_method"], deferred["complemented"], deferred["consolidated_invoice"]),
                         ("PPD", 800.0, s.consolidated))
        self.assertEqual(len(deferred["complement_uuids"].split(", ")), 2)
        flagged = self.sales(only_problems=1)
        self.assertEqual(set(flagged) & set(expect), {s.failed.name, s.cancelled.name, s.late_walk_in.name})

    def test_by_consolidated_invoice_every_payment_must_have_its_complement(self):
        s = self.seeded
        view = {"pos_profile": PROFILE, "view": "Consolidated Sales Invoices"}
        [row] = [r for r in rows("CFDI Reconciliation", view) if r["sales_invoice"] == s.consolidated]
        self.assertEqual((row["sales"], row["received"], row["complemented"], row["finding"]), (1, 800.0, 800.0, ""))
        self.assertEqual(row["uuids"], frappe.db.get_value("CFDI", s.deferred.mx_cfdi, "uuid"))
        unstamped = pay_sales_invoice(s.consolidated, 360)  # its complement is queued, not stamped: not declared yet
        try:
            [row] = [r for r in rows("CFDI Reconciliation", view) if r["sales_invoice"] == s.consolidated]
            self.assertEqual((row["received"], row["complemented"]), (1160.0, 800.0))
            self.assertIn("ERPNext has received 360.00 more than its payment complements declare", row["finding"])
        finally:
            complement = frappe.db.get_value("CFDI", {"reference_name": unstamped.name})
            stamp(complement)
        [row] = [r for r in rows("CFDI Reconciliation", view) if r["sales_invoice"] == s.consolidated]
        self.assertEqual((row["complemented"], row["finding"]), (1160.0, ""))
        # Cancelling the payment cancels its complement: both sides go back to 800.
        unstamped.reload()
        unstamped.cancel()
        frappe.db.commit()
        cancel(complement)
        [row] = [r for r in rows("CFDI Reconciliation", view) if r["sales_invoice"] == s.consolidated]
        self.assertEqual((row["received"], row["complemented"], row["finding"]), (800.0, 800.0, ""))

    def test_a_test_stamp_is_flagged_once_the_site_is_production(self):
        s = self.seeded
        self.enable(global_periodicity="Daily", enable_cancellation=1, production_site=1)
        try:
            frappe.db.set_value("E Invoice Company", {"company": self.shop.company}, "production_since",
                                add_to_date(now_datetime(), hours=-2))
            frappe.clear_document_cache("E Invoice Setting", "E Invoice Setting")
            row = self.sales()[s.stamped.name]
            self.assertEqual((row["valid_cfdi"], row["environment"]), (0, "Test"))
            self.assertTrue(row["finding"].startswith("Stamped in FacturaAPI's Test environment"))
            # Stamps made before the site became a production site are the sandbox's: not flagged.
            frappe.db.set_value("E Invoice Company", {"company": self.shop.company}, "production_since",
                                add_to_date(now_datetime(), hours=1))
            frappe.clear_document_cache("E Invoice Setting", "E Invoice Setting")
            row = self.sales()[s.stamped.name]
            self.assertEqual((row["valid_cfdi"], row["finding"]), (1, ""))
        finally:
            self.enable(global_periodicity="Daily", enable_cancellation=1, production_site=0)

    def test_the_audit_trail_shows_global_complement_and_cancelled_cfdis(self):
        s = self.seeded
        trail = {r["name"]: r for r in rows("CFDI Audit Trail", {})}
        glob = trail[s.global_cfdi]
        self.assertEqual((glob["cfdi_type"], glob["status"]), ("I", "Stamped"))
        self.assertTrue(glob["uuid"] and glob["sat_cert_number"] and glob["xml_file"])
        complement = trail[frappe.db.get_value("CFDI", {"reference_name": s.paid.name})]
        self.assertEqual((complement["cfdi_type"], complement["status"], complement["reference_doctype"]),
                         ("P", "Stamped", "Payment Entry"))
        gone = trail[s.cancelled.mx_cfdi]
        self.assertEqual((gone["status"], gone["cancellation_motive"], gone["cancellation_status"]),
                         ("Cancelled", "02", "accepted"))
        self.assertEqual({r["cfdi_type"] for r in rows("CFDI Audit Trail", {"cfdi_type": "P"})}, {"P"})
        calls = [c for c in rows("Facturapi Calls", {}) if c["reference_docname"] == s.cancelled.mx_cfdi]
        self.assertIn("cancel_invoice", {c["operation"] for c in calls})

    def test_the_reconciliation_refuses_users_without_a_cfdi_role(self):
        frappe.set_user(make_user("ml-reconcile-nobody@example.com", ["Accounts User", "Accounts Manager"]))
        try:
            with self.assertRaises(frappe.PermissionError):
                run("CFDI Reconciliation", {})
        finally:
            frappe.set_user("Administrator")
        frappe.set_user(make_user("ml-reconcile-auditor@example.com", ["CFDI Auditor"]))
        try:
            self.assertTrue(run("CFDI Reconciliation", {"pos_profile": PROFILE}, ignore_prepared_report=True)["result"])
            # The report's filters are Links: an auditor may pick a POS Profile or Company, never read one.
            from frappe.desk.search import search_link
            for doctype, value in (("POS Profile", PROFILE), ("Company", self.shop.company)):
                self.assertTrue(frappe.has_permission(doctype, "select"), doctype)
                self.assertFalse(frappe.has_permission(doctype, "read"), doctype)
                self.assertIn(value, [r["value"] for r in search_link(doctype, value[:6])], doctype)
        finally:
            frappe.set_user("Administrator")

    def test_a_sale_whose_cfdi_record_was_removed_is_flagged(self):
        sale = self.sale()
        stamp(sale.mx_cfdi)
        for table, column in (("CFDI Attempt", "parent"), ("CFDI", "name")):  # the record removed behind the app
            frappe.db.sql(f"delete from `tab{table}` where {column} = %s", sale.mx_cfdi)  # noqa: S608 (fixed text)
        frappe.db.commit()
        row = self.sales()[sale.name]
        self.assertEqual((row["road"], row["valid_cfdi"]), ("No CFDI", 0))
        self.assertTrue(row["finding"].startswith("The sale says its CFDI is Stamped, but no CFDI record"))

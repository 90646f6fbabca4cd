"""The audit reports return the right rows and refuse users without a CFDI role."""

from __future__ import annotations

import frappe
from frappe.desk.query_report import run

from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import make_user

REPORTS = ("CFDI Audit Trail", "Facturapi Calls", "Pending Payment Complements", "CFDI Reconciliation")


def rows(report: str, filters: dict) -> list[dict]:
    return [r for r in run(report, filters, ignore_prepared_report=True)["result"] if isinstance(r, dict)]


class TestReports(StampingTestCase):
    def setUp(self):
        self.emulator.reset()

    def test_audit_trail_and_calls_show_a_stamped_and_a_failed_cfdi(self):
        stamped = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
        failed = pos_invoice(NOMINATIVE, [("ML-PAN", 1, 50)])
        frappe.db.commit()
        stamp(stamped.mx_cfdi)
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40147")
        stamp(failed.mx_cfdi)
        trail = {r["name"]: r for r in rows("CFDI Audit Trail", {"cfdi_type": "I"})}
        ok, bad = trail[stamped.mx_cfdi], trail[failed.mx_cfdi]
        self.assertEqual((ok["status"], ok["environment"], ok["attempts"]), ("Stamped", "Test", 2))  # create, XML
        self.assertTrue(ok["uuid"] and ok["sat_cert_number"] and ok["xml_file"])
        self.assertEqual((bad["status"], bad["uuid"]), ("Failed", None))
        self.assertTrue(bad["last_error"])
        self.assertNotIn(stamped.mx_cfdi, {r["name"] for r in rows("CFDI Audit Trail", {"status": "Failed"})})
        calls = rows("Facturapi Calls", {})
        mine = [c for c in calls if c["reference_docname"] in (stamped.mx_cfdi, failed.mx_cfdi)]
        self.assertIn(("create_invoice", "200", "Completed"),
                      {(c["operation"], c["http_status"], c["status"]) for c in mine})
        [rejected] = [c for c in mine if c["reference_docname"] == failed.mx_cfdi]
        self.assertEqual((rejected["status"], rejected["error_code"]), ("Failed", "invoice_stamping_validation_error"))
        self.assertIsNotNone(rejected["duration_ms"])

    def test_reports_refuse_users_without_a_cfdi_role(self):
        frappe.set_user(make_user("ml-report-nobody@example.com", ["Accounts User"]))
        try:
            for report in REPORTS:
                with self.assertRaises(frappe.PermissionError, msg=report):
                    run(report, {})
        finally:
            frappe.set_user("Administrator")

    def test_an_auditor_with_no_other_role_reads_every_report(self):
        """Frappe refuses a report whose Link columns name a doctype the reader cannot read: the
        reports' POS Invoice, Customer and Sales Invoice columns must not be Links."""
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 90)])
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        frappe.set_user(make_user("ml-report-auditor@example.com", ["CFDI Auditor"]))
        try:
            for report in REPORTS:
                result = run(report, {}, ignore_prepared_report=True)["result"]
                if report != "Pending Payment Complements":
                    self.assertTrue(result, report)
        finally:
            frappe.set_user("Administrator")

"""Tamper evidence on the real database: days sealed and chained, a clean trail verifies, and an
edited or a deleted record is named by its day."""

from __future__ import annotations

import itertools

import frappe
from frappe.utils import getdate, now_datetime

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations import audit
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import make_user


class TestAuditTrail(StampingTestCase):
    def setUp(self):
        self.emulator.reset()
        frappe.db.sql("delete from `tabCFDI Audit Seal`")
        frappe.db.commit()

    def tearDown(self):
        frappe.db.sql("delete from `tabCFDI Audit Seal`")
        frappe.db.commit()

    def stamped_sale(self):
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        return frappe.get_doc("CFDI", sale.mx_cfdi)

    def test_days_are_sealed_in_a_chain_and_a_clean_trail_verifies(self):
        cfdi = self.stamped_sale()
        today = getdate(now_datetime())
        made = audit.seal_days(until=today)
        self.assertEqual(made[-1], str(today))
        self.assertEqual(audit.seal_days(until=today), [], "a day is sealed once")
        seals = frappe.get_all("CFDI Audit Seal", fields=["day", "previous", "chain", "record_count"], order_by="day")
        for before, after in itertools.pairwise(seals):
            self.assertEqual(after.previous, before.chain)
        self.assertGreaterEqual(seals[-1].record_count, len(cfdi.attempts) + 1)  # its attempts and its stamp
        self.assertEqual(api.verify_audit_trail()["intact"], True)

    def test_an_edited_and_a_deleted_record_are_named_by_their_day(self):
        cfdi = self.stamped_sale()
        today = getdate(now_datetime())
        audit.seal_days(until=today)
        frappe.db.set_value("CFDI Attempt", cfdi.attempts[0].name, "http_status", 500, update_modified=False)
        frappe.db.commit()
        self.assertEqual(api.verify_audit_trail(), {"intact": False, "day": str(today), "reason": "records changed",
                                                    "days": frappe.db.count("CFDI Audit Seal")})
        frappe.db.set_value("CFDI Attempt", cfdi.attempts[0].name, "http_status", cfdi.attempts[0].http_status,
                            update_modified=False)
        frappe.db.sql("delete from `tabCFDI Attempt` where name=%s", cfdi.attempts[-1].name)
        frappe.db.commit()
        found = api.verify_audit_trail()
        self.assertEqual((found["day"], found["reason"]), (str(today), "records added or removed"))

    def test_seals_cannot_be_deleted_and_only_cfdi_readers_may_verify(self):
        self.stamped_sale()
        [name] = audit.seal_days(until=getdate(now_datetime()))[-1:]
        with self.assertRaises(frappe.PermissionError):
            frappe.delete_doc("CFDI Audit Seal", name, ignore_permissions=True)
        frappe.set_user(make_user("ml-audit-nobody@example.com", ["Accounts User"]))
        try:
            with self.assertRaises(frappe.PermissionError):
                api.verify_audit_trail()
        finally:
            frappe.set_user("Administrator")
        self.assertIn("mexico_localization.einvoice.operations.audit.seal_days",
                      frappe.get_hooks("scheduler_events")["cron"]["15 0 * * *"])

    def test_a_cfdi_and_its_sealed_xml_cannot_be_deleted_nor_edited_through_rest(self):
        cfdi = self.stamped_sale()
        xml = frappe.get_doc("File", {"file_url": cfdi.xml_file, "attached_to_name": cfdi.name})
        self.assertIn(b"<?xml", xml.get_content() if isinstance(xml.get_content(), bytes)
                      else xml.get_content().encode())
        with self.assertRaises(frappe.PermissionError):
            frappe.delete_doc("File", xml.name, ignore_permissions=True)
        with self.assertRaises(frappe.PermissionError):
            frappe.delete_doc("CFDI", cfdi.name, ignore_permissions=True)
        frappe.db.rollback()
        kept = frappe.get_doc("File", xml.name)
        self.assertIn(cfdi.uuid.encode(), kept.get_content() if isinstance(kept.get_content(), bytes)
                      else kept.get_content().encode(), "the XML is still on disk, not only its File row")
        # Nobody holds write or delete on CFDI: REST's PUT and DELETE are refused even to a CFDI Manager.
        frappe.set_user(make_user("ml-audit-manager@example.com", ["CFDI Manager", "Accounts Manager"]))
        try:
            self.assertFalse(frappe.has_permission("CFDI", "write", cfdi.name))
            self.assertFalse(frappe.has_permission("CFDI", "delete", cfdi.name))
            self.assertTrue(frappe.has_permission("CFDI", "read", cfdi.name))
        finally:
            frappe.set_user("Administrator")

    def test_install_keeps_facturapi_calls_and_failures_long_enough(self):
        from mexico_localization.einvoice.setup.install import AUDIT_LOG_DAYS, keep_audit_logs

        settings = frappe.get_single("Log Settings")
        for row in settings.logs_to_clear:
            if row.ref_doctype == "Integration Request":
                row.days = 30  # an administrator had lowered it
            if row.ref_doctype == "Error Log":
                row.days = 3650  # ... and raised this one
        settings.save(ignore_permissions=True)
        keep_audit_logs()
        kept = dict(frappe.db.sql("select ref_doctype, days from `tabLogs To Clear` where parent='Log Settings'"))
        self.assertEqual(kept["Integration Request"], AUDIT_LOG_DAYS["Integration Request"])
        self.assertEqual(kept["Error Log"], 3650, "a longer retention is never shortened")
        frappe.db.rollback()

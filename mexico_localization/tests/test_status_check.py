"""The daily status check against the emulator: cancellations made from FacturaAPI's dashboard
(accepted or pending) and at SAT's portal are found, flagged and mirrored; CFDIs nobody touched and
one the app is cancelling itself are left alone; every look is an Integration Request."""

from __future__ import annotations

import frappe
from frappe.utils import add_days, now_datetime

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations import audit, status_check
from mexico_localization.einvoice.operations.status_check import check_recent_cfdis
from mexico_localization.einvoice.pipeline import records
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.einvoice.settings import make_client
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import make_user

PROFILE = "ML Caja Revision"
MANAGER = "ml-status-manager@example.com"


class TestStatusCheck(StampingTestCase):
    own_till = (PROFILE, "06750")

    def setUp(self):
        self.emulator.reset()
        self.enable(enable_cancellation=1)
        make_user(MANAGER, ["CFDI Manager"])
        # CFDIs of earlier tests are unknown to this emulator: only this test's are watched.
        frappe.db.sql("update `tabCFDI` set stamped_at = '2020-01-01' where stamped_at is not null")
        frappe.db.commit()

    def stamped(self, n: int) -> list:
        sales = []
        for _ in range(n):
            sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 100)], profile=PROFILE)
            frappe.db.commit()
            stamp(sale.mx_cfdi)
            sales.append(frappe.get_doc("CFDI", sale.mx_cfdi))
        return sales

    def test_cancellations_made_outside_the_app_are_found_and_flagged(self):
        kept, dashboard, asked, at_sat, ours = self.stamped(5)
        self.emulator.cancel_outside(dashboard.facturapi_id, "02")
        self.emulator.cancel_outside(asked.facturapi_id, "03", outcome="pending")
        self.emulator.cancel_outside(at_sat.facturapi_id, "02", at_sat=True)
        api.cancel_cfdi(ours.name, "02")  # the app's own, requested but not sent yet
        frappe.db.commit()
        before = frappe.db.count("Integration Request", {"request_description": ["like", "search_invoices%"]})

        flagged = check_recent_cfdis()

        self.assertEqual(sorted(flagged), sorted([dashboard.name, asked.name, at_sat.name]))
        for cfdi, status, motive in ((dashboard, "Cancelled", "02"), (asked, "Cancel Pending", "03"),
                                     (at_sat, "Cancelled", "02")):
            row = frappe.get_doc("CFDI", cfdi.name)
            self.assertEqual((row.status, row.cancelled_outside_app, row.cancellation_motive), (status, 1, motive))
            self.assertIn("outside this system", row.review_note)
            sale = frappe.db.get_value("POS Invoice", row.reference_name, ["mx_cfdi_status", "mx_cfdi_message"])
            self.assertEqual(sale[0], status)
            self.assertIn("outside this system", sale[1])
            self.assertTrue(frappe.db.exists("Notification Log", {"for_user": MANAGER, "document_name": cfdi.name}))
            self.assertTrue(frappe.db.exists("Comment", {"reference_doctype": "CFDI", "reference_name": cfdi.name,
                                                         "content": ["like", "%outside this system%"]}))
        done = frappe.get_doc("CFDI", dashboard.name)
        self.assertTrue(done.cancelled_at and done.cancellation_receipt_file, "acuse attached")
        self.assertTrue(frappe.db.get_value("CFDI", asked.name, "next_attempt_at"), "the sweep polls it")
        self.assertEqual(frappe.db.get_value("CFDI", kept.name, ["status", "cancelled_outside_app"]), ("Stamped", 0))
        self.assertTrue(frappe.db.get_value("CFDI", kept.name, "status_checked_at"))
        self.assertEqual(frappe.db.get_value("CFDI", ours.name, ["status", "cancelled_outside_app"]),
                         ("Cancel Requested", 0))
        # Every look is on record: the listing, and a refresh from SAT per CFDI it asked about.
        self.assertEqual(frappe.db.count("Integration Request",
                                         {"request_description": ["like", "search_invoices%"]}), before + 1)
        self.assertTrue(frappe.db.exists("Integration Request", {"reference_docname": kept.name,
                                                                 "request_description": ["like", "refresh_status%"]}))
        self.assertIn("refresh_status", {a.operation for a in frappe.get_doc("CFDI", at_sat.name).attempts})

        # The pending one settles through the ordinary polling; the next run finds nothing new.
        self.emulator.state.invoices[asked.facturapi_id]["cancellation_status"] = "verifying"
        cancel(asked.name)
        self.assertEqual(frappe.db.get_value("CFDI", asked.name, ["status", "cancelled_outside_app"]),
                         ("Cancelled", 1))
        self.assertEqual(check_recent_cfdis(), [])

    def test_the_check_is_bounded_and_asks_the_longest_unchecked_first(self):
        first, second, third = self.stamped(3)
        frappe.db.set_value("CFDI", first.name, "status_checked_at", "2026-01-02 00:00:00")
        frappe.db.set_value("CFDI", second.name, "status_checked_at", "2026-01-01 00:00:00")
        frappe.db.commit()
        self.emulator.cancel_outside(third.facturapi_id, "02", at_sat=True)
        self.assertEqual(check_recent_cfdis(refresh_limit=1), [third.name], "never checked goes first")
        self.assertEqual(check_recent_cfdis(refresh_limit=1), [])
        self.assertNotEqual(str(frappe.db.get_value("CFDI", second.name, "status_checked_at")), "2026-01-01 00:00:00")
        self.assertEqual(str(frappe.db.get_value("CFDI", first.name, "status_checked_at")), "2026-01-02 00:00:00")

    def test_nothing_is_asked_while_e_invoice_is_off(self):
        self.stamped(1)
        self.enable(enable_e_invoice=0)
        calls = dict(self.emulator.state.calls)
        self.assertEqual(check_recent_cfdis(), [])
        self.assertEqual(dict(self.emulator.state.calls), calls)

    def test_a_cfdi_the_app_moved_meanwhile_is_left_alone(self):
        """The guard holds under the row lock: the job read the CFDI as Stamped, then the app's own
        cancellation request landed before the job recorded what FacturaAPI said."""
        [cfdi] = self.stamped(1)
        self.emulator.cancel_outside(cfdi.facturapi_id, "02")
        as_read = frappe._dict(name=cfdi.name, facturapi_id=cfdi.facturapi_id, cancellation_motive="")
        api.cancel_cfdi(cfdi.name, "03")
        frappe.db.commit()
        log = records.ExchangeLog("CFDI", cfdi.name)
        with make_client(cfdi.company, on_exchange=log) as client:
            moved = status_check.flag(client, log, as_read, self.emulator.state.invoices[cfdi.facturapi_id])
        self.assertFalse(moved)
        self.assertEqual(frappe.db.get_value("CFDI", cfdi.name, ["status", "cancelled_outside_app",
                                                                 "cancellation_motive"]), ("Cancel Requested", 0, "03"))
        self.assertFalse(frappe.db.exists("Notification Log", {"document_name": cfdi.name}))

    def test_the_apps_own_cancellation_settling_late_is_not_called_outside(self):
        [cfdi] = self.stamped(1)
        self.emulator.cancel_outside(cfdi.facturapi_id, "02")  # FacturaAPI accepted it after all
        frappe.db.set_value("CFDI", cfdi.name, {"status": "Cancel Rejected", "cancellation_motive": "02"})
        frappe.db.commit()
        self.assertEqual(check_recent_cfdis(), [cfdi.name])
        row = frappe.get_doc("CFDI", cfdi.name)
        self.assertEqual((row.status, row.cancelled_outside_app), ("Cancelled", 0))
        self.assertIn("this system requested", row.review_note)
        self.assertFalse(frappe.db.exists("Notification Log", {"document_name": cfdi.name}))

    def test_a_sealed_day_stays_intact_when_its_cancellation_is_found_later(self):
        """FacturaAPI dates the cancellation yesterday, a day already sealed: the CFDI records when the
        app learnt it, so Verify audit trail still passes."""
        frappe.db.sql("delete from `tabCFDI Audit Seal`")
        try:
            [cfdi] = self.stamped(1)
            yesterday = add_days(now_datetime(), -1)
            frappe.db.set_value("CFDI", cfdi.name, "stamped_at", yesterday)
            frappe.db.sql("update `tabCFDI Attempt` set attempted_at=%s where parent=%s", (yesterday, cfdi.name))
            frappe.db.sql("update `tabCFDI Attempt` set attempted_at=now() where attempted_at < %s",
                          yesterday.date())  # no day before yesterday to seal
            frappe.db.commit()
            self.assertTrue(audit.seal_days(until=yesterday.date()))
            self.emulator.cancel_outside(cfdi.facturapi_id, "02")
            self.emulator.state.invoices[cfdi.facturapi_id]["canceled_at"] = yesterday.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z")
            self.assertEqual(check_recent_cfdis(), [cfdi.name])
            self.assertEqual(str(frappe.db.get_value("CFDI", cfdi.name, "cancelled_at").date()),
                             str(now_datetime().date()))
            self.assertTrue(audit.verify_trail()["intact"])
        finally:
            frappe.db.sql("delete from `tabCFDI Audit Seal`")
            frappe.db.commit()

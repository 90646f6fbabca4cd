"""Returns as CFDI de egreso, Cancel CFDI with SAT motives, Re-issue CFDI by substitution, and the
ERPNext cancel guard, against the emulator. Job functions are called directly."""

from __future__ import annotations

import frappe
from frappe.utils import add_days, add_to_date, flt, get_datetime, now_datetime, nowdate

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations.walk_in import issue_due_globals
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.einvoice.pipeline.sweep import sweep
from mexico_localization.testing.emulator.server import _cancel_settle
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice, pos_return
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of

PROFILE, ZIP = "ML Caja Devoluciones", "06710"


class TestReturnsAndCancellation(StampingTestCase):
    own_till = (PROFILE, ZIP)

    def setUp(self):
        self.emulator.reset()
        self.emulator.config.cancellation = "accepted"
        self.enable(enable_cancellation=1, global_periodicity="Daily")

    def sale(self, customer=NOMINATIVE, lines=(("ML-CAFE", 3, 100),), stamped=True):
        invoice = pos_invoice(customer, list(lines), profile=PROFILE)
        frappe.db.commit()
        if stamped and invoice.mx_cfdi:
            stamp(invoice.mx_cfdi)
            self.assertEqual(frappe.db.get_value("CFDI", invoice.mx_cfdi, "status"), "Stamped")
        return invoice

    def body(self, cfdi_name: str) -> dict:
        return self.emulator.state.invoices[frappe.db.get_value("CFDI", cfdi_name, "facturapi_id")]

    def status(self, doc) -> str:
        return frappe.db.get_value("POS Invoice", doc.name, "mx_cfdi_status")

    # --- returns ------------------------------------------------------------------------------

    def test_a_return_of_a_stamped_sale_is_an_egreso_related_03_to_it(self):
        sale = self.sale()
        ret = pos_return(sale, 1)
        row = cfdi_of(ret)
        self.assertEqual((self.status(ret), row.cfdi_type, row.name), ("Queued", "E", f"{ret.name}-E"))
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped", row.last_error)
        body = self.body(row.name)
        original_uuid = frappe.db.get_value("POS Invoice", sale.name, "mx_cfdi_uuid")
        self.assertEqual(body["related_documents"], [{"relationship": "03", "documents": [original_uuid]}])
        self.assertEqual((body["type"], body["use"], body["payment_method"], body["payment_form"]),
                         ("E", "G02", "PUE", "01"))
        self.assertEqual(body["customer"]["tax_id"], "EKU9003173C9")
        self.assertEqual([(i["quantity"], i["product"]["price"]) for i in body["items"]], [(1, 100)])
        self.assertAlmostEqual(flt(row.total), 116.0, places=2)
        self.assertEqual(frappe.db.get_value("POS Invoice", ret.name, "mx_cfdi_uuid"), row.uuid)

    def test_a_return_waits_for_the_cfdi_of_its_sale(self):
        sale = self.sale(stamped=False)
        ret = pos_return(sale, 1)
        row = cfdi_of(ret)
        self.assertEqual((self.status(ret), row.status), ("Awaiting Original", "Awaiting Original"))
        stamp(row.name)  # nothing to claim while it waits
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Awaiting Original")
        stamp(sale.mx_cfdi)
        row.reload()
        self.assertEqual((row.status, row.related_uuids), ("Queued", frappe.db.get_value("CFDI", sale.mx_cfdi, "uuid")))
        stamp(row.name)
        self.assertEqual(self.status(ret), "Stamped")

    def test_a_walk_in_return_after_the_global_is_an_egreso_to_publico_en_general_related_to_the_global(self):
        ticket = self.sale(customer=WALK_IN, stamped=False)
        made = issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
        global_name = frappe.db.get_value("POS Invoice", ticket.name, "mx_cfdi")
        self.assertIn(global_name, made)
        stamp(global_name)
        ret = pos_return(ticket, 1)
        row = cfdi_of(ret)
        self.assertEqual(row.status, "Queued")
        stamp(row.name)
        body = self.body(row.name)
        self.assertEqual((body["customer"]["tax_id"], body["use"]), ("XAXX010101000", "S01"))
        self.assertEqual(body["related_documents"][0]["documents"], [frappe.db.get_value("CFDI", global_name, "uuid")])

    # --- Cancel CFDI ----------------------------------------------------------------------------

    def test_cancel_cfdi_with_each_motive(self):
        sale = self.sale()
        with self.assertRaises(frappe.ValidationError) as refused:  # 04 is a global's, for a nominative ticket
            api.cancel_cfdi(sale.mx_cfdi, "04")
        self.assertIn("global", str(refused.exception))
        self.assertEqual(frappe.db.get_value("CFDI", sale.mx_cfdi, "status"), "Stamped")
        for motive in ("02", "03"):
            sale = self.sale()
            api.cancel_cfdi(sale.mx_cfdi, motive)
            frappe.db.commit()
            row = cfdi_of(sale)
            self.assertEqual((row.status, row.cancellation_motive), ("Cancel Requested", motive))
            cancel(row.name)
            row.reload()
            self.assertEqual(row.status, "Cancelled", row.last_error)
            self.assertTrue(row.cancelled_at and row.cancellation_receipt_file)
            self.assertEqual(self.body(row.name)["cancellation"]["motive"], motive)
            self.assertEqual(self.status(sale), "Cancelled")
            self.assertEqual([a.operation for a in row.attempts][-2:], ["cancel_invoice",
                                                                         "download_cancellation_receipt_xml"])

    def test_motive_01_goes_through_reissue_and_the_toggle_gates_cancellation(self):
        sale = self.sale()
        with self.assertRaises(frappe.ValidationError):
            api.cancel_cfdi(sale.mx_cfdi, "01")
        self.enable(enable_cancellation=0)
        with self.assertRaises(frappe.ValidationError) as refused:
            api.cancel_cfdi(sale.mx_cfdi, "02")
        self.assertIn("Enable Cancellation", str(refused.exception))
        with self.assertRaises(frappe.ValidationError):
            api.reissue_cfdi(sale.name)
        self.assertEqual(frappe.db.get_value("CFDI", sale.mx_cfdi, "status"), "Stamped")

    def test_a_pending_cancellation_is_polled_until_sat_answers(self):
        self.emulator.config.cancellation = "pending"
        accepted, rejected = self.sale(), self.sale()
        for sale in (accepted, rejected):
            api.cancel_cfdi(sale.mx_cfdi, "02")
            frappe.db.commit()
            cancel(sale.mx_cfdi)
            row = cfdi_of(sale)
            self.assertEqual((row.status, row.cancellation_status), ("Cancel Pending", "pending"))
            self.assertGreater(row.next_attempt_at, now_datetime())
        for sale, outcome in ((accepted, "accepted"), (rejected, "rejected")):
            invoice = self.emulator.state.invoices[frappe.db.get_value("CFDI", sale.mx_cfdi, "facturapi_id")]
            with self.emulator.state.lock:
                _cancel_settle(invoice, outcome)
            frappe.db.set_value("CFDI", sale.mx_cfdi, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        self.assertTrue({accepted.mx_cfdi, rejected.mx_cfdi} <= set(sweep()))
        for sale in (accepted, rejected):
            cancel(sale.mx_cfdi)
        self.assertEqual(frappe.db.get_value("CFDI", accepted.mx_cfdi, "status"), "Cancelled")
        row = cfdi_of(rejected)
        self.assertEqual((row.status, row.cancellation_status, row.last_error_code),
                         ("Cancel Rejected", "rejected", "cancellation_rejected"))
        self.assertEqual(self.status(rejected), "Cancel Rejected")

    def test_sat_refusing_the_cancellation_is_recorded_with_its_reason(self):
        sale = self.sale()
        self.emulator.add_fault("cancel_invoice", "sat_rejection")
        api.cancel_cfdi(sale.mx_cfdi, "02")
        frappe.db.commit()
        cancel(sale.mx_cfdi)
        row = cfdi_of(sale)
        self.assertEqual((row.status, row.last_error_code), ("Cancel Rejected", "invoice_not_cancelable_by_sat"))
        self.assertTrue(frappe.db.exists("Error Log", {"reference_name": row.name}))

    # --- Re-issue CFDI --------------------------------------------------------------------------

    def test_reissue_stamps_a_substitute_related_04_then_cancels_the_original_with_motive_01(self):
        sale = self.sale()
        old = cfdi_of(sale)
        new_name = api.reissue_cfdi(sale.name)["cfdi"]
        frappe.db.commit()
        self.assertEqual(frappe.db.get_value("CFDI", old.name, "status"), "Stamped", "valid until replaced")
        stamp(new_name)
        new = frappe.get_doc("CFDI", new_name)
        self.assertEqual(new.status, "Stamped", new.last_error)
        self.assertEqual(self.body(new.name)["related_documents"], [{"relationship": "04", "documents": [old.uuid]}])
        self.assertNotEqual(new.external_id, old.external_id)
        old.reload()
        self.assertEqual((old.status, old.cancellation_motive, old.substitution_uuid, old.substituted_by),
                         ("Cancel Requested", "01", new.uuid, new.name))
        cancel(old.name)
        old.reload()
        self.assertEqual(old.status, "Cancelled", old.last_error)
        self.assertEqual(self.body(old.name)["cancellation"]["substitution"], new.uuid)
        mirror = frappe.db.get_value("POS Invoice", sale.name, ["mx_cfdi", "mx_cfdi_status", "mx_cfdi_uuid"])
        self.assertEqual(mirror, (new.name, "Stamped", new.uuid))
        self.assertEqual(self.emulator.state.summary()["stamps"], 2)

    # --- ERPNext's Cancel -----------------------------------------------------------------------

    def test_erpnext_cancel_is_refused_while_the_cfdi_is_valid_and_points_to_cancel_cfdi(self):
        sale = self.sale()
        with self.assertRaises(frappe.ValidationError) as refused:
            frappe.get_doc("POS Invoice", sale.name).cancel()
        self.assertIn("Cancel CFDI", str(refused.exception))

    def test_a_stamp_job_finding_its_sale_cancelled_adopts_the_cfdi_and_cancels_it_with_motive_03(self):
        sale = self.sale(stamped=False)
        self.emulator.add_fault("create_invoice", "reset_after_stamp")  # stamped, but the answer is lost
        stamp(sale.mx_cfdi)
        row = cfdi_of(sale)
        self.assertEqual((row.status, row.needs_reconcile), ("Retrying", 1))
        frappe.db.set_value("CFDI", row.name, "status", "Failed")  # as if its attempts ran out
        frappe.db.set_value("POS Invoice", sale.name, "mx_cfdi_status", "Failed")
        frappe.db.commit()
        frappe.get_doc("POS Invoice", sale.name).cancel()  # ERPNext allows it: no valid CFDI is known
        frappe.db.commit()
        api.retry_cfdi(sale.name)
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual((row.status, row.cancellation_motive), ("Cancel Requested", "03"))
        self.assertTrue(row.uuid)
        cancel(row.name)
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Cancelled")
        self.assertEqual(self.emulator.state.summary()["stamps"], 1)
        self.assertEqual(self.body(row.name)["cancellation"]["motive"], "03")

"""The pipeline's shape, proven on a real site: state changes only through `transition`, follow-ups
after the record (a failing one never loses a stamp), and Needs Review resolved by a person."""

from __future__ import annotations

import frappe
from frappe.utils import add_to_date, now_datetime

from mexico_localization.cfdi.moves import CLAIM_STAMP, REQUEST_CANCEL, IllegalMove
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice import api
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.einvoice.pipeline.rows import transition
from mexico_localization.einvoice.pipeline.sweep import sweep
from mexico_localization.facturapi import Client, Secret
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of
from mexico_localization.tests.utils import PLANTED_KEY

PROFILE, ZIP = "ML Caja Pipeline", "06720"


class TestPipeline(StampingTestCase):
    own_till = (PROFILE, ZIP)

    def setUp(self):
        self.emulator.reset()
        self.emulator.config.cancellation = "accepted"
        self.enable(enable_cancellation=1)

    def sale(self, stamped: bool = True):
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)], profile=PROFILE)
        frappe.db.commit()
        if stamped:
            stamp(invoice.mx_cfdi)
        return invoice

    # --- transition -------------------------------------------------------------------------------

    def test_a_move_outside_its_declaration_raises_and_a_lost_race_writes_nothing(self):
        row = cfdi_of(self.sale(stamped=False))
        with self.assertRaises(IllegalMove):
            transition(row.name, CLAIM_STAMP, CfdiState.STAMPED)
        frappe.db.rollback()
        self.assertFalse(transition(row.name, REQUEST_CANCEL, CfdiState.CANCEL_REQUESTED))  # it is Queued
        frappe.db.commit()
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Queued")
        self.assertTrue(transition(row.name, CLAIM_STAMP, CfdiState.STAMPING))
        self.assertFalse(transition(row.name, CLAIM_STAMP, CfdiState.STAMPING), "only one claim wins")
        frappe.db.rollback()

    # --- follow-ups -------------------------------------------------------------------------------

    def test_a_failing_follow_up_leaves_the_stamp_recorded_and_is_tried_again(self):
        sale = self.sale()
        old = cfdi_of(sale)
        new_name = api.reissue_cfdi(sale.name)["cfdi"]
        frappe.db.commit()
        self.enable(enable_cancellation=0)  # cancelling the replaced CFDI will be refused
        self.assertEqual(stamp(new_name), CfdiState.STAMPED)
        frappe.db.rollback()
        new = frappe.get_doc("CFDI", new_name)
        self.assertEqual(new.status, "Stamped")
        self.assertTrue(new.uuid and new.xml_file)
        self.assertTrue(frappe.db.exists("File", {"file_url": new.xml_file, "attached_to_name": new.name}))
        operations = [a.operation for a in new.attempts]
        self.assertEqual(operations[:2], ["create_invoice", "download_xml"])
        self.assertGreaterEqual(frappe.db.count("Integration Request", {"reference_docname": new.name}), 2)
        self.assertEqual(new.pending_followups, "cancel replaced")
        self.assertIn("Cancellation is disabled", new.followup_error)
        self.assertTrue(frappe.db.exists("Error Log", {"reference_name": new.name, "method": ["like", "%follow-up%"]}))
        self.assertTrue(frappe.db.exists("Comment", {"reference_name": new.name, "content": ["like", "%follow-up%"]}))
        self.assertEqual(frappe.db.get_value("CFDI", old.name, "status"), "Stamped", "still valid at SAT")
        self.assertEqual(frappe.db.get_value("POS Invoice", sale.name, ["mx_cfdi", "mx_cfdi_status"]),
                         (new.name, "Stamped"))
        self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 2, "nothing stamped twice")

        self.enable(enable_cancellation=1)
        frappe.db.set_value("CFDI", new.name, "modified", add_to_date(now_datetime(), minutes=-30),
                            update_modified=False)
        frappe.db.commit()
        self.assertIn(new.name, sweep())
        self.assertFalse(frappe.db.get_value("CFDI", new.name, "pending_followups"))
        self.assertEqual(frappe.db.get_value("CFDI", old.name, ["status", "cancellation_motive", "substitution_uuid"]),
                         ("Cancel Requested", "01", new.uuid))
        cancel(old.name)
        self.assertEqual(frappe.db.get_value("CFDI", old.name, "status"), "Cancelled")

    # --- Needs Review -----------------------------------------------------------------------------

    def double_stamp(self):
        """A sale whose answer was lost, then stamped again by hand at FacturaAPI: two valid CFDIs."""
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("create_invoice", "reset_after_stamp")
        stamp(row.name)
        with Client(self.emulator.url, Secret(PLANTED_KEY)) as client:
            first = client.find_by_external_id(row.external_id)[0]
            body = {k: first[k] for k in ("customer", "items", "payment_form", "use")}
            second = client.create_invoice(body, idempotency_key="by-hand", external_id=row.external_id).invoice
        frappe.db.set_value("CFDI", row.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Needs Review")
        self.assertEqual(set(row.review_candidates.split("\n")), {first["id"], second["id"]})
        return row, first, second

    def test_a_double_stamp_is_resolved_by_choosing_the_cfdi_that_stands(self):
        row, first, second = self.double_stamp()
        answer = api.resolve_review(row.name, keep=first["id"], cancel_others=1)
        frappe.db.commit()
        row.reload()
        self.assertEqual((row.status, row.facturapi_id, row.uuid), ("Stamped", first["id"], first["uuid"]))
        self.assertTrue(row.xml_file)
        self.assertIn("stands", row.review_note)
        [duplicate] = answer["duplicates"]
        dup = frappe.get_doc("CFDI", duplicate)
        self.assertEqual((dup.duplicate_of, dup.facturapi_id, dup.status, dup.cancellation_motive),
                         (row.name, second["id"], "Cancel Requested", "02"))
        cancel(duplicate)
        self.assertEqual(frappe.db.get_value("CFDI", duplicate, "status"), "Cancelled")
        self.assertEqual(frappe.db.get_value("POS Invoice", row.reference_name, ["mx_cfdi", "mx_cfdi_uuid"]),
                         (row.name, first["uuid"]), "the sale shows the CFDI that stands")
        with self.assertRaises(frappe.ValidationError):
            api.resolve_review(row.name, keep=second["id"])  # resolved once

    def test_a_review_can_look_at_facturapi_again(self):
        row, _first, _second = self.double_stamp()
        self.assertEqual(api.resolve_review(row.name)["status"], "Queued")
        frappe.db.commit()
        self.assertEqual(frappe.db.get_value("CFDI", row.name, ["status", "needs_reconcile"]), ("Queued", 1))
        stamp(row.name)
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Needs Review", "still two: a person decides")
        self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 2, "never a third stamp")

    def test_only_a_cfdi_manager_resolves_a_review(self):
        from mexico_localization.tests.utils import make_user

        row, first, _second = self.double_stamp()
        frappe.set_user(make_user("cajero-revision@example.com", ["Accounts User"]))
        try:
            with self.assertRaises(frappe.PermissionError):
                api.resolve_review(row.name, keep=first["id"])
        finally:
            frappe.set_user("Administrator")
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Needs Review")

    # --- a pending stamp that FacturaAPI could not recover, or no longer knows -------------------

    def test_a_pending_stamp_that_failed_lets_a_retry_create_a_new_document(self):
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("create_invoice", "pending", polls=5)
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Pending at PAC")
        with self.emulator.state.lock:
            self.emulator.state.invoices[row.facturapi_id]["status"] = "failed"  # the PAC gave up
        frappe.db.set_value("CFDI", row.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual((row.status, row.facturapi_id, row.generation), ("Failed", None, 2))
        api.retry_cfdi(row.reference_name)
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped", row.last_error)
        self.assertEqual(self.emulator.state.summary()["stamps_per_external_id"], {row.external_id: 1})

    def test_a_pending_stamp_facturapi_no_longer_knows_is_looked_up_then_created(self):
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("create_invoice", "pending", polls=5)
        stamp(row.name)
        row.reload()
        with self.emulator.state.lock:  # e.g. the key was switched to another environment: it knows neither
            self.emulator.state.invoices.pop(row.facturapi_id)
            for key in [k for k, v in self.emulator.state.by_idempotency_key.items() if v == row.facturapi_id]:
                self.emulator.state.by_idempotency_key.pop(key)
        frappe.db.set_value("CFDI", row.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual((row.status, row.facturapi_id, row.needs_reconcile, row.generation), ("Failed", None, 1, 1))
        api.retry_cfdi(row.reference_name)
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped", row.last_error)
        operations = [a.operation for a in row.attempts]
        self.assertIn("search_invoices", operations, "looked up before creating again")

"""Automatic stamping, job function called directly (the fault suite runs real workers)."""

import frappe
from frappe.utils import add_to_date, now_datetime

from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.einvoice.pipeline.rows import idempotency_key
from mexico_localization.einvoice.pipeline.stamping import requeue_failed
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of
from mexico_localization.tests.utils import configure, test_company


class TestStamping(StampingTestCase):
    def setUp(self):
        self.emulator.reset()
        self.enable()

    def sale(self, **kwargs):
        invoice = pos_invoice(kwargs.pop("customer", NOMINATIVE), kwargs.pop("lines", [("ML-CAFE", 2, 80)]), **kwargs)
        frappe.db.commit()
        return invoice

    def due_again(self, cfdi):
        frappe.db.set_value("CFDI", cfdi.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()

    def test_submit_queues_and_the_job_stamps(self):
        invoice = self.sale()
        cfdi = cfdi_of(invoice)
        self.assertEqual((invoice.mx_cfdi_status, cfdi.status), ("Queued", "Queued"))
        self.assertEqual(cfdi.external_id, f"{frappe.local.site}:{invoice.name}")
        stamp(cfdi.name)
        cfdi.reload()
        invoice.reload()
        self.assertEqual(cfdi.status, "Stamped")
        self.assertTrue(cfdi.uuid and cfdi.sat_cert_number and cfdi.sat_signature and cfdi.stamped_at)
        self.assertEqual((invoice.mx_cfdi_status, invoice.mx_cfdi_uuid), ("Stamped", cfdi.uuid))
        self.assertEqual((invoice.mx_sat_cert_number, invoice.mx_sat_signature), (cfdi.sat_cert_number,
                                                                                  cfdi.sat_signature))
        self.assertTrue(invoice.mx_cfdi_stamped_at)
        # FacturaAPI answers in UTC; the record is in the site's time zone, like every Frappe datetime.
        self.assertLess(abs((cfdi.stamped_at - now_datetime()).total_seconds()), 120)
        self.assertEqual(cfdi.livemode, 0)
        self.assertTrue(cfdi.xml_file.endswith(".xml"))
        self.assertFalse(cfdi.pdf_file)  # fetched on first demand (test_cfdi_files)
        self.assertEqual(float(cfdi.total), float(invoice.grand_total))
        self.assertFalse(cfdi.review_note)
        ops = [a.operation for a in cfdi.attempts]
        self.assertEqual(ops, ["create_invoice", "download_xml"])
        state = self.emulator.state.summary()
        self.assertEqual(state["stamps_per_external_id"], {cfdi.external_id: 1})
        self.assertEqual([e["invoice"] for e in state["emails"]], [cfdi.facturapi_id])
        self.assertEqual(frappe.db.count("Integration Request", {"reference_docname": cfdi.name}), 3)

    def test_a_second_job_for_the_same_cfdi_does_nothing(self):
        cfdi = cfdi_of(self.sale())
        stamp(cfdi.name)
        stamp(cfdi.name)
        self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 1)

    def test_not_applicable_and_awaiting_global(self):
        self.enable(enable_e_invoice=0)
        off = self.sale()
        self.assertEqual(off.mx_cfdi_status, "Not Applicable")
        self.assertIn("disabled", off.mx_cfdi_message)
        configure(self.emulator.url, company=test_company(), enable_e_invoice=1)
        other = self.sale()
        self.assertEqual(other.mx_cfdi_status, "Not Applicable")
        self.assertIn(f"{self.shop.company} has no row", other.mx_cfdi_message)
        self.enable(global_periodicity="Daily")  # walk-in tickets wait for the day's global
        walk_in = self.sale(customer=self.shop.walk_in)
        self.assertEqual(walk_in.mx_cfdi_status, "Awaiting Global")
        self.assertIsNone(cfdi_of(off) or cfdi_of(other) or cfdi_of(walk_in))

    def test_sat_rejection_fails_with_the_reason_and_a_new_generation(self):
        cfdi = cfdi_of(self.sale())
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40145")
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.generation, cfdi.needs_reconcile), ("Failed", 2, 0))
        self.assertIn("CFDI40145", cfdi.last_error)
        invoice = frappe.get_doc("POS Invoice", cfdi.reference_name)
        self.assertEqual(invoice.mx_cfdi_status, "Failed")
        self.assertIn("CFDI40145", invoice.mx_cfdi_message)
        self.assertTrue(frappe.db.exists("Error Log", {"reference_doctype": "CFDI", "reference_name": cfdi.name}))
        # What to change where: the customer's legal name (SAT's CFDI40145), offered on the sale's form.
        self.assertEqual((cfdi.fix_doctype, cfdi.fix_name, cfdi.fix_field), ("Customer", NOMINATIVE, "mx_legal_name"))
        invoice.run_method("onload")
        self.assertEqual(invoice.get_onload().mx_fix, {"doctype": "Customer", "name": NOMINATIVE,
                                                       "field": "mx_legal_name", "label": "Legal Name"})

    def test_a_validation_naming_a_concept_points_at_its_item_and_a_retry_clears_it(self):
        sale = self.sale()
        cfdi = cfdi_of(sale)
        self.emulator.add_fault("create_invoice", "validation", path="items.0.product.product_key")
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.fix_doctype, cfdi.fix_name, cfdi.fix_label),
                         ("Failed", "Item", sale.items[0].item_code, "SAT Product Key"))
        requeue_failed(cfdi.name)
        frappe.db.commit()
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.fix_doctype), ("Stamped", ""))

    def test_bad_master_data_fails_without_calling_facturapi(self):
        invoice = self.sale()
        frappe.db.set_value("Customer", NOMINATIVE, "mx_cfdi_use", "")
        frappe.db.commit()
        try:
            stamp(invoice.mx_cfdi)
        finally:
            frappe.db.set_value("Customer", NOMINATIVE, "mx_cfdi_use", "G03")
            frappe.db.commit()
        cfdi = cfdi_of(invoice)
        self.assertEqual((cfdi.status, cfdi.last_error_code), ("Failed", "invalid_data"))
        self.assertIn("no CFDI use", cfdi.last_error)
        self.assertEqual(self.emulator.state.summary()["calls"], {})

    def test_timeout_after_stamping_retries_by_looking_up_not_recreating(self):
        cfdi = cfdi_of(self.sale())
        key = idempotency_key(cfdi)
        self.emulator.add_fault("create_invoice", "timeout_after_stamp", delay=6)
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.needs_reconcile, cfdi.generation), ("Retrying", 1, 1))
        self.assertTrue(cfdi.next_attempt_at)
        self.due_again(cfdi)
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Stamped")
        state = self.emulator.state.summary()
        self.assertEqual(state["stamps_per_external_id"], {cfdi.external_id: 1})
        self.assertEqual(state["calls"].get("create_invoice"), 1)
        self.assertEqual({i["idempotency_key"] for i in state["invoices"]}, {key})
        # FacturaAPI's invoice names no e-mail: the adopted CFDI is still e-mailed to the customer, once.
        self.assertEqual(len(state["emails"]), 1)

    def test_202_is_pending_at_the_pac_then_polled(self):
        cfdi = cfdi_of(self.sale())
        self.emulator.add_fault("create_invoice", "pending", polls=1)
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Pending at PAC")
        self.assertTrue(cfdi.facturapi_id and not cfdi.uuid and cfdi.next_attempt_at)
        self.due_again(cfdi)
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Stamped")
        self.assertEqual(self.emulator.state.summary()["calls"].get("create_invoice"), 1)

    def test_rate_limit_waits_at_least_retry_after(self):
        cfdi = cfdi_of(self.sale())
        self.emulator.add_fault("create_invoice", "rate_limit", retry_after=120)
        before = now_datetime()
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.needs_reconcile), ("Retrying", 0))
        self.assertGreaterEqual((cfdi.next_attempt_at - before).total_seconds(), 119)

    def test_two_valid_cfdis_at_facturapi_go_to_a_person(self):
        cfdi = cfdi_of(self.sale())
        self.emulator.add_fault("create_invoice", "reset_after_stamp")
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Retrying")
        # Someone stamped it again by hand at FacturaAPI with the same External ID.
        from mexico_localization.facturapi import Client, Secret
        from mexico_localization.tests.utils import PLANTED_KEY

        with Client(self.emulator.url, Secret(PLANTED_KEY)) as client:
            first = client.find_by_external_id(cfdi.external_id)[0]
            body = {k: first[k] for k in ("customer", "items", "payment_form", "use")}
            client.create_invoice(body, idempotency_key="by-hand", external_id=cfdi.external_id)
        self.due_again(cfdi)
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Needs Review")
        self.assertIn("Possible double stamp", cfdi.review_note)

    def test_cancel_of_the_sale_is_refused_while_a_cfdi_is_due_or_valid(self):
        invoice = self.sale()
        with self.assertRaises(frappe.ValidationError):
            frappe.get_doc("POS Invoice", invoice.name).cancel()
        frappe.db.rollback()

    def test_retry_after_a_person_fixed_the_data(self):
        from mexico_localization.einvoice.api import retry_cfdi

        cfdi = cfdi_of(self.sale())
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40145")
        stamp(cfdi.name)
        first_key = idempotency_key(frappe._dict(cfdi.as_dict(), generation=1))
        answer = retry_cfdi(cfdi.reference_name)
        frappe.db.commit()
        self.assertEqual(answer["status"], "Queued")
        self.assertEqual(frappe.db.get_value("POS Invoice", cfdi.reference_name, "mx_cfdi_status"), "Queued")
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.generation), ("Stamped", 2))
        keys = [r["idempotency_key"] for r in self.emulator.state.summary()["create_requests"]]
        self.assertEqual(len(keys), 2)
        self.assertEqual(keys[0], first_key)
        self.assertTrue(keys[1].endswith(":stamp:2"))
        with self.assertRaises(frappe.ValidationError):
            retry_cfdi(cfdi.reference_name)  # only Failed ones

    def test_a_deadlocked_record_step_is_tried_again(self):
        from unittest.mock import patch

        from mexico_localization.einvoice.pipeline import records

        cfdi = cfdi_of(self.sale())
        real, calls = records.write_call, []

        def deadlock_once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                real(*args, **kwargs)  # written, then the database gives up on the transaction
                raise frappe.QueryDeadlockError("1213 Deadlock found when trying to get lock")
            return real(*args, **kwargs)

        with patch.object(records, "write_call", deadlock_once):
            stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, len(calls)), ("Stamped", 2))
        self.assertEqual(len(cfdi.attempts), 2)  # written once: the first write was rolled back
        self.assertEqual(frappe.db.count("Integration Request", {"reference_docname": cfdi.name}), 3)

    def test_a_job_that_dies_after_claiming_hands_the_cfdi_back(self):
        from unittest.mock import patch

        cfdi = cfdi_of(self.sale())
        with patch("mexico_localization.einvoice.pipeline.stamping.record_try", side_effect=RuntimeError("worker bug")):
            with self.assertRaises(RuntimeError):
                stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual((cfdi.status, cfdi.needs_reconcile), ("Retrying", 1))  # not stuck in Stamping
        stamp(cfdi.name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Stamped")
        self.assertEqual(self.emulator.state.summary()["stamps_per_external_id"], {cfdi.external_id: 1})

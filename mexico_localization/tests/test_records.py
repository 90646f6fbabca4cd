"""The record step every CFDI operation uses: Integration Requests, attempts, Error Log and the
CFDI row, committed together or not at all."""

import frappe

from mexico_localization.cfdi.moves import RECORD_STAMP, IllegalMove
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.records import ExchangeLog, Outcome, record_cfdi_call
from mexico_localization.facturapi import Client, Secret, StampingRejected
from mexico_localization.tests.utils import PLANTED_KEY, EmulatorTestCase, test_company

BODY = {"customer": {"legal_name": "PUBLICO EN GENERAL", "tax_id": "XAXX010101000", "tax_system": "616",
                     "address": {"zip": "06600"}}, "use": "S01", "payment_form": "01",
        "items": [{"quantity": 1, "product": {"description": "Venta", "product_key": "01010101", "price": 100,
                                              "tax_included": False}}]}


class TestRecordCfdiCall(EmulatorTestCase):
    def setUp(self):
        company = test_company()
        self.cfdi = frappe.get_doc({"doctype": "CFDI", "reference_doctype": "Company", "reference_name": company,
                                    "company": company, "status": "Stamping"}).insert(ignore_permissions=True)
        frappe.db.commit()

    def tearDown(self):
        frappe.db.rollback()
        frappe.db.sql("delete from `tabCFDI Attempt` where parent=%s", self.cfdi.name)
        frappe.db.sql("delete from `tabCFDI` where name=%s", self.cfdi.name)
        frappe.db.sql("delete from `tabIntegration Request` where reference_docname=%s", self.cfdi.name)
        frappe.db.sql("delete from `tabError Log` where reference_name=%s", self.cfdi.name)
        frappe.db.commit()

    def call(self, log):
        with Client(self.emulator.url, Secret(PLANTED_KEY), on_exchange=log) as client:
            return client.create_invoice(BODY, idempotency_key=self.cfdi.name, external_id=self.cfdi.name).invoice

    def test_success_writes_request_attempt_and_stamp_together(self):
        log = ExchangeLog("CFDI", self.cfdi.name)
        invoice = self.call(log)
        record_cfdi_call(self.cfdi.name, log, Outcome(RECORD_STAMP, CfdiState.STAMPED,
                                                      {"uuid": invoice["uuid"], "facturapi_id": invoice["id"]}))
        frappe.db.rollback()  # prove it was committed, not just written
        cfdi = frappe.get_doc("CFDI", self.cfdi.name)
        self.assertEqual((cfdi.status, cfdi.uuid, len(cfdi.attempts)), ("Stamped", invoice["uuid"], 1))
        [attempt] = cfdi.attempts
        self.assertEqual((attempt.operation, attempt.http_status, attempt.outcome), ("create_invoice", 200, "Stamped"))
        request = frappe.get_doc("Integration Request", attempt.integration_request)
        self.assertEqual((request.reference_doctype, request.reference_docname), ("CFDI", self.cfdi.name))
        self.assertEqual(request.status, "Completed")
        self.assertEqual(attempt.facturapi_log_id, request.request_id)

    def test_failure_adds_an_error_log_with_the_traceback(self):
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40145")
        log = ExchangeLog("CFDI", self.cfdi.name)
        try:
            self.call(log)
        except StampingRejected as error:
            record_cfdi_call(self.cfdi.name, log, Outcome(RECORD_STAMP, CfdiState.FAILED,
                                                          {"last_error_code": error.sat_code}, error))
        frappe.db.rollback()
        cfdi = frappe.get_doc("CFDI", self.cfdi.name)
        self.assertEqual((cfdi.status, cfdi.last_error_code), ("Failed", "CFDI40145"))
        self.assertEqual(cfdi.attempts[0].error_code, "invoice_stamping_validation_error")
        self.assertEqual(frappe.get_doc("Integration Request", cfdi.attempts[0].integration_request).status, "Failed")
        [log_name] = frappe.get_all("Error Log", {"reference_doctype": "CFDI", "reference_name": self.cfdi.name},
                                    pluck="name")
        self.assertIn("StampingRejected", frappe.db.get_value("Error Log", log_name, "error"))

    def test_a_failing_record_step_leaves_nothing_half_written(self):
        log = ExchangeLog("CFDI", self.cfdi.name)
        self.call(log)
        with self.assertRaises(IllegalMove):  # recording a stamping try as Cancelled is a bug
            record_cfdi_call(self.cfdi.name, log, Outcome(RECORD_STAMP, CfdiState.CANCELLED))
        self.assertEqual(frappe.db.count("Integration Request", {"reference_docname": self.cfdi.name}), 0)
        cfdi = frappe.get_doc("CFDI", self.cfdi.name)
        self.assertEqual((cfdi.status, len(cfdi.attempts)), ("Stamping", 0))

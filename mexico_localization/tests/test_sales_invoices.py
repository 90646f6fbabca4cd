"""Sales Invoices (B2B and credit sales made outside the POS), against the emulator: a credit invoice
(PPD) stamped, paid in two Payment Entries with a complement each, returned in part (a CFDI de
egreso related to it) and a payment cancelled with its complement; a cash invoice (PUE); the CFDI
use chosen on the invoice; the checks on save; ERPNext's Cancel guard; Retry, Re-issue and bulk
from the Sales Invoice list; POS closing's consolidated invoice never stamped."""

from __future__ import annotations

import frappe
from erpnext.accounts.doctype.pos_invoice_merge_log.pos_invoice_merge_log import consolidate_pos_invoices
from frappe.utils import flt

from mexico_localization.einvoice import api
from mexico_localization.einvoice.kinds.opening import open_sale_cfdi
from mexico_localization.einvoice.operations import bulk
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.mexico_localization.report.cfdi_audit_trail import cfdi_audit_trail as audit_trail
from mexico_localization.mexico_localization.report.pending_payment_complements import (
    pending_payment_complements as pending_report,
)
from mexico_localization.tests.pos_fixtures import (
    NOMINATIVE,
    WALK_IN,
    pay_sales_invoice,
    pos_invoice,
    sales_invoice,
    sales_return,
)
from mexico_localization.tests.stamping_utils import StampingTestCase

SI = "Sales Invoice"
PUBLIC = "ML Público en General"


class TestSalesInvoices(StampingTestCase):
    def setUp(self):
        self.emulator.reset()
        self.enable(enable_cancellation=1, incomplete_customer_action="Block")

    def body(self, cfdi: str) -> dict:
        return self.emulator.state.invoices[frappe.db.get_value("CFDI", cfdi, "facturapi_id")]

    def submitted(self, **kwargs):
        invoice = sales_invoice(NOMINATIVE, [("ML-CAFE", 10, 100)], **kwargs)  # 1,160.00 with IVA
        frappe.db.commit()
        return invoice

    def test_a_credit_invoice_is_ppd_and_each_payment_gets_its_complement(self):
        invoice = self.submitted(due_days=30)
        self.assertEqual((invoice.mx_payment_method, invoice.mx_cfdi_status), ("PPD", "Queued"))
        stamp(invoice.mx_cfdi)
        ingreso = frappe.get_doc("CFDI", invoice.mx_cfdi)
        self.assertEqual((ingreso.status, ingreso.payment_method, ingreso.reference_doctype, flt(ingreso.total)),
                         ("Stamped", "PPD", SI, 1160.0), ingreso.last_error)
        body = self.body(ingreso.name)
        self.assertEqual((body["payment_form"], body["payment_method"], body["use"], body["address"]["zip"]),
                         ("99", "PPD", "G03", "06600"))  # the company row's place of issue
        self.assertEqual(frappe.db.get_value(SI, invoice.name, ["mx_cfdi_status", "mx_cfdi_uuid"]),
                         ("Stamped", ingreso.uuid))

        first, second = pay_sales_invoice(invoice.name, 500), pay_sales_invoice(invoice.name, 360)
        [pending] = [r for r in pending_report.execute({"company": invoice.company})[1] if r["payment"] == first.name]
        self.assertEqual(pending["status"], "Queued")
        for payment, installment, balance, amount in ((first, 1, 1160, 500), (second, 2, 660, 360)):
            row = frappe.get_doc("CFDI", {"reference_name": payment.name, "cfdi_type": "P"})
            stamp(row.name)
            row.reload()
            self.assertEqual(row.status, "Stamped", row.last_error)
            [related] = self.body(row.name)["complements"][0]["data"][0]["related_documents"]
            self.assertEqual((related["uuid"], related["installment"], related["last_balance"], related["amount"]),
                             (ingreso.uuid, installment, balance, amount))
            self.assertEqual(row.payment_allocations[0].sales_invoice, invoice.name)
            self.assertEqual(frappe.db.get_value("Payment Entry", payment.name, "mx_cfdi_status"), "Stamped")

        credit = sales_return(invoice, 1)  # one of ten returned: 116.00 off the 300 still owed
        egreso = frappe.get_doc("CFDI", credit.mx_cfdi)
        self.assertEqual((egreso.cfdi_type, egreso.status, egreso.original_invoice), ("E", "Queued", invoice.name))
        stamp(egreso.name)
        body = self.body(egreso.name)
        self.assertEqual((body["type"], body["related_documents"][0]["relationship"],
                          body["related_documents"][0]["documents"], body["payment_form"]),
                         ("E", "03", [ingreso.uuid], "15"))  # it settles what was owed: Condonación

        first.reload()
        first.cancel()  # the payment did not happen: its complement is cancelled at SAT (motive 03)
        frappe.db.commit()
        complement = frappe.get_doc("CFDI", {"reference_name": first.name, "cfdi_type": "P"})
        self.assertEqual((complement.status, complement.cancellation_motive), ("Cancel Requested", "03"))
        cancel(complement.name)
        self.assertEqual(frappe.db.get_value("CFDI", complement.name, "status"), "Cancelled")
        trail = [r["name"] for r in audit_trail.execute({"company": invoice.company})[1]]
        self.assertTrue({ingreso.name, egreso.name, complement.name} <= set(trail), "the audit trail lists them")

    def test_a_credit_note_waits_for_its_invoices_cfdi_and_is_queued_once_it_is_stamped(self):
        invoice = self.submitted(payment_form="03")
        credit = sales_return(invoice, 2)
        egreso = frappe.get_doc("CFDI", credit.mx_cfdi)
        self.assertEqual((egreso.status, egreso.related_uuids), ("Awaiting Original", None))
        stamp(invoice.mx_cfdi)  # the original is stamped: the credit note is related to it and queued
        egreso.reload()
        uuid = frappe.db.get_value("CFDI", invoice.mx_cfdi, "uuid")
        self.assertEqual((egreso.status, egreso.related_uuids), ("Queued", uuid))
        self.assertEqual(frappe.db.get_value(SI, credit.name, "mx_cfdi_status"), "Queued")
        stamp(egreso.name)
        body = self.body(egreso.name)
        self.assertEqual((body["type"], body["payment_form"], body["related_documents"][0]["documents"]),
                         ("E", "03", [uuid]))  # refunded as it was paid

    def test_a_cash_invoice_is_pue_with_its_payment_form(self):
        invoice = self.submitted(payment_form="03")
        self.assertEqual(invoice.mx_payment_method, "PUE")
        stamp(invoice.mx_cfdi)
        row = frappe.get_doc("CFDI", invoice.mx_cfdi)
        self.assertEqual((row.status, row.payment_method), ("Stamped", "PUE"), row.last_error)
        body = self.body(row.name)
        self.assertEqual((body["payment_form"], body["payment_method"]), ("03", "PUE"))
        self.assertEqual(pay_sales_invoice(invoice.name, 1160).mx_cfdi_status, None, "a PUE invoice needs no "
                         "complement")

    def test_an_invoice_due_today_without_its_payment_form_says_so_and_its_cfdi_can_be_retried(self):
        invoice = sales_invoice(NOMINATIVE, [("ML-CAFE", 1, 100)], submit=False)
        self.assertIn("SAT Payment Form", " ".join(str(m) for m in frappe.get_message_log()))
        invoice.submit()
        frappe.db.commit()
        stamp(invoice.mx_cfdi)
        row = frappe.get_doc("CFDI", invoice.mx_cfdi)
        self.assertEqual(row.status, "Failed")
        self.assertIn("SAT Payment Form", row.last_error)
        self.assertEqual(frappe.db.get_value(SI, invoice.name, "docstatus"), 1, "the invoice stays submitted")
        frappe.db.set_value(SI, invoice.name, "mx_payment_form", "04")
        frappe.db.commit()
        self.assertEqual(api.retry_cfdi(invoice.name, doctype=SI)["status"], "Queued")
        stamp(row.name)
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Stamped")
        self.assertEqual(self.body(row.name)["payment_form"], "04")

    def test_the_cfdi_use_is_chosen_on_the_invoice_within_the_regimes_uses(self):
        invoice = self.submitted(payment_form="03", cfdi_use="G01")
        stamp(invoice.mx_cfdi)
        self.assertEqual(self.body(invoice.mx_cfdi)["use"], "G01")
        with self.assertRaises(frappe.ValidationError) as refused:  # D01 is a persona física's use
            sales_invoice(NOMINATIVE, [("ML-CAFE", 1, 100)], payment_form="03", cfdi_use="D01", submit=False)
        self.assertIn("D01", str(refused.exception))

    def test_erpnext_cancel_is_refused_while_the_cfdi_stands_and_reissue_substitutes_it(self):
        invoice = self.submitted(payment_form="03")
        stamp(invoice.mx_cfdi)
        invoice.reload()
        with self.assertRaises(frappe.ValidationError):
            invoice.cancel()
        frappe.db.rollback()
        old = invoice.mx_cfdi
        new = api.reissue_cfdi(invoice.name, doctype=SI)["cfdi"]
        frappe.db.commit()
        stamp(new)
        self.assertEqual(self.body(new)["related_documents"][0]["relationship"], "04")
        self.assertEqual(frappe.db.get_value("CFDI", old, "status"), "Cancel Requested")

    def test_bulk_generation_from_the_sales_invoice_list(self):
        self.enable(enable_e_invoice=0)
        invoice = self.submitted(payment_form="03")
        self.assertEqual(invoice.mx_cfdi_status, "Not Applicable")
        self.enable()
        preview = api.bulk_preview(names=frappe.as_json([invoice.name]), doctype=SI)
        self.assertEqual(preview["to_generate"], 1)
        run = api.bulk_start(names=frappe.as_json([invoice.name]), doctype=SI)["run"]
        frappe.db.commit()
        for _ in range(20):
            bulk.run_slice(run)
            if frappe.db.get_value("CFDI Bulk Run", run, "status") != "Running":
                break
        self.assertEqual(frappe.db.get_value("CFDI Bulk Run", run, ["status", "stamped", "document_type"]),
                         ("Completed", 1, SI))
        self.assertEqual(frappe.db.get_value(SI, invoice.name, "mx_cfdi_status"), "Stamped")

    def test_a_walk_in_customer_gets_no_cfdi_of_a_sales_invoice(self):
        if not frappe.db.exists("Customer", PUBLIC):
            frappe.get_doc({"doctype": "Customer", "customer_name": PUBLIC, "mx_is_public": 1,
                            "customer_group": frappe.db.get_value("Customer", WALK_IN, "customer_group"),
                            "territory": frappe.db.get_value("Customer", WALK_IN, "territory")}).insert()
        invoice = sales_invoice(PUBLIC, [("ML-CAFE", 1, 100)], payment_form="01")
        self.assertEqual(invoice.mx_cfdi_status, "Not Applicable")
        self.assertIn("Público en General", invoice.mx_cfdi_message)
        self.assertFalse(invoice.mx_cfdi)

    def test_the_invoice_pos_closing_consolidates_is_never_stamped(self):
        sale = pos_invoice(NOMINATIVE, [("ML-PAN", 1, 20)])
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        consolidate_pos_invoices(pos_invoices=[frappe._dict(pos_invoice=sale.name, customer=NOMINATIVE)])
        frappe.db.commit()
        consolidated = frappe.db.get_value("POS Invoice", sale.name, "consolidated_invoice")
        self.assertTrue(frappe.db.get_value(SI, consolidated, "is_consolidated"))
        self.assertFalse(frappe.db.exists("CFDI", {"reference_name": consolidated}))
        self.assertFalse(frappe.db.get_value(SI, consolidated, "mx_cfdi_status"))
        preview = api.bulk_preview(names=frappe.as_json([consolidated]), doctype=SI)
        self.assertEqual((preview["to_generate"], preview["skipped_by_reason"]),
                         (0, {"consolidated by POS closing": 1}))
        self.assertEqual(open_sale_cfdi(frappe.get_doc(SI, consolidated)).state.value, "Not Applicable")

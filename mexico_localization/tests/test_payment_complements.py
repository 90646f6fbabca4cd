"""Payment complements, against the emulator: a credit POS sale (PPD) partly paid at the till, POS
closing consolidates it, two partial payments, a complement for each payment with its installment
and balance, a cancelled payment cancelling its complement, and the pending-complements report."""

from __future__ import annotations

import frappe
from erpnext.accounts.doctype.pos_invoice_merge_log.pos_invoice_merge_log import consolidate_pos_invoices
from frappe.utils import flt, getdate

from mexico_localization.cfdi.payment_complement import complement_deadline
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.mexico_localization.report.pending_payment_complements import (
    pending_payment_complements as report,
)
from mexico_localization.tests.pos_fixtures import NOMINATIVE, pay_sales_invoice, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase

PROFILE = "ML Caja Credito"


class TestPaymentComplements(StampingTestCase):
    own_till = (PROFILE, "06720")
    partial_payments = True

    def setUp(self):
        self.emulator.reset()
        self.enable(enable_cancellation=1)

    def body(self, cfdi: str) -> dict:
        return self.emulator.state.invoices[frappe.db.get_value("CFDI", cfdi, "facturapi_id")]

    def credit_sale(self):
        """1,160.00 (10 × 100 + IVA), 300 paid at the till, 860 on credit."""
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 10, 100)], cash=300, profile=PROFILE)
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        return sale

    def complement(self, reference: str) -> frappe._dict:
        return frappe.get_doc("CFDI", {"reference_name": reference, "cfdi_type": "P"})

    def test_a_credit_sale_paid_in_parts_gets_a_complement_per_payment(self):
        sale = self.credit_sale()
        ingreso = frappe.get_doc("CFDI", sale.mx_cfdi)
        self.assertEqual((ingreso.status, ingreso.payment_method), ("Stamped", "PPD"))
        self.assertEqual((self.body(ingreso.name)["payment_form"], self.body(ingreso.name)["payment_method"]),
                         ("99", "PPD"))

        at_till = self.complement(sale.name)  # the 300 paid at the till is installment 1
        stamp(at_till.name)
        at_till.reload()
        self.assertEqual(at_till.status, "Stamped", at_till.last_error)
        [data] = self.body(at_till.name)["complements"][0]["data"]
        self.assertEqual((data["payment_form"], data["related_documents"][0]["installment"],
                          data["related_documents"][0]["last_balance"], data["related_documents"][0]["amount"]),
                         ("01", 1, 1160, 300))

        consolidate_pos_invoices(pos_invoices=[frappe._dict(pos_invoice=sale.name, customer=NOMINATIVE)])
        frappe.db.commit()
        consolidated = frappe.db.get_value("POS Invoice", sale.name, "consolidated_invoice")
        self.assertTrue(consolidated)
        self.assertFalse(frappe.db.exists("CFDI", {"reference_name": consolidated}), "never stamped")

        first = pay_sales_invoice(consolidated, 500)
        [pending] = report.execute({"company": sale.company})[1]
        self.assertEqual((pending["payment"], pending["status"], pending["overdue"]), (first.name, "Queued", 0))
        self.assertEqual(pending["deadline"], complement_deadline(getdate(first.posting_date)))
        second_payment_before_first_stamp = pay_sales_invoice(consolidated, 360)
        for payment, installment, balance, amount in ((first, 2, 860, 500),
                                                     (second_payment_before_first_stamp, 3, 360, 360)):
            row = self.complement(payment.name)
            self.assertEqual(frappe.db.get_value("Payment Entry", payment.name, "mx_cfdi_status"), "Queued")
            stamp(row.name)
            row.reload()
            self.assertEqual(row.status, "Stamped", row.last_error)
            body = self.body(row.name)
            self.assertEqual((body["type"], body["customer"]["tax_id"]), ("P", "EKU9003173C9"))
            [related] = body["complements"][0]["data"][0]["related_documents"]
            self.assertEqual((related["uuid"], related["installment"], related["last_balance"], related["amount"]),
                             (ingreso.uuid, installment, balance, amount))
            self.assertEqual(related["taxes"], [{"type": "IVA", "rate": 0.16, "base": round(amount / 1.16, 6)}])
            self.assertEqual(flt(row.total), amount)
            mirror = frappe.db.get_value("Payment Entry", payment.name, ["mx_cfdi_status", "mx_cfdi_uuid"])
            self.assertEqual(mirror, ("Stamped", row.uuid))
        self.assertEqual(report.execute({"company": sale.company})[1], [])

        first.reload()
        first.cancel()  # cancelling the payment cancels its complement at SAT
        frappe.db.commit()
        row = self.complement(first.name)
        self.assertEqual((row.status, row.cancellation_motive), ("Cancel Requested", "03"))
        cancel(row.name)
        self.assertEqual(frappe.db.get_value("CFDI", row.name, "status"), "Cancelled")
        self.assertEqual(report.execute({"company": sale.company})[1], [], "a cancelled payment needs no complement")

    def test_a_payment_cancel_is_refused_while_cancellation_is_off(self):
        sale = self.credit_sale()
        stamp(self.complement(sale.name).name)
        consolidate_pos_invoices(pos_invoices=[frappe._dict(pos_invoice=sale.name, customer=NOMINATIVE)])
        frappe.db.commit()
        payment = pay_sales_invoice(frappe.db.get_value("POS Invoice", sale.name, "consolidated_invoice"), 860)
        stamp(self.complement(payment.name).name)
        self.enable(enable_cancellation=0)
        with self.assertRaises(frappe.ValidationError):
            frappe.get_doc("Payment Entry", payment.name).cancel()
        self.assertEqual(frappe.db.get_value("Payment Entry", payment.name, "docstatus"), 1)

"""SAT's rules where they meet ERPNext's documents: the generic RFCs, an RFC typed with hyphens, a
walk-in sale left partly unpaid, a free item, the bimonthly global."""

from __future__ import annotations

import frappe
from frappe.utils import add_days, nowdate

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations.walk_in import issue_due_globals
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice, pos_return
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of

PROFILE, ZIP = "ML Caja Reglas", "06740"


def customer(name: str, **values) -> str:
    if not frappe.db.exists("Customer", name):
        frappe.get_doc({"doctype": "Customer", "customer_name": name, "customer_group": frappe.db.get_value(
            "Customer Group", {"is_group": 0}), "territory": frappe.db.get_value("Territory", {"is_group": 0}),
            **values}).insert(ignore_permissions=True)
    else:
        doc = frappe.get_doc("Customer", name)
        doc.update(values)
        doc.save(ignore_permissions=True)
    frappe.db.commit()
    return name


class TestFiscalRules(StampingTestCase):
    own_till = (PROFILE, ZIP)

    def setUp(self):
        self.emulator.reset()
        self.enable(global_periodicity="Daily")

    def test_an_rfc_typed_with_hyphens_and_spaces_is_kept_and_sent_as_sat_writes_it(self):
        name = customer("ML Cliente Guiones", tax_id="eku-900317 3c9", mx_legal_name="ESCUELA KEMPER URGATE",
                        mx_tax_regime="601", mx_cfdi_use="G03", mx_fiscal_zip="26015")
        self.assertEqual(frappe.db.get_value("Customer", name, "tax_id"), "EKU9003173C9")
        sale = pos_invoice(name, [("ML-CAFE", 1, 80)], profile=PROFILE)
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        row = cfdi_of(sale)
        self.assertEqual(row.status, "Stamped", row.last_error)
        self.assertEqual(self.emulator.state.invoices[row.facturapi_id]["customer"]["tax_id"], "EKU9003173C9")

    def test_a_customer_with_the_generic_rfc_is_publico_en_general_whatever_else_it_says(self):
        name = customer("ML Cliente Generico", tax_id="XAXX010101000", mx_legal_name="JUAN PEREZ",
                        mx_tax_regime="612", mx_cfdi_use="G03", mx_fiscal_zip="44100")
        sale = pos_invoice(name, [("ML-CAFE", 1, 80)], profile=PROFILE)
        frappe.db.commit()
        self.assertEqual((sale.mx_cfdi_status, sale.mx_cfdi), ("Awaiting Global", None))

    def test_a_foreign_rfc_without_its_country_is_named_at_the_till(self):
        name = customer("ML Cliente Extranjero", tax_id="XEXX010101000", mx_legal_name="ACME INC",
                        mx_tax_regime="616", mx_cfdi_use="S01", mx_fiscal_zip="")
        with self.assertRaises(frappe.ValidationError) as refused:
            pos_invoice(name, [("ML-CAFE", 1, 80)], profile=PROFILE)
        self.assertIn("Fiscal Residence", str(refused.exception))
        frappe.db.rollback()

    def test_a_walk_in_sale_must_be_paid_in_full(self):
        """Even where the till allows partial payments (layaway for nominative customers)."""
        frappe.db.set_value("POS Profile", PROFILE, "allow_partial_payment", 1)
        frappe.db.commit()
        with self.assertRaises(frappe.ValidationError) as refused:
            pos_invoice(WALK_IN, [("ML-CAFE", 2, 80)], profile=PROFILE, cash=50)
        self.assertIn("paid in full", str(refused.exception))
        frappe.db.rollback()
        paid = pos_invoice(WALK_IN, [("ML-CAFE", 2, 80)], profile=PROFILE)
        self.assertEqual(paid.mx_cfdi_status, "Awaiting Global")

    def test_a_free_item_is_left_out_and_noted(self):
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80), ("ML-PAN", 1, 0)], profile=PROFILE)
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        row = cfdi_of(sale)
        self.assertEqual(row.status, "Stamped", row.last_error)
        sent = self.emulator.state.invoices[row.facturapi_id]
        self.assertEqual([i["product"]["sku"] for i in sent["items"]], ["ML-CAFE"])
        self.assertIn("ML-PAN", row.review_note)

    def test_bimonthly_globals_are_for_regime_621_only(self):
        settings = frappe.get_doc("E Invoice Setting")
        settings.companies[0].organization_tax_system = "601"
        settings.global_periodicity = "Bimonthly"
        with self.assertRaises(frappe.ValidationError) as refused:
            settings.save(ignore_permissions=True)
        self.assertIn("621", str(refused.exception))
        frappe.db.rollback()
        settings = frappe.get_doc("E Invoice Setting")
        settings.companies[0].organization_tax_system = "621"
        settings.global_periodicity = "Bimonthly"
        settings.save(ignore_permissions=True)
        self.assertEqual(frappe.db.get_single_value("E Invoice Setting", "global_periodicity"), "Bimonthly")
        self.enable(global_periodicity="Daily")

    def test_a_return_made_after_its_sales_period_is_a_credit_note_to_that_periods_global(self):
        """A global declares its period's operations: a later return is an egreso related to it."""
        ticket = pos_invoice(WALK_IN, [("ML-CAFE", 2, 80)], profile=PROFILE)
        frappe.db.set_value("POS Invoice", ticket.name, "posting_date", add_days(nowdate(), -1))
        frappe.db.commit()
        ret = pos_return(frappe.get_doc("POS Invoice", ticket.name), 1)
        self.assertEqual(frappe.db.get_value("POS Invoice", ret.name, "mx_cfdi_status"), "Awaiting Original")
        [name] = [g for g in issue_due_globals() if frappe.db.exists("CFDI Global Ticket", {
            "parent": g, "pos_invoice": ticket.name})]
        stamp(name)
        global_row = frappe.get_doc("CFDI", name)
        self.assertEqual(global_row.status, "Stamped", global_row.last_error)
        self.assertEqual(float(global_row.total), float(ticket.grand_total), "the return is not netted into it")
        note = cfdi_of(frappe.get_doc("POS Invoice", ret.name))
        self.assertEqual((note.cfdi_type, note.status, note.related_uuids), ("E", "Queued", global_row.uuid))
        stamp(note.name)
        note.reload()
        self.assertEqual(note.status, "Stamped", note.last_error)
        sent = self.emulator.state.invoices[note.facturapi_id]
        self.assertEqual(sent["related_documents"], [{"relationship": "03", "documents": [global_row.uuid]}])

    def test_a_cfdi_with_a_valid_credit_note_is_neither_cancelled_nor_reissued(self):
        """SAT refuses to cancel a CFDI while valid CFDIs relate to it: asking anyway would leave both
        valid (the income counted twice). The credit note is cancelled first."""
        self.enable(enable_cancellation=1, global_periodicity="Daily")
        self.emulator.config.cancellation = "accepted"
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80)], profile=PROFILE)
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        note = cfdi_of(pos_return(frappe.get_doc("POS Invoice", sale.name), 1))
        stamp(note.name)
        self.assertEqual(frappe.db.get_value("CFDI", note.name, "status"), "Stamped")
        for attempt in (lambda: api.cancel_cfdi(sale.mx_cfdi, "02"), lambda: api.reissue_cfdi(sale.name)):
            with self.assertRaises(frappe.ValidationError) as refused:
                attempt()
            self.assertIn(note.name, str(refused.exception))
            frappe.db.rollback()
        self.assertEqual(frappe.db.get_value("CFDI", sale.mx_cfdi, "status"), "Stamped")
        self.assertFalse(frappe.db.exists("CFDI", {"substitutes": sale.mx_cfdi}), "no substitute beside it")
        api.cancel_cfdi(note.name, "02")
        frappe.db.commit()
        cancel(note.name)
        self.assertEqual(api.cancel_cfdi(sale.mx_cfdi, "02")["status"], "Cancel Requested")
        frappe.db.commit()

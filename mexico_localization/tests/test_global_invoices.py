"""Walk-in sales and the global CFDI to público en general, against the emulator: a day of mixed
tickets, returns netted, the nominative request before and after the global, "Each ticket", and
the scheduled job's deadline rules. Job functions are called directly (the fault suite runs workers)."""

from __future__ import annotations

from datetime import timedelta

import frappe
from frappe.utils import add_days, flt, get_datetime, getdate, now_datetime, nowdate

from mexico_localization.cfdi.global_cfdi import DAY, period_of
from mexico_localization.einvoice import api
from mexico_localization.einvoice.kinds.global_invoice import create_global
from mexico_localization.einvoice.operations.walk_in import issue_due_globals
from mexico_localization.einvoice.pipeline.jobs import cancel, stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice, pos_return
from mexico_localization.tests.stamping_utils import StampingTestCase

PROFILE, ZIP = "ML Caja Global", "06700"   # its own place of issue: other tests' tickets stay out of these globals


class TestGlobalInvoices(StampingTestCase):
    own_till = (PROFILE, ZIP)

    def setUp(self):
        self.emulator.reset()
        self.enable(global_periodicity="Daily", enable_cancellation=1, global_max_concepts=1000)
        # Tickets an earlier test left waiting at this place of issue are settled, so each test sees its own day.
        frappe.db.sql("""update `tabPOS Invoice` set mx_cfdi_status='Not Applicable'
                         where pos_profile=%s and mx_cfdi_status='Awaiting Global'""", PROFILE)
        frappe.db.commit()

    def ticket(self, lines=(("ML-CAFE", 2, 80),), customer=WALK_IN, **kwargs):
        invoice = pos_invoice(customer, list(lines), profile=PROFILE, **kwargs)
        frappe.db.commit()
        return invoice

    def issue(self) -> str:
        """The hourly job, run as if it were early tomorrow: today's period has closed."""
        made = issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
        mine = [n for n in made if f"-{ZIP}-" in n]
        self.assertEqual(len(mine), 1, made)
        return mine[0]

    def stamped_body(self, cfdi) -> dict:
        return self.emulator.state.invoices[cfdi.facturapi_id]

    def mirror(self, invoice) -> frappe._dict:
        return frappe.db.get_value("POS Invoice", invoice.name, ["mx_cfdi_status", "mx_cfdi", "mx_cfdi_uuid",
                                                                 "mx_cfdi_message"], as_dict=True)

    def test_a_day_of_mixed_tickets_becomes_one_global_with_a_concept_per_ticket(self):
        nominative = self.ticket(customer=NOMINATIVE)
        cash = self.ticket()
        card = self.ticket(lines=(("ML-PAN", 1, 500),), card=580)
        partly_returned = self.ticket(lines=(("ML-CAFE", 3, 100),))
        fully_returned = self.ticket(lines=(("ML-PAN", 1, 10),))
        returns = [pos_return(partly_returned, 1), pos_return(fully_returned, 1)]
        self.assertEqual(nominative.mx_cfdi_status, "Queued")
        for doc in (cash, card, partly_returned, fully_returned, *returns):
            self.assertEqual(self.mirror(doc).mx_cfdi_status, "Awaiting Global", doc.name)
        self.assertEqual(issue_due_globals(now=now_datetime()), [], "today's period is still open")

        name = self.issue()
        cfdi = frappe.get_doc("CFDI", name)
        self.assertEqual((cfdi.is_global, cfdi.status, cfdi.expedition_zip, cfdi.global_periodicity),
                         (1, "Queued", ZIP, DAY))
        self.assertEqual([t.pos_invoice for t in cfdi.tickets],
                         [cash.name, card.name, partly_returned.name, fully_returned.name])
        self.assertEqual(flt(cfdi.total), flt(cash.grand_total + card.grand_total + 2 * 116))
        stamp(name)
        cfdi.reload()
        self.assertEqual(cfdi.status, "Stamped", cfdi.last_error)
        body = self.stamped_body(cfdi)
        self.assertEqual(body["customer"]["tax_id"], "XAXX010101000")
        self.assertEqual((body["use"], body["payment_method"], body["payment_form"]), ("S01", "PUE", "28"))
        self.assertEqual(body["global"], {"periodicity": "day", "months": f"{getdate().month:02d}",
                                          "year": getdate().year})
        self.assertEqual([(i["product"]["sku"], i["product"]["price"]) for i in body["items"]],
                         [(cash.name, 160), (card.name, 500), (partly_returned.name, 200)])
        self.assertEqual({(i["product"]["product_key"], i["product"]["unit_key"], i["quantity"])
                          for i in body["items"]}, {("01010101", "ACT", 1)})
        self.assertAlmostEqual(flt(body["total"]), flt(cfdi.total), places=2)
        for doc in (cash, card, partly_returned, fully_returned, *returns):
            self.assertEqual(self.mirror(doc).mx_cfdi_uuid, cfdi.uuid, doc.name)
            self.assertEqual(self.mirror(doc).mx_cfdi_status, "Stamped")
        self.assertNotEqual(self.mirror(nominative).mx_cfdi, name)
        self.assertEqual(self.emulator.state.summary()["stamps_per_external_id"], {cfdi.external_id: 1})

    def test_a_nominative_request_before_the_global_takes_the_ticket_out_of_it(self):
        walk_in, other = self.ticket(), self.ticket()
        answer = api.request_nominative(walk_in.name, NOMINATIVE)
        row = frappe.get_doc("CFDI", answer["cfdi"])
        self.assertEqual((row.name, row.receiver_customer, row.status), (f"{walk_in.name}-I", NOMINATIVE, "Queued"))
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped", row.last_error)
        self.assertEqual(self.stamped_body(row)["customer"]["tax_id"], "EKU9003173C9")
        self.assertEqual(self.mirror(walk_in).mx_cfdi_uuid, row.uuid)
        name = self.issue()
        self.assertEqual([t.pos_invoice for t in frappe.get_doc("CFDI", name).tickets], [other.name])

    def test_a_nominative_request_needs_a_customer_with_fiscal_data(self):
        walk_in = self.ticket()
        with self.assertRaises(frappe.ValidationError):
            api.request_nominative(walk_in.name, WALK_IN)
        with self.assertRaises(frappe.ValidationError):
            api.request_nominative(self.ticket(customer=NOMINATIVE).name, NOMINATIVE)
        self.assertEqual(self.mirror(walk_in).mx_cfdi_status, "Awaiting Global")

    def test_a_nominative_request_after_the_global_cancels_it_with_motive_04_and_reissues_the_rest(self):
        walk_in, other = self.ticket(), self.ticket(lines=(("ML-PAN", 2, 50),))
        old = self.issue()
        stamp(old)
        old_uuid = frappe.db.get_value("CFDI", old, "uuid")

        self.enable(enable_cancellation=0)
        with self.assertRaises(frappe.ValidationError):
            api.request_nominative(walk_in.name, NOMINATIVE)
        self.enable(enable_cancellation=1)

        nominative = api.request_nominative(walk_in.name, NOMINATIVE)["cfdi"]
        old_row = frappe.get_doc("CFDI", old)
        self.assertEqual({t.pos_invoice: t.removed_by for t in old_row.tickets},
                         {walk_in.name: nominative, other.name: None})
        self.assertEqual(old_row.status, "Stamped", "the global stays valid until the nominative CFDI exists")
        stamp(nominative)
        self.assertEqual(frappe.db.get_value("CFDI", nominative, "status"), "Stamped")
        old_row.reload()
        self.assertEqual((old_row.status, old_row.cancellation_motive), ("Cancel Requested", "04"))

        cancel(old)
        old_row.reload()
        self.assertEqual(old_row.status, "Cancelled", old_row.last_error)
        self.assertEqual(self.emulator.state.invoices[old_row.facturapi_id]["cancellation"]["motive"], "04")
        self.assertTrue(old_row.cancellation_receipt_file)
        new = old_row.reissued_as
        self.assertEqual([t.pos_invoice for t in frappe.get_doc("CFDI", new).tickets], [other.name])
        stamp(new)
        new_row = frappe.get_doc("CFDI", new)
        self.assertEqual(new_row.status, "Stamped", new_row.last_error)
        self.assertNotEqual(new_row.uuid, old_uuid)
        self.assertEqual([i["product"]["sku"] for i in self.stamped_body(new_row)["items"]], [other.name])
        self.assertEqual(self.mirror(other).mx_cfdi_uuid, new_row.uuid)
        self.assertEqual(self.mirror(walk_in).mx_cfdi, nominative)
        calls = self.emulator.state.summary()["calls"]
        self.assertEqual((calls.get("create_invoice"), calls.get("cancel_invoice")), (3, 1))

    def test_a_return_netted_into_the_global_becomes_a_credit_note_of_the_tickets_nominative_cfdi(self):
        """Issue 17, item 17: the re-issued global collects only the returns of the tickets that stay, so
        the requested ticket's netted return would be lost; it becomes a credit note related to the
        ticket's nominative CFDI, which declares the whole sale."""
        walk_in, other = self.ticket(), self.ticket(lines=(("ML-PAN", 2, 50),))
        ret, other_ret = pos_return(walk_in, 1), pos_return(other, 1)
        old = self.issue()
        self.assertEqual(frappe.db.get_value("POS Invoice", ret.name, "mx_cfdi"), old)
        stamp(old)
        self.assertEqual(self.stamped_body(frappe.get_doc("CFDI", old))["total"], 92.8 + 58.0)  # both netted

        nominative = api.request_nominative(walk_in.name, NOMINATIVE)["cfdi"]
        credit = frappe.get_doc("CFDI", {"reference_name": ret.name, "cfdi_type": "E"})
        self.assertEqual((credit.status, credit.original_invoice), ("Awaiting Original", walk_in.name))
        stamp(nominative)
        nominative_row = frappe.get_doc("CFDI", nominative)
        self.assertEqual(self.stamped_body(nominative_row)["total"], 185.6)  # the whole sale
        credit.reload()
        self.assertEqual((credit.status, credit.related_uuids), ("Queued", nominative_row.uuid))
        stamp(credit.name)
        credit.reload()
        self.assertEqual(credit.status, "Stamped", credit.last_error)
        body = self.stamped_body(credit)
        self.assertEqual((body["type"], body["customer"]["tax_id"], body["total"]), ("E", "EKU9003173C9", 92.8))
        self.assertEqual(body["related_documents"], [{"relationship": "03", "documents": [nominative_row.uuid]}])
        cancel(old)
        new = frappe.db.get_value("CFDI", old, "reissued_as")
        stamp(new)
        self.assertEqual([t.pos_invoice for t in frappe.get_doc("CFDI", new).tickets], [other.name])
        # The ticket that stays keeps its return netted: the re-issue declares 58.00, not 116.00.
        self.assertEqual(self.stamped_body(frappe.get_doc("CFDI", new))["total"], 58.0)
        self.assertEqual(frappe.db.get_value("POS Invoice", other_ret.name, "mx_cfdi"), new)

    def test_each_ticket_stamps_a_walk_in_sale_at_once_as_its_own_global(self):
        self.enable(global_periodicity="Each ticket")
        walk_in = self.ticket()
        row = frappe.get_doc("CFDI", f"{walk_in.name}-IG")
        self.assertEqual((walk_in.mx_cfdi_status, row.is_global, row.status), ("Queued", 1, "Queued"))
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped", row.last_error)
        body = self.stamped_body(row)
        self.assertEqual((body["customer"]["tax_id"], body["global"]["periodicity"], len(body["items"])),
                         ("XAXX010101000", "day", 1))
        self.assertEqual(self.mirror(walk_in).mx_cfdi_uuid, row.uuid)

    def test_the_job_is_scheduled_hourly_and_flags_a_global_issued_after_the_deadline(self):
        hooks = frappe.get_hooks("scheduler_events")["cron"]
        self.assertIn("mexico_localization.einvoice.operations.walk_in.issue_due_globals", hooks["5 * * * *"])
        walk_in = self.ticket()
        late = period_of(getdate() - timedelta(days=3), DAY)
        name = create_global(self.shop.company, ZIP, late, [walk_in.name])
        self.assertIn("deadline", frappe.db.get_value("CFDI", name, "review_note"))
        self.assertIsNone(create_global(self.shop.company, ZIP, late, [walk_in.name]), "a ticket is in one global")

    def test_a_failed_global_tells_every_ticket_what_to_fix(self):
        walk_in = self.ticket()
        frappe.db.set_value("POS Profile", PROFILE, "mx_expedition_zip", "")
        frappe.db.commit()
        try:
            made = issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
            name = frappe.db.get_value("POS Invoice", walk_in.name, "mx_cfdi")
            self.assertIn(name, made)
            stamp(name)
        finally:
            frappe.db.set_value("POS Profile", PROFILE, "mx_expedition_zip", ZIP)
            frappe.db.commit()
        mirror = self.mirror(walk_in)
        self.assertEqual(mirror.mx_cfdi_status, "Failed")
        self.assertIn("Expedition Zip", mirror.mx_cfdi_message)

    def test_a_global_is_replaced_never_left_cancelled_with_its_tickets_uncovered(self):
        self.emulator.config.cancellation = "accepted"
        tickets = [self.ticket(), self.ticket()]
        old = self.issue()
        stamp(old)
        with self.assertRaises(frappe.ValidationError) as refused:
            api.cancel_cfdi(old, "02")
        self.assertIn("Re-issue Global CFDI", str(refused.exception))
        new = api.reissue_global(old)["cfdi"]
        frappe.db.commit()
        self.assertEqual(frappe.db.get_value("CFDI", old, "status"), "Stamped", "valid until replaced")
        stamp(new)
        replacement = frappe.get_doc("CFDI", new)
        self.assertEqual(replacement.status, "Stamped", replacement.last_error)
        old_uuid = frappe.db.get_value("CFDI", old, "uuid")
        sent = self.emulator.state.invoices[replacement.facturapi_id]
        self.assertEqual(sent["related_documents"], [{"relationship": "04", "documents": [old_uuid]}])
        self.assertEqual({t.pos_invoice for t in replacement.tickets}, {t.name for t in tickets})
        self.assertEqual(frappe.db.get_value("CFDI", old, ["status", "cancellation_motive", "substitution_uuid"]),
                         ("Cancel Requested", "01", replacement.uuid))
        cancel(old)
        self.assertEqual(frappe.db.get_value("CFDI", old, "status"), "Cancelled")
        for ticket in tickets:
            self.assertEqual(frappe.db.get_value("POS Invoice", ticket.name, ["mx_cfdi", "mx_cfdi_status"]),
                             (new, "Stamped"))

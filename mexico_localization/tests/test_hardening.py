"""The security and reliability review, tried as an attacker and as a careless operator would: each
defect it found, attempted again against a real site (REST API included) and refused."""

from __future__ import annotations

import hashlib

import frappe
from frappe.utils import add_days, add_to_date, get_datetime, getdate, now_datetime, nowdate

from mexico_localization.einvoice import api
from mexico_localization.einvoice.operations import audit, bulk
from mexico_localization.einvoice.operations.walk_in import issue_due_globals
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase, cfdi_of
from mexico_localization.tests.utils import api_token, make_user, rest

PROFILE, ZIP = "ML Caja Seguridad", "06730"
CASHIER, ACCOUNTANT = "cajera-seguridad@example.com", "contadora-seguridad@example.com"
MIRROR = ["mx_cfdi_status", "mx_cfdi", "mx_cfdi_uuid", "mx_cfdi_message"]


class TestHardening(StampingTestCase):
    own_till = (PROFILE, ZIP)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_user(CASHIER, ["Accounts User", "Sales Manager"])  # ERPNext's POS needs Sales Manager's opening entries
        make_user(ACCOUNTANT, ["Accounts Manager", "Accounts User"])
        frappe.db.commit()
        cls.tokens = {CASHIER: api_token(CASHIER), ACCOUNTANT: api_token(ACCOUNTANT)}

    def setUp(self):
        self.emulator.reset()
        self.emulator.config.cancellation = "accepted"
        self.enable(enable_cancellation=1, global_periodicity="Daily")

    def sale(self, customer=NOMINATIVE, stamped=True, **kwargs):
        invoice = pos_invoice(customer, [("ML-CAFE", 1, 80)], profile=PROFILE, **kwargs)
        frappe.db.commit()
        if stamped and invoice.mx_cfdi:
            stamp(invoice.mx_cfdi)
        return invoice

    def issue(self) -> list[str]:
        """The hourly job, as if it ran early tomorrow: today's walk-in tickets of this till."""
        made = issue_due_globals(now=get_datetime(f"{add_days(nowdate(), 1)} 00:05:00"))
        return [name for name in made if f"-{ZIP}-" in name]

    def mirror(self, name: str) -> tuple:
        frappe.db.rollback()
        return tuple(frappe.db.get_value("POS Invoice", name, MIRROR))

    # --- 2: the mirror fields can be forged by nobody ---------------------------------------------

    def test_no_user_can_forge_a_sales_cfdi_fields_through_the_rest_api(self):
        ticket = self.sale(WALK_IN, stamped=False)
        stamped = self.sale()
        earlier = self.sale(WALK_IN, stamped=False)
        frappe.db.set_value("POS Invoice", ticket.name, "mx_cfdi", "HOLD")  # kept out of this first global
        frappe.db.commit()
        for name in self.issue():  # a stamped global to point the ticket at
            stamp(name)
        frappe.db.set_value("POS Invoice", ticket.name, "mx_cfdi", None)
        frappe.db.commit()
        self.assertTrue(frappe.db.exists("CFDI Global Ticket", {"pos_invoice": earlier.name}))
        ticket_before, stamped_before = self.mirror(ticket.name), self.mirror(stamped.name)
        self.assertEqual(ticket_before[:2], ("Awaiting Global", None))
        forged_global = frappe.db.get_value("CFDI", {"is_global": 1, "status": "Stamped"}, "name") or "FORGED"
        for user, token in self.tokens.items():
            for name, values in ((ticket.name, {"mx_cfdi": forged_global, "mx_cfdi_status": "Stamped"}),
                                 (stamped.name, {"mx_cfdi_status": "Not Applicable", "mx_cfdi": "",
                                                 "mx_cfdi_uuid": "", "mx_cfdi_message": "nada"})):
                response = rest("PUT", f"/api/resource/POS Invoice/{name}", token, values)
                self.assertIn(response.status_code, (200, 403, 417), (user, response.json))
            self.assertEqual(self.mirror(ticket.name), ticket_before, user)
            self.assertEqual(self.mirror(stamped.name), stamped_before, user)
            response = rest("POST", "/api/method/frappe.client.cancel", token,
                            {"doctype": "POS Invoice", "name": stamped.name})
            self.assertNotEqual(response.status_code, 200, user)
            self.assertEqual(frappe.db.get_value("POS Invoice", stamped.name, "docstatus"), 1, user)
        # A draft carrying forged values starts without them; its submit decides the CFDI.
        draft = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)], profile=PROFILE, submit=False)
        frappe.db.commit()
        response = rest("PUT", f"/api/resource/POS Invoice/{draft.name}", self.tokens[CASHIER],
                        {"mx_cfdi_status": "Stamped", "mx_cfdi": stamped.mx_cfdi})
        self.assertEqual(response.status_code, 200, response.json)
        self.assertEqual(self.mirror(draft.name)[:2], (None, None))
        frappe.get_doc("POS Invoice", draft.name).submit()
        frappe.db.commit()
        row = cfdi_of(frappe.get_doc("POS Invoice", draft.name))
        self.assertEqual((row.status, row.reference_name), ("Queued", draft.name))
        # The walk-in ticket still goes into its global.
        self.assertTrue(self.issue())
        self.assertTrue(frappe.db.exists("CFDI Global Ticket", {"pos_invoice": ticket.name}))

    # --- 3: a ticket in a global stays until the global is cancelled ------------------------------

    def test_a_ticket_in_a_global_cannot_be_cancelled_and_a_cancelled_one_is_never_declared(self):
        ticket = self.sale(WALK_IN, stamped=False)
        [name] = [g for g in self.issue() if frappe.db.exists("CFDI Global Ticket", {
            "parent": g, "pos_invoice": ticket.name})]
        self.assertEqual(frappe.db.get_value("POS Invoice", ticket.name, "mx_cfdi_status"), "Awaiting Global")
        with self.assertRaises(frappe.ValidationError):
            frappe.get_doc("POS Invoice", ticket.name).cancel()
        frappe.db.rollback()
        frappe.db.set_value("POS Invoice", ticket.name, "docstatus", 2)  # as if cancelled behind the guard
        frappe.db.commit()
        stamp(name)
        row = frappe.get_doc("CFDI", name)
        self.assertEqual(row.status, "Failed")
        self.assertIn(ticket.name, row.last_error)
        self.assertNotIn(row.external_id, self.emulator.state.summary()["stamps_per_external_id"])
        frappe.db.set_value("POS Invoice", ticket.name, "docstatus", 1)
        frappe.db.commit()

    # --- 4: the key goes only where a System Manager points it ------------------------------------

    def test_only_a_system_manager_moves_the_key_and_a_new_host_never_gets_the_old_key(self):
        manager = make_user("gerente-cfdi@example.com", ["CFDI Manager"])
        frappe.set_user(manager)
        try:
            settings = frappe.get_doc("E Invoice Setting")
            settings.server_url = self.emulator.url.replace("127.0.0.1", "localhost")
            with self.assertRaises(frappe.PermissionError):
                settings.save()
        finally:
            frappe.set_user("Administrator")
        for url in ("https://evil.example/v2", "https://user:pass@www.facturapi.io/v2"):
            settings = frappe.get_doc("E Invoice Setting")
            settings.server_url = url
            with self.assertRaises(frappe.ValidationError):
                settings.save()
        settings = frappe.get_doc("E Invoice Setting")
        settings.update({"server_url": self.emulator.url.replace("127.0.0.1", "localhost"), "enable_e_invoice": 0})
        settings.save()
        settings.reload()
        [row] = settings.companies
        self.assertFalse(row.get_password("secret_key", raise_exception=False), "the old key was removed")
        self.assertFalse(row.last_ping_at)
        self.enable()  # the class's settings, key included, again

    def test_the_organizations_text_is_escaped_before_it_is_stored_or_shown(self):
        self.emulator.config.org_legal_name = '<img src=x onerror="alert(1)">'
        try:
            answer = api.ping_server()
        finally:
            self.emulator.config.org_legal_name = "ESCUELA KEMPER URGATE"
        stored = frappe.db.get_value("E Invoice Company", {"company": self.shop.company}, "organization_legal_name")
        self.assertNotIn("<img", stored)
        self.assertIn("&lt;img", stored)
        self.assertNotIn("<img", answer["message"])

    # --- 5: a malformed answer after a stamp is recorded, counted and adopted ---------------------

    def test_a_malformed_answer_after_the_stamp_is_recorded_and_the_cfdi_adopted_once(self):
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("create_invoice", "malformed", set={"stamp": "timbrado", "total": "mucho"})
        stamp(row.name)
        row.reload()
        self.assertEqual((row.status, row.needs_reconcile, row.attempt_count, row.generation), ("Retrying", 1, 1, 1))
        self.assertEqual(row.attempts[0].operation, "create_invoice")
        request = frappe.get_doc("Integration Request", row.attempts[0].integration_request)
        self.assertIn("timbrado", request.output, "the answer that stamped is on record")
        frappe.db.set_value("CFDI", row.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped")
        self.assertEqual(self.emulator.state.summary()["stamps_per_external_id"], {row.external_id: 1})

    def test_an_infinite_retry_after_waits_a_day_at_most(self):
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("create_invoice", "rate_limit", retry_after="inf")
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Retrying")
        self.assertLessEqual(row.next_attempt_at, add_to_date(now_datetime(), days=1, minutes=1))

    # --- 7: a CFDI's files are the record's, not their owner's ------------------------------------

    def test_a_cfdis_files_cannot_be_moved_published_or_swapped(self):
        row = cfdi_of(self.sale())
        xml = frappe.get_doc("File", {"file_url": row.xml_file})
        self.assertEqual(xml.owner, "Administrator")
        self.assertEqual(row.xml_sha256, hashlib.sha256(xml.get_content().encode()
                                                        if isinstance(xml.get_content(), str)
                                                        else xml.get_content()).hexdigest())
        for change in ({"is_private": 0}, {"attached_to_name": "ACC-PSINV-OTRA"}, {"attached_to_doctype": ""},
                       {"file_url": "/files/x.xml"}):
            for token in self.tokens.values():
                response = rest("PUT", f"/api/resource/File/{xml.name}", token, change)
                self.assertNotEqual(response.status_code, 200, change)
            doc = frappe.get_doc("File", xml.name)
            doc.update(change)
            with self.assertRaises(frappe.PermissionError):
                doc.save(ignore_permissions=True)  # not even an administrator
            frappe.db.rollback()
        fresh = frappe.get_doc("File", xml.name)
        self.assertEqual((fresh.is_private, fresh.attached_to_name, fresh.file_url), (1, row.name, row.xml_file))

    def test_verify_names_an_xml_whose_bytes_changed(self):
        row = cfdi_of(self.sale())
        self.assertTrue(api.verify_audit_trail()["intact"])
        path = frappe.get_doc("File", {"file_url": row.xml_file}).get_full_path()
        with open(path, "rb") as handle:
            original = handle.read()
        try:
            with open(path, "wb") as handle:
                handle.write(original.replace(b"Total=", b"Total=\"1\" X="))
            finding = api.verify_audit_trail()
            self.assertFalse(finding["intact"])
            self.assertEqual((finding["reason"], finding["cfdi"], finding["file"]),
                             ("file changed", row.name, row.xml_file))
        finally:
            with open(path, "wb") as handle:
                handle.write(original)
        self.assertTrue(api.verify_audit_trail()["intact"])

    # --- 8: a late adoption never reopens a sealed day --------------------------------------------

    def test_a_stamp_adopted_after_its_day_was_sealed_keeps_the_seal(self):
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("create_invoice", "reset_after_stamp")
        stamp(row.name)
        [invoice] = [i for i in self.emulator.state.invoices.values() if i.get("external_id") == row.external_id]
        invoice["stamp"]["date"] = f"{add_days(getdate(), -1)}T18:00:00.000Z"  # FacturaAPI stamped it yesterday
        audit.seal_days(until=add_days(getdate(), -1))
        frappe.db.set_value("CFDI", row.name, "next_attempt_at", add_to_date(now_datetime(), seconds=-1))
        frappe.db.commit()
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped")
        self.assertLess(getdate(row.stamped_at), getdate(row.stamp_recorded_at))
        self.assertTrue(api.verify_audit_trail()["intact"])

    # --- 9: only the CFDI's own XML is kept -------------------------------------------------------

    def test_a_proxy_page_is_never_kept_as_the_sealed_xml(self):
        row = cfdi_of(self.sale(stamped=False))
        self.emulator.add_fault("download", "web_page")
        stamp(row.name)
        row.reload()
        self.assertEqual(row.status, "Stamped")
        self.assertFalse(row.xml_file, "the page was refused")
        failed = [a for a in row.attempts if a.operation == "download_xml"]
        self.assertTrue(failed and failed[0].error and failed[0].http_status == 200)

    # --- 10: bulk acts only on what the manager may see -------------------------------------------

    def test_bulk_selection_honours_user_permissions(self):
        sale = self.sale(stamped=False)
        frappe.db.set_value("CFDI", sale.mx_cfdi, "status", "Failed")
        frappe.db.commit()
        other = frappe.db.get_value("Company", {"name": ["!=", self.shop.company]}, "name")
        manager = make_user("gerente-otra-empresa@example.com", ["CFDI Manager", "Accounts Manager"])
        if not frappe.db.exists("User Permission", {"user": manager, "allow": "Company", "for_value": other}):
            frappe.get_doc({"doctype": "User Permission", "user": manager, "allow": "Company",
                            "for_value": other}).insert(ignore_permissions=True)
        frappe.db.commit()
        frappe.set_user(manager)
        try:
            preview = api.bulk_preview(names=frappe.as_json([sale.name]))
            by_filter = bulk.preview([["POS Invoice", "name", "=", sale.name]], None, True)
        finally:
            frappe.set_user("Administrator")
        self.assertEqual((preview["to_generate"], preview["skipped"]), (0, 0))
        self.assertEqual(by_filter["to_generate"], 0)

    # --- 12: customer data and FacturaAPI's words are escaped where they are shown ----------------

    def test_a_customers_data_is_escaped_in_the_message_that_refuses_it(self):
        bad = "<img src=x onerror=alert(1)>"
        name = frappe.db.get_value("Customer", {"customer_name": "ML Cliente Raro"})
        if not name:
            name = frappe.get_doc({"doctype": "Customer", "customer_name": "ML Cliente Raro", "mx_legal_name": bad,
                                   "tax_id": "XYZ", "customer_group": frappe.db.get_value("Customer Group", {}),
                                   "territory": frappe.db.get_value("Territory", {})}).insert(
                                       ignore_permissions=True).name
        ticket = self.sale(WALK_IN, stamped=False)
        with self.assertRaises(frappe.ValidationError) as refused:
            api.request_nominative(ticket.name, name)
        self.assertNotIn("<img", str(refused.exception))
        frappe.db.rollback()

"""Ping Server against the emulator: the answer, the Last Ping block, and the records it leaves."""

import json

import frappe

from mexico_localization.einvoice.api import ping_server
from mexico_localization.tests.pos_fixtures import second_company
from mexico_localization.tests.utils import ORG_RFC, EmulatorTestCase, configure, make_user, ping_row, test_company

SETTINGS = "E Invoice Setting"


def settings_modified() -> str:
    rows = frappe.db.sql("select value from tabSingles where doctype=%s and field='modified'", SETTINGS)
    return rows[0][0] if rows else ""


class TestPing(EmulatorTestCase):
    def setUp(self):
        self.emulator.reset()
        self.emulator.config.keys = None
        self.emulator.config.production_ready = True
        frappe.db.set_value("Company", test_company(), "tax_id", ORG_RFC)
        configure(self.emulator.url)
        self.since = frappe.utils.now_datetime()

    def new_requests(self):
        return frappe.get_all("Integration Request", filters={"creation": [">=", self.since],
                                                              "integration_request_service": "FacturaAPI"},
                              fields=["*"], order_by="creation asc")

    def test_connected_answer_names_organization_and_environment(self):
        modified = settings_modified()
        answer = ping_server()
        self.assertTrue(answer["ok"], answer)
        self.assertIn("ESCUELA KEMPER URGATE", answer["message"])
        self.assertIn(ORG_RFC, answer["message"])
        self.assertIn("Test", answer["message"])
        self.assertTrue(any("emulator" in w for w in answer["warnings"]))
        settings = ping_row()
        self.assertEqual(settings.last_ping_status, "Connected")
        self.assertEqual(settings.key_environment, "Test")
        self.assertEqual(settings.organization_tax_id, ORG_RFC)
        self.assertEqual(settings.is_production_ready, 1)
        self.assertEqual(settings.served_by_emulator, 1)
        self.assertTrue(settings.certificate_expires_at and settings.last_ping_at)
        self.assertEqual(settings_modified(), modified)

    def test_each_call_is_an_integration_request(self):
        ping_server()
        [request] = self.new_requests()
        self.assertEqual(request.status, "Completed")
        self.assertEqual((request.reference_doctype, request.reference_docname), (SETTINGS, SETTINGS))
        self.assertTrue(request.url.startswith("GET http://127.0.0.1:"))
        self.assertTrue(request.url.endswith("/v2/organizations/me"))
        self.assertEqual(json.loads(request.request_headers)["Authorization"], "********")
        self.assertEqual(json.loads(request.output)["legal"]["tax_id"], ORG_RFC)
        self.assertTrue(request.request_id)  # X-Facturapi-Log-Id
        self.assertIn("ping · 200", request.request_description)

    def test_rejected_key_says_so_and_leaves_an_error_log(self):
        self.emulator.config.keys = frozenset({"sk_test_only_this_one_is_good_00"})
        errors_before = frappe.db.count("Error Log")
        answer = ping_server()
        self.assertFalse(answer["ok"])
        self.assertIn("rejected the Secret Key", answer["message"])
        [request] = self.new_requests()
        self.assertEqual(request.status, "Failed")
        self.assertEqual(json.loads(request.error)["http_status"], 401)
        self.assertEqual(json.loads(request.output)["code"], "api_key_invalid")
        self.assertEqual(frappe.db.count("Error Log"), errors_before + 1)
        log = frappe.get_last_doc("Error Log")
        self.assertEqual((log.reference_doctype, log.reference_name), (SETTINGS, SETTINGS))
        self.assertIn("AuthenticationError", log.error)
        self.assertEqual(ping_row().last_ping_status, "Failed")

    def test_a_failed_ping_forgets_what_it_could_not_confirm_and_says_so(self):
        self.assertTrue(ping_server()["ok"])
        self.assertEqual(ping_row().organization_tax_id, ORG_RFC)
        self.emulator.config.keys = frozenset({"sk_test_only_this_one_is_good_00"})
        try:
            self.assertFalse(ping_server()["ok"])
        finally:
            self.emulator.config.keys = None
        row = ping_row()
        self.assertEqual(row.last_ping_status, "Failed")
        self.assertEqual((row.organization_tax_id, row.organization_legal_name, row.is_production_ready,
                          row.certificate_expires_at), (None, None, 0, None))
        warnings = " ".join(frappe.get_doc(SETTINGS).warnings())
        self.assertIn(f"The last ping of {test_company()} failed", warnings)
        self.assertIn("rejected the Secret Key", warnings)

    def test_the_result_is_a_code_whatever_the_pinging_users_language(self):
        frappe.local.lang = "es"
        try:
            answer = ping_server()
        finally:
            frappe.local.lang = "en"
        self.assertIn("Conectado", answer["message"])  # the person reads their language
        self.assertEqual(ping_row().last_ping_status, "Connected")  # the record keeps the code

    def test_unreachable_server_is_named(self):
        configure(f"http://{self.emulator.address[0]}:1/v2")
        answer = ping_server()
        self.assertFalse(answer["ok"])
        self.assertIn("Nothing answers at", answer["message"])
        self.assertEqual(self.new_requests()[0].status, "Failed")

    def test_unknown_host_is_named(self):
        import socket
        from unittest.mock import patch

        real = socket.getaddrinfo

        def unresolvable(host, *args, **kwargs):
            if host == "nx.facturapi.io":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(host, *args, **kwargs)

        configure("https://nx.facturapi.io/v2")
        with patch.object(socket, "getaddrinfo", unresolvable):
            answer = ping_server()
        self.assertIn("does not resolve", answer["message"])

    def test_tls_failure_is_named(self):
        host, port = self.emulator.address
        configure(f"https://{host}:{port}/v2")  # https to a plain-http server: the handshake fails
        self.assertIn("secure (https) connection", ping_server()["message"])

    def test_timeout_is_named(self):
        self.emulator.add_fault("ping", "latency", ms=2500)
        frappe.db.set_single_value(SETTINGS, "read_timeout", 1)  # below the form's minimum, for a quick test
        frappe.clear_document_cache(SETTINGS, SETTINGS)
        answer = ping_server()
        self.assertIn("did not answer within 1", answer["message"])
        self.assertEqual(self.new_requests()[0].status, "Failed")

    def test_not_production_ready_and_rfc_mismatch_are_warned(self):
        self.emulator.config.production_ready = False
        frappe.db.set_value("Company", test_company(), "tax_id", "AAA010101AAA")
        answer = ping_server()
        self.assertTrue(answer["ok"])
        text = " ".join(answer["warnings"])
        self.assertIn("not ready to stamp live CFDIs", text)
        self.assertIn("AAA010101AAA", text)
        self.assertIn(ORG_RFC, text)

    def test_missing_key_is_explained_without_a_call(self):
        frappe.db.delete("__Auth", {"doctype": "E Invoice Company", "fieldname": "secret_key"})
        answer = ping_server()
        self.assertFalse(answer["ok"])
        self.assertIn("Enter the Secret Key", answer["message"])
        self.assertEqual(self.new_requests(), [])

    def test_ping_needs_a_cfdi_or_system_manager(self):
        allowed = make_user("ml-ping-manager@example.com", ["CFDI Manager"])
        for user in (make_user("ml-ping-auditor@example.com", ["CFDI Auditor"]),
                     make_user("ml-ping-nobody@example.com", ["Accounts User"])):
            frappe.set_user(user)
            try:
                with self.assertRaises(frappe.PermissionError):
                    ping_server()
            finally:
                frappe.set_user("Administrator")
        frappe.set_user(allowed)
        try:
            self.assertTrue(ping_server()["ok"])
        finally:
            frappe.set_user("Administrator")

    def test_two_companies_ping_their_own_organizations(self):
        """Each row's key reaches its own organization; one company or all of them."""
        other = second_company()
        other_key = "sk_test_SECONDORGANIZATION0000001"
        self.emulator.config.organizations = {other_key: {"id": "6a00000000000000000e0002", "tax_id": "AAA010101AAA",
                                                          "legal_name": "SEGUNDA RAZON SOCIAL"}}
        try:
            frappe.db.set_value("Company", other, "tax_id", "AAA010101AAA")
            configure(self.emulator.url)
            settings = frappe.get_doc(SETTINGS)
            settings.append("companies", {"company": other, "secret_key": other_key})
            settings.save(ignore_permissions=True)
            answer = ping_server()
            self.assertTrue(answer["ok"], answer)
            self.assertEqual([a["company"] for a in answer["companies"]], [test_company(), other])
            self.assertEqual((ping_row().organization_tax_id, ping_row(other).organization_tax_id),
                             (ORG_RFC, "AAA010101AAA"))
            self.assertEqual(len(self.new_requests()), 2)
            only = ping_server(company=other)
            self.assertEqual([a["company"] for a in only["companies"]], [other])
            self.assertIn("SEGUNDA RAZON SOCIAL", only["message"])
        finally:
            self.emulator.config.organizations = {}

"""Several companies on one site, each its own FacturaAPI organization: each CFDI is created with its
company's key (the emulator tells keys apart), a company without a row gets none, a user restricted
to one company by User Permissions sees and acts on that company's CFDIs only, and an existing
single-key site is migrated by the patch with nothing else to do."""

from __future__ import annotations

import frappe
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from mexico_localization.einvoice import api
from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.einvoice.settings import company_secret
from mexico_localization.mexico_localization.report.cfdi_audit_trail import cfdi_audit_trail as audit_trail
from mexico_localization.patches.v1 import company_organizations
from mexico_localization.tests.pos_fixtures import (
    NOMINATIVE,
    SECOND_ABBR,
    SECOND_IVA,
    SECOND_RFC,
    pos_invoice,
    sales_invoice,
    second_company,
)
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import ORG_RFC, PLANTED_KEY, make_user

SETTINGS, ROW = "E Invoice Setting", "E Invoice Company"
SECOND_KEY = "sk_test_NORTEORGANIZATION0000000001"
FIRST_ORG, SECOND_ORG = "6a00000000000000000e0001", "6a00000000000000000e0002"


class TestCompanies(StampingTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.second = second_company()
        cls.emulator.config.organizations = {SECOND_KEY: {"id": SECOND_ORG, "tax_id": SECOND_RFC,
                                                          "legal_name": "NORTE PRUEBA"}}
        frappe.db.commit()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.config.organizations = {}
        frappe.db.delete("User Permission", {"user": ["like", "ml-company-%"]})
        frappe.db.commit()
        super().tearDownClass()

    def setUp(self):
        self.emulator.reset()
        self.enable()
        settings = frappe.get_doc(SETTINGS)
        settings.append("companies", {"company": self.second, "secret_key": SECOND_KEY, "expedition_zip": "64000"})
        settings.save(ignore_permissions=True)
        frappe.db.commit()

    def invoice(self, company: str):
        values = {} if company == self.shop.company else {"company": company, "abbr": SECOND_ABBR,
                                                           "iva_account": SECOND_IVA}
        invoice = sales_invoice(NOMINATIVE, [("ML-CAFE", 1, 100)], payment_form="03", **values)
        frappe.db.commit()
        return invoice

    def test_each_cfdi_is_created_with_its_companys_key(self):
        first, second = self.invoice(self.shop.company), self.invoice(self.second)
        for invoice in (first, second):
            stamp(invoice.mx_cfdi)
            self.assertEqual(frappe.db.get_value("CFDI", invoice.mx_cfdi, ["status", "company"]),
                             ("Stamped", invoice.company))
        held = {i["external_id"]: i["organization"] for i in self.emulator.state.summary()["invoices"]}
        ids = {name: frappe.db.get_value("CFDI", frappe.db.get_value("Sales Invoice", name, "mx_cfdi"), "external_id")
               for name in (first.name, second.name)}
        self.assertEqual((held[ids[first.name]], held[ids[second.name]]), (FIRST_ORG, SECOND_ORG))
        self.assertEqual(company_secret(self.shop.company).reveal(), PLANTED_KEY)
        self.assertEqual(company_secret(self.second).reveal(), SECOND_KEY)
        # The other organization's key cannot see it: each company's calls stay in its organization.
        other = frappe.get_doc("CFDI", second.mx_cfdi)
        self.assertNotIn(other.facturapi_id, [i["id"] for i in self.emulator.state.summary()["invoices"]
                                              if i["organization"] == FIRST_ORG])
        xml = frappe.get_doc("File", {"file_url": other.xml_file}).get_content()
        self.assertIn(f'Emisor Rfc="{SECOND_RFC}"', xml if isinstance(xml, str) else xml.decode())

    def test_a_company_without_a_row_gets_no_cfdi(self):
        self.enable()  # the first company's row only
        invoice = self.invoice(self.second)
        self.assertEqual(invoice.mx_cfdi_status, "Not Applicable")
        self.assertIn(self.second, invoice.mx_cfdi_message)
        self.assertFalse(invoice.mx_cfdi)

    def test_a_user_restricted_to_one_company_sees_and_acts_on_its_cfdis_only(self):
        first, second = self.invoice(self.shop.company), self.invoice(self.second)
        for invoice in (first, second):
            stamp(invoice.mx_cfdi)
        user = make_user("ml-company-manager@example.com", ["CFDI Manager", "Accounts User"])
        frappe.get_doc({"doctype": "User Permission", "user": user, "allow": "Company", "for_value": self.second,
                        "apply_to_all_doctypes": 1}).insert(ignore_permissions=True)
        frappe.db.commit()
        frappe.set_user(user)
        try:
            visible = frappe.get_list("CFDI", pluck="company")
            self.assertIn(self.second, visible)
            self.assertNotIn(self.shop.company, visible)
            trail = {r["name"] for r in audit_trail.execute({})[1]}
            self.assertIn(second.mx_cfdi, trail)
            self.assertNotIn(first.mx_cfdi, trail)
            with self.assertRaises(frappe.PermissionError):
                api.cancel_cfdi(first.mx_cfdi, "02")
            with self.assertRaises(frappe.PermissionError):
                api.retry_cfdi(first.name, doctype="Sales Invoice")
            with self.assertRaises(frappe.PermissionError):
                api.cfdi_pdf(first.mx_cfdi)
            preview = api.bulk_preview(names=frappe.as_json([first.name, second.name]), doctype="Sales Invoice")
            self.assertEqual(preview["to_generate"] + preview["skipped"], 1, "the other company's is not listed")
        finally:
            frappe.set_user("Administrator")

    def test_a_single_key_site_is_migrated_into_the_first_row(self):
        """As a site installed before companies had rows: the key, company and last ping on the single."""
        frappe.db.delete(ROW, {"parent": SETTINGS})
        frappe.db.delete("__Auth", {"doctype": ROW})
        for field, value in (("company", self.shop.company), ("secret_key", "*" * len(PLANTED_KEY)),
                             ("last_ping_status", "Connected"), ("organization_tax_id", ORG_RFC)):
            frappe.db.sql("insert into tabSingles (doctype, field, value) values (%s, %s, %s)",
                          (SETTINGS, field, value))
        set_encrypted_password(SETTINGS, SETTINGS, PLANTED_KEY, "secret_key")
        frappe.clear_document_cache(SETTINGS, SETTINGS)

        company_organizations.execute()
        company_organizations.execute()  # a patch may run again: nothing doubled

        settings = frappe.get_doc(SETTINGS)
        [row] = settings.companies
        self.assertEqual((row.company, row.last_ping_status, row.organization_tax_id),
                         (self.shop.company, "Connected", ORG_RFC))
        self.assertEqual(company_secret(self.shop.company).reveal(), PLANTED_KEY)
        self.assertFalse(get_decrypted_password(SETTINGS, SETTINGS, "secret_key", raise_exception=False))
        self.assertFalse(frappe.db.sql("select 1 from tabSingles where doctype=%s and field in ('company', "
                                       "'secret_key', 'last_ping_status')", SETTINGS))
        sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 100)])  # the till stamps as before, nothing else done
        frappe.db.commit()
        stamp(sale.mx_cfdi)
        self.assertEqual(frappe.db.get_value("CFDI", sale.mx_cfdi, "status"), "Stamped")

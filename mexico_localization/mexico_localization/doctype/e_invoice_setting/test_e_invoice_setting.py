import frappe
from frappe.tests.utils import FrappeTestCase

from mexico_localization.einvoice.settings import company_secret
from mexico_localization.tests.pos_fixtures import second_company
from mexico_localization.tests.utils import ORG_RFC, PLANTED_KEY, configure, make_user, ping_row, test_company

SETTINGS = "E Invoice Setting"
ROW = "E Invoice Company"
URL = "http://127.0.0.1:8787/v2"


def secret(settings=None):
    return company_secret(test_company(), settings)


def set_ping(**values) -> None:
    frappe.db.set_value(ROW, ping_row().name, values, update_modified=False)


class TestEInvoiceSetting(FrappeTestCase):
    def setUp(self):
        configure(URL)

    def test_key_is_encrypted_and_masked_everywhere_but_get_password(self):
        self.assertEqual(secret().reveal(), PLANTED_KEY)
        stored = frappe.db.get_value(ROW, ping_row().name, "secret_key")
        self.assertTrue(stored and set(stored) == {"*"})
        auth = frappe.db.sql("select password from `__Auth` where doctype=%s and fieldname='secret_key'", ROW)
        self.assertNotIn(PLANTED_KEY[8:], auth[0][0])  # Fernet ciphertext, not the key

    def test_saving_without_retyping_keeps_the_key(self):
        doc = frappe.get_doc(SETTINGS)
        doc.enable_cancellation = 1
        doc.save(ignore_permissions=True)
        self.assertEqual(secret(frappe.get_doc(SETTINGS)).reveal(), PLANTED_KEY)

    def test_url_rules(self):
        for bad in ("http://www.facturapi.io/v2", "ftp://x/v2", "www.facturapi.io/v2", "https://x.io/v2?a=1"):
            with self.assertRaises(frappe.ValidationError, msg=bad):
                configure(bad)
        configure("https://www.facturapi.io/v2")

    def test_key_shape_is_checked_and_a_bad_key_is_not_kept(self):
        for bad in ("pk_test_abcdefghij", "sk_test_abc def ghij", "sk_test_short"):
            with self.assertRaises(frappe.ValidationError, msg=bad):
                configure(URL, key=bad)
        self.assertEqual(secret(frappe.get_doc(SETTINGS)).reveal(), PLANTED_KEY)

    def test_limits(self):
        for values in ({"read_timeout": 500}, {"read_timeout": 1}, {"connect_timeout": 90}, {"max_attempts": 50}):
            with self.assertRaises(frappe.ValidationError, msg=values):
                configure(URL, **values)

    def test_enabling_needs_a_company_and_its_key(self):
        doc = frappe.get_doc(SETTINGS)
        doc.update({"enable_e_invoice": 1, "companies": []})
        self.assertRaises(frappe.ValidationError, doc.save, ignore_permissions=True)
        frappe.db.delete("__Auth", {"doctype": ROW, "fieldname": "secret_key"})
        doc = frappe.get_doc(SETTINGS)
        doc.enable_e_invoice = 1
        self.assertRaises(frappe.ValidationError, doc.save, ignore_permissions=True)

    def test_each_company_keeps_its_own_key_and_a_removed_row_takes_its_key(self):
        other = second_company()
        doc = frappe.get_doc(SETTINGS)
        doc.append("companies", {"company": other, "secret_key": "sk_test_OTHERORGANIZATION12345"})
        doc.save(ignore_permissions=True)
        doc = frappe.get_doc(SETTINGS)
        self.assertEqual(secret(doc).reveal(), PLANTED_KEY)
        self.assertEqual(company_secret(other, doc).reveal(), "sk_test_OTHERORGANIZATION12345")
        self.assertEqual(frappe.db.count("__Auth", {"doctype": ROW, "fieldname": "secret_key"}), 2)
        doc.companies = [r for r in doc.companies if r.company != other]
        doc.save(ignore_permissions=True)
        self.assertEqual(frappe.db.count("__Auth", {"doctype": ROW, "fieldname": "secret_key"}), 1)
        self.assertFalse(company_secret(other))

    def test_a_company_is_in_the_table_once(self):
        doc = frappe.get_doc(SETTINGS)
        doc.append("companies", {"company": test_company(), "secret_key": "sk_test_SECONDROWSAMECOMPANY1"})
        self.assertRaises(frappe.ValidationError, doc.save, ignore_permissions=True)

    def test_new_key_forgets_the_last_ping(self):
        set_ping(last_ping_at=frappe.utils.now_datetime(), organization_tax_id=ORG_RFC)
        configure(URL, key="sk_live_0123456789abcdefghij")
        row = ping_row()
        self.assertFalse(row.last_ping_at or row.organization_tax_id)

    def test_warnings(self):
        configure(URL, enable_e_invoice=1)
        warnings = " ".join(frappe.get_doc(SETTINGS).warnings())
        self.assertIn("Test key", warnings)
        self.assertIn("has not been checked yet", warnings)
        self.assertIn("scheduler is inactive", warnings)  # run-tests disables the scheduler
        frappe.db.set_value("Company", test_company(), "tax_id", "AAA010101AAA")
        set_ping(last_ping_at=frappe.utils.now_datetime(), organization_tax_id=ORG_RFC)
        self.assertIn("differs from the Tax ID", " ".join(frappe.get_doc(SETTINGS).warnings()))

    def test_live_key_warnings(self):
        configure(URL, key="sk_live_0123456789abcdefghij")
        set_ping(last_ping_at=frappe.utils.now_datetime(), served_by_emulator=1, is_production_ready=0,
                 pending_steps="Sube tu CSD")
        company = test_company()
        frappe.get_doc({"doctype": "CFDI", "reference_doctype": "Company", "reference_name": company,
                        "company": company, "status": "Stamped", "uuid": "test-uuid", "livemode": 0}
                       ).insert(ignore_permissions=True)
        warnings = " ".join(frappe.get_doc(SETTINGS).warnings())
        self.assertIn("Live key (", warnings)
        self.assertIn("is pointed at the offline emulator", warnings)
        self.assertIn("Sube tu CSD", warnings)
        self.assertIn("stamped in Test mode", warnings)

    def test_only_managers_read_or_write_the_settings(self):
        manager = make_user("ml-settings-manager@example.com", ["CFDI Manager"])
        for user in (make_user("ml-settings-auditor@example.com", ["CFDI Auditor"]),
                     make_user("ml-settings-accounts@example.com", ["Accounts Manager", "Sales User"])):
            for ptype in ("read", "write"):
                self.assertFalse(frappe.has_permission(SETTINGS, ptype, user=user), (user, ptype))
        for ptype in ("read", "write"):
            self.assertTrue(frappe.has_permission(SETTINGS, ptype, user=manager))

import frappe
from frappe.tests.utils import FrappeTestCase

from mexico_localization.tests.utils import make_user, test_company


class TestCFDI(FrappeTestCase):
    def make(self):
        company = test_company()
        return frappe.get_doc({"doctype": "CFDI", "reference_doctype": "Company", "reference_name": company,
                               "company": company, "status": "Stamped"}).insert(ignore_permissions=True)

    def test_nobody_deletes_a_cfdi(self):
        cfdi = self.make()
        with self.assertRaises(frappe.PermissionError):
            frappe.delete_doc("CFDI", cfdi.name, ignore_permissions=True, force=True)
        self.assertTrue(frappe.db.exists("CFDI", cfdi.name))

    def test_named_after_its_document_and_tracked(self):
        first, second = self.make(), self.make()
        self.assertEqual(first.name, f"{first.reference_name}-I")
        self.assertEqual(second.name, f"{first.reference_name}-I2")
        self.assertTrue(frappe.get_meta("CFDI").track_changes)

    def test_roles_read_but_never_write_create_or_delete(self):
        cfdi = self.make()
        auditor = make_user("ml-cfdi-auditor@example.com", ["CFDI Auditor"])
        nobody = make_user("ml-cfdi-nobody@example.com", ["Sales User"])
        for user, can_read in ((auditor, True), (nobody, False)):
            self.assertEqual(bool(frappe.has_permission("CFDI", "read", cfdi, user=user)), can_read, user)
            for ptype in ("write", "create", "delete"):
                self.assertFalse(frappe.has_permission("CFDI", ptype, cfdi, user=user), (user, ptype))

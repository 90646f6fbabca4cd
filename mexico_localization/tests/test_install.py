import frappe
from frappe.tests.utils import FrappeTestCase

from mexico_localization.einvoice.roles import CFDI_AUDITOR, CFDI_MANAGER
from mexico_localization.einvoice.setup import install as setup
from mexico_localization.tests.utils import test_company


class TestInstall(FrappeTestCase):
    def test_app_module_and_doctypes_are_installed(self):
        self.assertIn("mexico_localization", frappe.get_installed_apps())
        self.assertEqual(frappe.db.get_value("Module Def", "Mexico Localization", "app_name"), "mexico_localization")
        for doctype in ("E Invoice Setting", "CFDI", "CFDI Attempt"):
            self.assertTrue(frappe.db.exists("DocType", doctype), doctype)
        self.assertEqual(frappe.get_hooks("required_apps", app_name="mexico_localization"), ["frappe/erpnext"])

    def test_the_lookups_of_a_busy_month_have_their_indexes(self):
        """Without them the hourly global, the stamp's follow-ups and the reconciliation report walk
        every sale (benchmarks/month_scale.py)."""
        def indexed(table: str) -> set[tuple[str, ...]]:
            keys: dict[str, list[str]] = {}
            for row in frappe.db.sql(f"show index from `tab{table}`", as_dict=True):
                keys.setdefault(row.Key_name, []).append(row.Column_name)
            return {tuple(columns) for columns in keys.values()}

        self.assertTrue({("mx_cfdi",), ("mx_cfdi_status",)} <= indexed("POS Invoice"))
        self.assertTrue({("original_invoice",), ("reference_name", "creation", "name")} <= indexed("CFDI"))
        self.assertIn(("pos_invoice",), indexed("CFDI Global Ticket"))

    def test_roles_and_integration_request_grant_exist(self):
        for role in (CFDI_MANAGER, CFDI_AUDITOR):
            self.assertTrue(frappe.db.exists("Role", role))
            perm = frappe.db.get_value("Custom DocPerm", {"parent": "Integration Request", "role": role},
                                       ["read", "report", "write", "create", "delete"], as_dict=True)
            self.assertEqual((perm.read, perm.report, perm.write, perm.create, perm.delete), (1, 1, 0, 0, 0))

    def test_setup_is_idempotent(self):
        setup.after_migrate()
        setup.after_migrate()
        self.assertEqual(frappe.db.count("Custom DocPerm", {"parent": "Integration Request", "role": CFDI_AUDITOR}), 1)

    def test_uninstall_is_refused_while_cfdi_rows_exist(self):
        setup.before_uninstall()  # no rows: allowed
        company = test_company()
        frappe.get_doc({"doctype": "CFDI", "reference_doctype": "Company", "reference_name": company,
                        "company": company, "status": "Stamped", "uuid": "0" * 8}).insert(ignore_permissions=True)
        with self.assertRaises(frappe.ValidationError) as caught:
            setup.before_uninstall()
        self.assertIn("export-csv CFDI", str(caught.exception))
        frappe.local.conf[setup.ALLOW_UNINSTALL_KEY] = 1
        try:
            setup.before_uninstall()  # an administrator who exported may go on
        finally:
            frappe.local.conf.pop(setup.ALLOW_UNINSTALL_KEY)
        frappe.db.rollback()

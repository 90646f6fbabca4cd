"""Finance (CFDI Auditor) sees FacturaAPI's Integration Requests and the self-invoicing page's, and
no other integration's: in the list, the report view, the form, and by direct permission checks.
Real non-admin users."""

import frappe
from frappe.desk.reportview import get as reportview_get
from frappe.tests.utils import FrappeTestCase

from mexico_localization.einvoice.pipeline.records import PORTAL_SERVICE, SERVICES
from mexico_localization.tests.utils import make_user


def request(service: str) -> str:
    doc = frappe.get_doc({"doctype": "Integration Request", "integration_request_service": service,
                          "status": "Completed", "data": "{}"}).insert(ignore_permissions=True)
    return doc.name


class TestIntegrationRequestAccess(FrappeTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.auditor = make_user("ml-ir-auditor@example.com", ["CFDI Auditor"])
        cls.manager = make_user("ml-ir-manager@example.com", ["CFDI Manager"])
        cls.accounts = make_user("ml-ir-accounts@example.com", ["Accounts User"])
        cls.ours, cls.theirs = request("FacturaAPI"), request("Razorpay")
        cls.portal = request(PORTAL_SERVICE)

    def tearDown(self):
        frappe.set_user("Administrator")

    def test_finance_lists_only_facturapi_and_portal_requests(self):
        for user in (self.auditor, self.manager):
            frappe.set_user(user)
            names = set(frappe.get_list("Integration Request", pluck="name", limit_page_length=0))
            self.assertLessEqual({self.ours, self.portal}, names)
            self.assertNotIn(self.theirs, names)
            services = set(frappe.get_list("Integration Request", pluck="integration_request_service",
                                           limit_page_length=0))
            self.assertEqual(services, set(SERVICES))

    def test_finance_report_view_is_narrowed_too(self):
        frappe.set_user(self.auditor)
        frappe.local.form_dict = frappe._dict(doctype="Integration Request", limit_page_length=0,
                                              fields='["name", "integration_request_service"]')
        result = reportview_get()
        rows = [dict(zip(result["keys"], values, strict=True)) for values in result["values"]] if result else []
        self.assertTrue(rows)
        self.assertEqual({r["integration_request_service"] for r in rows}, set(SERVICES))

    def test_finance_opens_ours_but_not_theirs(self):
        frappe.set_user(self.auditor)
        frappe.get_doc("Integration Request", self.ours).check_permission("read")
        frappe.get_doc("Integration Request", self.portal).check_permission("read")
        with self.assertRaises(frappe.PermissionError):
            frappe.get_doc("Integration Request", self.theirs).check_permission("read")
        self.assertTrue(frappe.has_permission("Integration Request", "report", user=self.auditor))
        self.assertFalse(frappe.has_permission("Integration Request", "write",
                                               doc=frappe.get_doc("Integration Request", self.ours)))

    def test_other_users_see_nothing_and_system_manager_everything(self):
        frappe.set_user(self.accounts)
        self.assertFalse(frappe.has_permission("Integration Request", "read"))
        with self.assertRaises(frappe.PermissionError):
            frappe.get_list("Integration Request")
        frappe.set_user("Administrator")
        names = set(frappe.get_list("Integration Request", pluck="name", limit_page_length=0))
        self.assertTrue({self.ours, self.theirs} <= names)

    def test_error_log_stays_with_it(self):
        for user in (self.auditor, self.manager):
            self.assertFalse(frappe.has_permission("Error Log", "read", user=user), user)

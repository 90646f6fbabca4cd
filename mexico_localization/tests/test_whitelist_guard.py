"""Every whitelisted method of the app refuses a user without a CFDI role, found by walking the
whitelist (so a method added later is covered without anyone remembering to add it here). The
self-invoicing page's module is the one exception, named here: its methods are for guests, and
POST-only (test_self_invoicing proves what they refuse)."""

import importlib
import inspect
import pkgutil

import frappe
from frappe.tests.utils import FrappeTestCase

import mexico_localization
from mexico_localization.tests.utils import make_user

GUEST_MODULE = "mexico_localization.einvoice.self_invoice.portal"


def app_whitelisted() -> list:
    for module in pkgutil.walk_packages(mexico_localization.__path__, "mexico_localization."):
        if ".tests" not in module.name and not module.name.endswith(".hooks"):
            importlib.import_module(module.name)
    return [fn for fn in frappe.whitelisted if getattr(fn, "__module__", "").startswith("mexico_localization.")]


class TestWhitelistGuard(FrappeTestCase):
    def test_every_whitelisted_method_refuses_a_user_without_the_role(self):
        everything = app_whitelisted()
        guests = [fn for fn in everything if fn in frappe.guest_methods]
        self.assertEqual({fn.__module__ for fn in guests}, {GUEST_MODULE}, "only the portal's methods are for guests")
        for fn in guests:
            self.assertEqual(frappe.allowed_http_methods_for_whitelisted_func[fn], ["POST"], fn.__qualname__)
        methods = [fn for fn in everything if fn.__module__ != GUEST_MODULE]
        self.assertIn("ping_server", {fn.__name__ for fn in methods})
        self.assertFalse(set(methods) & set(frappe.guest_methods), "no other method of the app is open to guests")
        user = make_user("ml-guard-nobody@example.com", ["Accounts Manager", "Sales Manager", "Stock Manager"])
        frappe.set_user(user)
        try:
            for fn in methods:
                required = [p for p in inspect.signature(fn).parameters.values()
                            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
                with self.assertRaises(frappe.PermissionError, msg=fn.__qualname__):
                    fn(**{p.name: "x" for p in required})
        finally:
            frappe.set_user("Administrator")

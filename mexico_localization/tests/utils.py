"""Shared helpers for the bench tier: an in-process emulator, settings, users."""

from __future__ import annotations

import frappe
from frappe.tests.utils import FrappeTestCase

from mexico_localization.testing.emulator import Emulator, EmulatorConfig

PLANTED_KEY = "sk_test_BENCHPLANTED0ml9q8w7e6r5t4y3"
KEY_TAIL = PLANTED_KEY[8:]
ORG_RFC = "EKU9003173C9"


def start_emulator(**config) -> Emulator:
    return Emulator(config=EmulatorConfig(**config)).start()


class EmulatorTestCase(FrappeTestCase):
    """A FrappeTestCase with a FacturaAPI emulator on loopback for the whole class."""

    emulator: Emulator

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = start_emulator()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()
        super().tearDownClass()


def test_company() -> str:
    company = frappe.db.get_value("Company", {}, "name", order_by="creation asc")
    if not company:
        raise RuntimeError("the bench tier needs ERPNext's test company (before_tests)")
    return company


def configure(url: str, key: str | None = PLANTED_KEY, company: str | None = None, row: dict | None = None,
              **values) -> None:
    """Saves E Invoice Setting as an administrator would through the form: `company` (the test company
    by default) as the only row of Companies, with `key` (None: the key it has) and `row`'s values."""
    settings = frappe.get_doc("E Invoice Setting")
    settings.update({"server_url": url, "enable_e_invoice": 0, "email_cfdi": 1,
                     "enable_cancellation": 0, "connect_timeout": 5, "read_timeout": 10, "max_attempts": 8,
                     "enable_self_invoicing": 0,
                     **values})
    company = company or test_company()
    kept = company_row(settings, company)
    settings.set("companies", [kept] if kept else [])
    kept = kept or settings.append("companies", {"company": company})
    kept.update({"expedition_zip": "06600", **(row or {})})
    if key is not None:
        kept.secret_key = key
    settings.save(ignore_permissions=True)
    frappe.clear_document_cache("E Invoice Setting", "E Invoice Setting")


def company_row(settings, company: str | None = None):
    """The settings' row of `company` (the test company by default), or None."""
    company = company or test_company()
    return next((r for r in settings.get("companies") or [] if r.company == company), None)


def ping_row(company: str | None = None):
    """What the last ping wrote for `company` (its row of E Invoice Setting, freshly read)."""
    return company_row(frappe.get_doc("E Invoice Setting"), company)


def make_user(email: str, roles: list[str]) -> str:
    if not frappe.db.exists("User", email):
        frappe.get_doc({"doctype": "User", "email": email, "first_name": email.split("@")[0],
                        "send_welcome_email": 0, "user_type": "System User"}).insert(ignore_permissions=True)
    user = frappe.get_doc("User", email)
    user.set("roles", [{"role": role} for role in roles])
    user.save(ignore_permissions=True)
    return email


def api_token(user: str) -> str:
    """The Authorization header of `user`'s API key, as an integration or a script would send it."""
    from frappe.core.doctype.user.user import generate_keys

    secret = generate_keys(user)["api_secret"]
    frappe.db.commit()
    return f"token {frappe.db.get_value('User', user, 'api_key')}:{secret}"


def rest(method: str, path: str, token: str, json: dict | None = None):
    """One request through Frappe's WSGI application, in its own thread and database connection, as
    a real client's request is handled (it commits, or rolls back on error)."""
    from urllib.parse import quote

    from frappe.tests.test_api import make_request
    from frappe.utils import get_test_client

    client = get_test_client(use_cookies=False)
    return make_request(getattr(client, method.lower()), (quote(path),),
                        {"json": json, "headers": {"Authorization": token}})

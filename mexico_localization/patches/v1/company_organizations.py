"""E Invoice Setting held one Issuing Company and one Secret Key; each company now has its own row
(its FacturaAPI organization). The single key, company, Last Ping block and Production Since move into
the first row, the key still encrypted, and the old values are removed. Nothing else to do."""

from __future__ import annotations

import frappe
from frappe.utils.password import get_decrypted_password, set_encrypted_password

SETTINGS = "E Invoice Setting"
COMPANY_ROW = "E Invoice Company"
MOVED = ("company", "secret_key", "production_since", "last_ping_status", "last_ping_at", "key_environment",
         "served_by_emulator", "organization_legal_name", "organization_tax_id", "organization_tax_system",
         "certificate_expires_at", "is_production_ready", "pending_steps", "last_ping_message")


def execute() -> None:
    old = dict(frappe.db.sql("select field, value from tabSingles where doctype = %s and field in %s",
                             (SETTINGS, MOVED)))
    key = get_decrypted_password(SETTINGS, SETTINGS, "secret_key", raise_exception=False)
    company = old.get("company")
    if company and frappe.db.exists("Company", company) and not frappe.db.exists(
            COMPANY_ROW, {"parent": SETTINGS, "company": company}):
        # The result was stored in the pinging user's language; it is a code now, translated where shown.
        status = old.get("last_ping_status")
        old["last_ping_status"] = status if status in ("Connected", "Failed", None, "") else \
            ("Connected" if status == "Conectado" else "Failed")
        row = frappe.get_doc({"doctype": COMPANY_ROW, "parent": SETTINGS, "parenttype": SETTINGS,
                              "parentfield": "companies", "idx": 1, "company": company,
                              **{f: old.get(f) for f in MOVED[2:] if old.get(f) not in (None, "")}})
        row.db_insert()
        if key:
            set_encrypted_password(COMPANY_ROW, row.name, key, "secret_key")
            frappe.db.set_value(COMPANY_ROW, row.name, "secret_key", "*" * len(key), update_modified=False)
    frappe.db.delete("__Auth", {"doctype": SETTINGS, "name": SETTINGS, "fieldname": "secret_key"})
    frappe.db.sql("delete from tabSingles where doctype = %s and field in %s", (SETTINGS, MOVED))
    frappe.clear_document_cache(SETTINGS, SETTINGS)

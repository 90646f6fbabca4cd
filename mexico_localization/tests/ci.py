"""Helpers that .ci/bench-tier calls through `bench execute` to prove the uninstall guard end to end."""

import frappe


def add_cfdi_row() -> None:
    company = frappe.db.get_value("Company", {}, "name")
    frappe.get_doc({"doctype": "CFDI", "reference_doctype": "Company", "reference_name": company,
                    "company": company, "status": "Stamped", "uuid": "ci-uninstall-guard"}).insert(
        ignore_permissions=True)
    frappe.db.commit()


def drop_cfdi_rows() -> None:
    """SQL, because a CFDI refuses deletion by design."""
    frappe.db.sql("delete from `tabCFDI Attempt`")
    frappe.db.sql("delete from `tabCFDI`")
    frappe.db.commit()



def demo_sale() -> str:
    """A nominative sale on the test shop, submitted and committed (for demos on a real bench)."""
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice, shop

    shop()
    invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80), ("ML-PAN", 3, 12.5)], cash=300)
    frappe.db.commit()
    return invoice.name

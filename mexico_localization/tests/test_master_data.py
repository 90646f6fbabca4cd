"""Install creates the fiscal fields and the SAT catalogs (and migrate keeps them)."""

import frappe
from frappe.tests.utils import FrappeTestCase

from mexico_localization.cfdi import catalogs
from mexico_localization.einvoice.setup import catalog_sync, custom_fields
from mexico_localization.tests.utils import make_user


class TestMasterData(FrappeTestCase):
    def test_custom_fields_exist_and_belong_to_the_app(self):
        for doctype, fields in custom_fields.CUSTOM_FIELDS.items():
            meta = frappe.get_meta(doctype)
            for field in fields:
                self.assertTrue(meta.has_field(field["fieldname"]), (doctype, field["fieldname"]))
                self.assertEqual(frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": field["fieldname"]},
                                                     "module"), "Mexico Localization")

    def test_pos_customer_dialog_asks_for_the_fiscal_data(self):
        meta = frappe.get_meta("Customer")
        for fieldname in ("tax_id", "mx_legal_name", "mx_tax_regime", "mx_cfdi_use", "mx_fiscal_zip", "mx_cfdi_email"):
            self.assertTrue(meta.get_field(fieldname).allow_in_quick_entry, fieldname)

    def test_catalogs_match_the_shipped_data(self):
        for doctype, records in catalog_sync.rows().items():
            self.assertEqual(frappe.db.count(doctype), len(records), doctype)
        self.assertEqual(frappe.db.get_value("SAT Tax Regime", "616", ["fisica", "moral"]), (1, 0))
        self.assertIn("601", frappe.db.get_value("SAT CFDI Use", "G03", "regimes"))
        self.assertEqual(frappe.db.get_value("SAT Payment Form", "28", "description"), catalogs.PAYMENT_FORMS["28"])

    def test_migrate_keeps_them_and_restores_edits(self):
        frappe.db.set_value("SAT Payment Form", "01", "description", "tampered")
        catalog_sync.sync()
        custom_fields.make()
        self.assertEqual(frappe.db.get_value("SAT Payment Form", "01", "description"), "Efectivo")

    def test_catalogs_are_read_only_for_everyone(self):
        manager = make_user("ml-catalog-manager@example.com", ["CFDI Manager", "Accounts Manager"])
        self.assertTrue(frappe.has_permission("SAT CFDI Use", "read", user=manager))
        for ptype in ("write", "create", "delete"):
            self.assertFalse(frappe.has_permission("SAT CFDI Use", ptype, user=manager), ptype)


class TestMasterDataChecks(FrappeTestCase):
    def test_product_and_unit_keys_are_checked_where_typed(self):
        item = frappe.get_doc({"doctype": "Item", "item_code": "ML-BAD-KEY", "item_group": "All Item Groups",
                               "stock_uom": "Nos", "is_stock_item": 0, "mx_product_key": "5020"})
        self.assertRaises(frappe.ValidationError, item.insert)
        item.mx_product_key = " 50201706 "
        item.insert()
        self.assertEqual(item.mx_product_key, "50201706")
        uom = frappe.get_doc("UOM", "Nos")
        uom.mx_unit_key = "h87"
        uom.save()
        self.assertEqual(uom.mx_unit_key, "H87")
        uom.mx_unit_key = "PIEZA"
        self.assertRaises(frappe.ValidationError, uom.save)

    def test_customer_fiscal_data_warns_without_blocking(self):
        frappe.local.message_log = []
        customer = frappe.get_doc({"doctype": "Customer", "customer_name": "ML Cliente con RFC malo",
                                   "customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
                                   "territory": frappe.db.get_value("Territory", {"is_group": 0}),
                                   "tax_id": "ABC", "mx_tax_regime": "601", "mx_cfdi_use": "D01",
                                   "mx_fiscal_zip": "06600"}).insert()
        text = " ".join(str(m) for m in frappe.local.message_log)
        self.assertTrue(customer.name)
        self.assertIn("RFC ABC", text)
        self.assertIn("D01", text)

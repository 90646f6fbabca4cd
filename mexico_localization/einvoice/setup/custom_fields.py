"""The fiscal master data the app adds to ERPNext: created on install, kept on migrate, removed on
uninstall. Every field name starts with `mx_`, so they are easy to find and to remove."""

from __future__ import annotations

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from mexico_localization.cfdi.states import CfdiState
from mexico_localization.einvoice.pipeline.records import MIRRORED

SECTION = {"fieldtype": "Section Break", "label": "CFDI (Mexico)", "collapsible": 1}

# What an auditor looks for on the sale (or the payment) itself; the CFDI doctype holds the history.
MIRROR = [
    {"fieldname": "mx_cfdi_section", "insert_after": "amended_from", **SECTION, "collapsible": 0},
    {"fieldname": "mx_cfdi_status", "fieldtype": "Select", "label": "CFDI Status", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "in_standard_filter": 1, "in_list_view": 1,  # a failure shows in the list
     "insert_after": "mx_cfdi_section",
     "search_index": 1,  # the hourly global looks for the few tickets Awaiting Global among all sales
     "options": "\n" + "\n".join(state.value for state in CfdiState)},
    {"fieldname": "mx_cfdi", "fieldtype": "Link", "options": "CFDI", "label": "CFDI Record", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_cfdi_status", "search_index": 1},  # a global's tickets
    {"fieldname": "mx_cfdi_message", "fieldtype": "Small Text", "label": "CFDI Message", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_cfdi",
     "description": "Why the CFDI is not stamped yet, or what to fix."},
    {"fieldname": "mx_cfdi_column", "fieldtype": "Column Break", "insert_after": "mx_cfdi_message"},
    {"fieldname": "mx_cfdi_uuid", "fieldtype": "Data", "label": "UUID (Folio Fiscal)", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_cfdi_column", "search_index": 1},
    {"fieldname": "mx_cfdi_stamped_at", "fieldtype": "Datetime", "label": "Stamp Time", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_cfdi_uuid"},
    {"fieldname": "mx_sat_cert_number", "fieldtype": "Data", "label": "SAT Certificate Number", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_cfdi_stamped_at"},
    {"fieldname": "mx_sat_signature", "fieldtype": "Long Text", "label": "SAT Signature", "read_only": 1,
     "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_sat_cert_number"},
]

# Printed on the ticket; the buyer's key to their sale's CFDI (unguessable, never the invoice's name).
TICKET_CODE = {"fieldname": "mx_ticket_code", "fieldtype": "Data", "label": "Ticket Code", "read_only": 1,
               "no_copy": 1, "unique": 1, "insert_after": "mx_sat_signature", "print_hide": 1,
               "description": "Printed on the ticket: with the ticket's total, what lets the buyer find its CFDI."}

CUSTOM_FIELDS: dict[str, list[dict]] = {
    "Customer": [
        {"fieldname": "mx_cfdi_section", "insert_after": "tax_id", **SECTION, "collapsible": 0},
        {"fieldname": "mx_legal_name", "fieldtype": "Data", "label": "Legal Name (as on the Constancia)",
         "insert_after": "mx_cfdi_section", "allow_in_quick_entry": 1, "translatable": 0,
         "description": "Exactly as on the Constancia de Situación Fiscal, without the corporate regime "
                        "(no \"S.A. de C.V.\"). Empty: the customer name is used."},
        {"fieldname": "mx_tax_regime", "fieldtype": "Link", "options": "SAT Tax Regime", "label": "Tax Regime",
         "insert_after": "mx_legal_name", "allow_in_quick_entry": 1},
        {"fieldname": "mx_cfdi_use", "fieldtype": "Link", "options": "SAT CFDI Use", "label": "CFDI Use",
         "insert_after": "mx_tax_regime", "allow_in_quick_entry": 1},
        {"fieldname": "mx_column_break", "fieldtype": "Column Break", "insert_after": "mx_cfdi_use"},
        {"fieldname": "mx_fiscal_zip", "fieldtype": "Data", "label": "Fiscal Zip Code", "length": 5,
         "insert_after": "mx_column_break", "allow_in_quick_entry": 1},
        {"fieldname": "mx_cfdi_email", "fieldtype": "Data", "options": "Email", "label": "CFDI E-mail",
         "insert_after": "mx_fiscal_zip", "allow_in_quick_entry": 1,
         "description": "Where CFDIs are e-mailed. Empty: the primary contact's e-mail."},
        {"fieldname": "mx_is_public", "fieldtype": "Check", "label": "Público en General",
         "insert_after": "mx_cfdi_email",
         "description": "Walk-in customer: sales go into the periodic global CFDI (RFC XAXX010101000)."},
        {"fieldname": "mx_fiscal_residence", "fieldtype": "Data", "label": "Fiscal Residence (foreign, ISO alpha-3)",
         "length": 3, "insert_after": "mx_is_public",
         "description": "Only for buyers resident abroad, e.g. USA. They are issued to XEXX010101000."},
        {"fieldname": "mx_foreign_tax_id", "fieldtype": "Data", "label": "Foreign Tax ID (NumRegIdTrib)",
         "insert_after": "mx_fiscal_residence", "depends_on": "mx_fiscal_residence"},
        {"fieldname": "mx_ieps_breakdown", "fieldtype": "Check", "label": "IEPS desglosado",
         "insert_after": "mx_foreign_tax_id",
         "description": "Only for an IEPS taxpayer who asks for it (LIEPS art. 19-II): its CFDIs state IEPS apart. "
                        "Otherwise IEPS is part of the price and only IVA is itemized."},
        {"fieldname": "mx_sat_checked_at", "fieldtype": "Datetime", "label": "Checked with SAT on", "read_only": 1,
         "no_copy": 1, "insert_after": "mx_ieps_breakdown"},
        {"fieldname": "mx_sat_check_result", "fieldtype": "Small Text", "label": "SAT Check Result", "read_only": 1,
         "no_copy": 1, "insert_after": "mx_sat_checked_at", "depends_on": "mx_sat_checked_at"},
    ],
    "Item": [
        {"fieldname": "mx_product_key", "fieldtype": "Data", "label": "SAT Product Key", "length": 8,
         "insert_after": "item_group", "description": "c_ClaveProdServ, 8 digits. Empty: the Item Group's."},
    ],
    "Item Group": [
        {"fieldname": "mx_product_key", "fieldtype": "Data", "label": "SAT Product Key", "length": 8,
         "insert_after": "parent_item_group", "description": "c_ClaveProdServ for items of this group "
                                                              "(and its subgroups) without their own."},
    ],
    "UOM": [
        {"fieldname": "mx_unit_key", "fieldtype": "Data", "label": "SAT Unit Key", "length": 3,
         "insert_after": "uom_name", "description": "c_ClaveUnidad, e.g. H87 pieza, KGM kilogramo, E48 servicio."},
    ],
    "Mode of Payment": [
        {"fieldname": "mx_payment_form", "fieldtype": "Link", "options": "SAT Payment Form",
         "label": "SAT Payment Form", "insert_after": "type"},
    ],
    "POS Profile": [
        {"fieldname": "mx_cfdi_section", "insert_after": "company", **SECTION},
        {"fieldname": "mx_expedition_zip", "fieldtype": "Data", "label": "Expedition Zip (Place of Issue)",
         "length": 5, "insert_after": "mx_cfdi_section"},
        {"fieldname": "mx_series", "fieldtype": "Data", "label": "CFDI Series", "length": 25,
         "insert_after": "mx_expedition_zip"},
    ],
    **{doctype: MIRROR for doctype in MIRRORED},
    "POS Invoice": [*MIRROR, TICKET_CODE],
    # What a B2B invoice's CFDI will say, chosen and seen before submit (the rest is the customer's).
    "Sales Invoice": [
        *MIRROR,
        # After ERPNext's first section (its last field, is_debit_note), before the CFDI record's.
        {"fieldname": "mx_terms_section", "insert_after": "is_debit_note", "fieldtype": "Section Break",
         "label": "CFDI Use and Payment"},
        # Editable after submit: a Failed CFDI is fixed here and retried, the invoice staying submitted.
        {"fieldname": "mx_cfdi_use", "fieldtype": "Link", "options": "SAT CFDI Use", "label": "CFDI Use",
         "insert_after": "mx_terms_section", "fetch_from": "customer.mx_cfdi_use", "fetch_if_empty": 1,
         "allow_on_submit": 1,
         "description": "The customer's CFDI Use unless changed here for this invoice (it must suit their regime)."},
        {"fieldname": "mx_payment_form", "fieldtype": "Link", "options": "SAT Payment Form",
         "label": "SAT Payment Form", "insert_after": "mx_cfdi_use", "allow_on_submit": 1,
         "description": "How an invoice due today is paid (PUE). A later due date makes it PPD, form 99: "
                        "each payment then gets its payment complement."},
        {"fieldname": "mx_terms_column", "fieldtype": "Column Break", "insert_after": "mx_payment_form"},
        {"fieldname": "mx_payment_method", "fieldtype": "Data", "label": "CFDI Payment Method", "read_only": 1,
         "no_copy": 1, "allow_on_submit": 1, "insert_after": "mx_terms_column",
         "description": "What the CFDI will state, worked out on every save: PUE (paid) or PPD (paid later)."},
    ],
    "Account": [
        {"fieldname": "mx_tax_type", "fieldtype": "Select", "label": "SAT Tax", "options": "\nIVA\nIEPS\nISR",
         "insert_after": "tax_rate", "depends_on": "eval:doc.account_type=='Tax'",
         "description": "Which CFDI tax this tax account posts. The rate comes from the tax row."},
        {"fieldname": "mx_tax_factor", "fieldtype": "Select", "label": "SAT Tax Factor",
         "options": "Tasa\nCuota\nExento", "default": "Tasa", "insert_after": "mx_tax_type",
         "depends_on": "mx_tax_type"},
        {"fieldname": "mx_withholding", "fieldtype": "Check", "label": "Withholding (Retención)",
         "insert_after": "mx_tax_factor", "depends_on": "mx_tax_type"},
    ],
}


MODULE = "Mexico Localization"


def make() -> None:
    # `module` makes Frappe's uninstall remove the fields with the app's module.
    create_custom_fields({dt: [{**f, "module": MODULE} for f in fields] for dt, fields in CUSTOM_FIELDS.items()},
                         update=True)
    # RFC is ERPNext's own Customer.tax_id: offer it in the quick-entry dialog the POS uses.
    frappe.make_property_setter({"doctype": "Customer", "fieldname": "tax_id", "property": "allow_in_quick_entry",
                                 "value": 1, "property_type": "Check"}, is_system_generated=True)


def remove() -> None:
    for doctype, fields in CUSTOM_FIELDS.items():
        for field in fields:
            name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": field["fieldname"]})
            if name:
                frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
    frappe.db.delete("Property Setter", {"doc_type": "Customer", "field_name": "tax_id",
                                         "property": "allow_in_quick_entry"})

"""The "CFDI México" workspace: installed with its settings, reports and number cards, shown to CFDI
roles only, and each card counts what it says."""

from __future__ import annotations

import json

import frappe
from frappe.desk.desktop import get_workspace_sidebar_items
from frappe.desk.doctype.number_card.number_card import get_result
from frappe.utils import add_to_date, now_datetime

from mexico_localization.einvoice.pipeline.jobs import stamp
from mexico_localization.tests.pos_fixtures import NOMINATIVE, WALK_IN, pos_invoice
from mexico_localization.tests.stamping_utils import StampingTestCase
from mexico_localization.tests.utils import make_user

WORKSPACE = "CFDI México"
CARDS = ["CFDIs Failed", "CFDIs In Flight", "Sales Awaiting Global", "CFDIs Stamped Today",
         "Test Stamps on a Live Site", "CFDIs Cancelled Outside", "Self-invoiced CFDIs"]
AUDITOR, NOBODY = "ml-ws-auditor@example.com", "ml-ws-nobody@example.com"


def card_value(name: str) -> float:
    card = frappe.get_doc("Number Card", name)
    if card.type == "Custom":
        return frappe.get_attr(card.method)(filters=card.filters_json)
    return get_result(card.as_json(), card.filters_json)


class TestWorkspace(StampingTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        make_user(AUDITOR, ["CFDI Auditor"])
        make_user(NOBODY, ["Accounts User", "Sales User"])
        frappe.db.commit()

    def test_the_workspace_links_settings_and_reports_and_shows_the_cards(self):
        ws = frappe.get_doc("Workspace", WORKSPACE)
        self.assertEqual((ws.public, ws.module), (1, "Mexico Localization"))
        self.assertEqual({r.role for r in ws.roles}, {"System Manager", "CFDI Manager", "CFDI Auditor"})
        targets = {link.link_to for link in ws.links if link.type == "Link"}
        self.assertLessEqual({"E Invoice Setting", "CFDI", "CFDI Reconciliation", "CFDI Audit Trail",
                              "Facturapi Calls", "Pending Payment Complements", "CFDI Audit Seal",
                              "Self-invoiced Sales"}, targets)
        for link in ws.links:
            if link.type == "Link":
                self.assertTrue(frappe.db.exists(link.link_type, link.link_to), link.link_to)
        self.assertEqual([c.number_card_name for c in ws.number_cards], CARDS)
        blocks = [b["data"].get("number_card_name") for b in json.loads(ws.content) if b["type"] == "number_card"]
        self.assertEqual(blocks, CARDS)
        for name in CARDS:
            self.assertEqual(frappe.db.get_value("Number Card", name, "is_standard"), 1)

    def test_only_cfdi_roles_see_the_workspace(self):
        for user, visible in ((AUDITOR, True), (NOBODY, False)):
            frappe.set_user(user)
            try:
                pages = {p.name for p in get_workspace_sidebar_items()["pages"]}
            finally:
                frappe.set_user("Administrator")
            self.assertEqual(WORKSPACE in pages, visible, user)

    def test_each_card_counts_what_it_says(self):
        self.emulator.reset()
        stamped = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
        failed = pos_invoice(NOMINATIVE, [("ML-PAN", 1, 50)])
        queued = pos_invoice(NOMINATIVE, [("ML-PAN", 1, 60)])
        waiting = pos_invoice(WALK_IN, [("ML-CAFE", 1, 70)])
        frappe.db.commit()
        stamp(stamped.mx_cfdi)
        self.emulator.add_fault("create_invoice", "sat_rejection", sat_code="CFDI40147")
        stamp(failed.mx_cfdi)
        frappe.db.set_value("CFDI", queued.mx_cfdi, "self_invoiced", 1)  # as the self-invoicing page marks its own
        expected = {
            "CFDIs Failed": frappe.db.count("CFDI", {"status": "Failed"}),
            "CFDIs In Flight": frappe.db.count("CFDI", {"status": ["in", ["Queued", "Stamping", "Retrying",
                                                                          "Pending at PAC"]]}),
            "Sales Awaiting Global": frappe.db.count("POS Invoice", {"docstatus": 1,
                                                                      "mx_cfdi_status": "Awaiting Global"}),
            "CFDIs Stamped Today": frappe.db.count("CFDI", {"stamped_at": [">=", frappe.utils.today()]}),
            "Test Stamps on a Live Site": 0,
            "CFDIs Cancelled Outside": frappe.db.count("CFDI", {"cancelled_outside_app": 1,
                                                                "status": ["in", ["Cancel Pending", "Cancelled"]]}),
            "Self-invoiced CFDIs": 1,
        }
        self.assertGreaterEqual(min(expected["CFDIs Failed"], expected["CFDIs In Flight"],
                                    expected["Sales Awaiting Global"], expected["CFDIs Stamped Today"]), 1)
        self.assertEqual(frappe.db.get_value("CFDI", queued.mx_cfdi, "status"), "Queued")
        self.assertEqual(frappe.db.get_value("POS Invoice", waiting.name, "mx_cfdi_status"), "Awaiting Global")
        frappe.set_user(AUDITOR)
        try:
            self.assertEqual({name: card_value(name) for name in CARDS}, expected)
        finally:
            frappe.set_user("Administrator")

        # A production site counts the Test stamps made since it became one.
        self.enable(production_site=1)
        try:
            since = add_to_date(now_datetime(), hours=-1)
            frappe.db.set_value("E Invoice Company", {"company": self.shop.company}, "production_since", since)
            frappe.clear_document_cache("E Invoice Setting", "E Invoice Setting")
            self.assertGreaterEqual(card_value("Test Stamps on a Live Site"), 1)
            self.assertEqual(card_value("Test Stamps on a Live Site"),
                             frappe.db.count("CFDI", {"livemode": 0, "uuid": ["is", "set"],
                                                      "stamped_at": [">=", since]}))
        finally:
            self.enable(production_site=0)

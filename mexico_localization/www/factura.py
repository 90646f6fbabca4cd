"""/factura: the self-invoicing page a ticket's QR opens. Everything it does goes through
einvoice/self_invoice/portal.py; this only renders the form, in Spanish unless ?lang=en."""

from __future__ import annotations

import json

import frappe
from frappe import _

from mexico_localization.einvoice.self_invoice import buyers
from mexico_localization.einvoice.self_invoice.portal import LANGUAGES
from mexico_localization.einvoice.settings import get_settings

no_cache = 1


def get_context(context) -> None:
    lang = frappe.form_dict.get("lang")
    frappe.local.lang = lang if lang in LANGUAGES else "es"
    settings = get_settings()
    context.no_breadcrumbs = 1
    context.show_sidebar = 0
    context.title = _("Get your CFDI")
    context.enabled = bool(settings.enable_self_invoicing and settings.enable_e_invoice)
    context.store = " · ".join(row.organization_legal_name or row.company for row in settings.get("companies") or [])
    context.contact = (settings.store_contact or "").strip()
    context.code = (frappe.form_dict.get("codigo") or "")[:40]
    context.lang_code = frappe.local.lang
    data = {"lang": frappe.local.lang, "choices": buyers.choices(), "text": page_text()}
    context.page_data = json.dumps(data).replace("</", "<\\/")  # inside a <script> element


def page_text() -> dict[str, str]:
    """The words the page's script shows, translated here (a guest's page has no Desk translations)."""
    return {
        "checking": _("Checking…"), "sending": _("Sending…"),
        "unreachable": _("The page could not reach the store's server. Check your connection and try again."),
        "stamping": _("Stamping your CFDI with SAT…"),
        "emailed": _("We also sent it to {0}."),
        "uuid": _("UUID (Folio Fiscal)"), "folio": _("Series-Folio"), "stamped_at": _("Stamp Time"),
        "test": _("TEST – NO FISCAL VALIDITY"),
        "download_xml": _("Download XML"), "download_pdf": _("Download PDF"),
        "returning": _("We filled in the data you used before. Check it, and your e-mail."),
        "choose": _("Choose…"), "ticket": _("Ticket of {0}, total {1}. You can invoice it until {2}."),
        "slow": _("Stamping is taking longer than usual. Your CFDI will be e-mailed to you; you can also come back "
                  "to this page later with the same code and total."),
    }

"""The buyer behind a self-invoice request: their data checked as at the till (same rules, same
words) and with SAT, and the Customer that holds it, found by the full RFC, made or corrected."""

from __future__ import annotations

from dataclasses import dataclass

import frappe
from frappe import _
from frappe.utils import now_datetime

from mexico_localization.cfdi import rfc as rfc_rules
from mexico_localization.cfdi import self_invoice
from mexico_localization.cfdi.catalogs import CFDI_USES, REGIMES
from mexico_localization.cfdi.model import Receiver
from mexico_localization.cfdi.validation import blocking, receiver_problems
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.operations.customer_check import Verdict, disputed_fields

FISCAL_FIELDS = ("mx_legal_name", "mx_tax_regime", "mx_fiscal_zip")  # what SAT's records decide
# FacturaAPI's field paths, as the page labels them.
LABEL_OF_PATH = {"legal_name": "Legal name", "tax_id": "RFC", "tax_system": "Tax regime",
                 "address.zip": "Fiscal zip code", "address": "Fiscal zip code"}


@dataclass(frozen=True)
class Typed:
    """What the buyer typed, tidied as SAT writes it (RFC and name in capitals, no stray spaces)."""
    tax_id: str
    legal_name: str
    tax_regime: str
    cfdi_use: str
    zip: str
    email: str

    @classmethod
    def tidy(cls, tax_id: str | None, legal_name: str | None, tax_regime: str | None, cfdi_use: str | None,
             zip_code: str | None, email: str | None) -> Typed:
        return cls(rfc_rules.normalize(tax_id), " ".join((legal_name or "").upper().split()),
                   (tax_regime or "").strip(), (cfdi_use or "").strip().upper(), (zip_code or "").strip(),
                   (email or "").strip())

    def receiver(self) -> Receiver:
        return Receiver(self.legal_name, self.tax_id, self.tax_regime, self.zip, self.cfdi_use, self.email or None)


def problems(typed: Typed) -> list[str]:
    """Every reason SAT or the store would refuse this data, in the till's words; [] when none."""
    if self_invoice.is_generic(typed.tax_id):
        return [_("{0} is a generic RFC: your ticket is already in the store's CFDI to público en general. Enter "
                  "your own RFC.").format(typed.tax_id)]
    found = [translate(p) for p in blocking(receiver_problems(typed.receiver(), typed.legal_name or typed.tax_id))]
    if typed.cfdi_use in CFDI_USES and typed.cfdi_use in self_invoice.NOT_FOR_A_SALE:
        found.append(_("CFDI use {0} is not for a purchase: choose one of the list.").format(typed.cfdi_use))
    if not frappe.utils.validate_email_address(typed.email):
        found.append(_("Enter the e-mail address your CFDI should be sent to."))
    return found


def known(tax_id: str) -> frappe._dict | None:
    """The store's customer with exactly this RFC (the most recently changed one), if any."""
    tax_id = rfc_rules.normalize(tax_id)
    if not rfc_rules.has_valid_shape(tax_id) or self_invoice.is_generic(tax_id):
        return None
    rows = frappe.get_all("Customer", filters={"tax_id": tax_id, "disabled": 0, "mx_is_public": 0},
                          fields=["name", "customer_name", "mx_legal_name", "mx_tax_regime", "mx_fiscal_zip",
                                  "mx_cfdi_use", "mx_cfdi_email"], order_by="modified desc", limit=1)
    return rows[0] if rows else None


def offered_back(tax_id: str) -> dict[str, str] | None:
    """What the page offers a returning RFC: its fiscal data, never its e-mail; and only for a buyer who
    self-invoiced here before (the store's other customers' data is the store's)."""
    customer = known(tax_id)
    if not customer or not customer.mx_tax_regime \
            or not frappe.db.exists("CFDI", {"receiver_customer": customer.name, "self_invoiced": 1}):
        return None
    return {"legal_name": customer.mx_legal_name or customer.customer_name, "tax_regime": customer.mx_tax_regime,
            "zip": customer.mx_fiscal_zip or "", "cfdi_use": customer.mx_cfdi_use or ""}


class NeedsSat(Exception):
    """An existing customer's fiscal data would change, and SAT could not confirm the new data."""


def customer_for(typed: Typed, verdict: Verdict, sale: str) -> str:
    """The Customer the CFDI is issued to: the one with this RFC, its fiscal data brought to what SAT
    confirmed, or a new one. Stored data is never overwritten on the word of a ticket holder alone,
    and the buyer's e-mail stays on their CFDI: the store's later CFDIs to this RFC do not follow it."""
    customer = known(typed.tax_id)
    values = {"mx_legal_name": typed.legal_name, "mx_tax_regime": typed.tax_regime, "mx_fiscal_zip": typed.zip}
    checked = {"mx_sat_checked_at": now_datetime(),
               "mx_sat_check_result": _("SAT's records agree with this customer's RFC, legal name, fiscal zip code "
                                        "and tax regime.")} if verdict.agrees else {}
    note = _("Fiscal data confirmed with SAT and saved by the self-invoicing page, for ticket {0}.").format(sale)
    if customer:
        if any((customer.get(f) or "") != values[f] for f in FISCAL_FIELDS):
            if not verdict.agrees:
                raise NeedsSat
            doc = frappe.get_doc("Customer", customer.name)
            doc.update({**values, **checked})
            doc.flags.sat_checked = True
            doc.save(ignore_permissions=True)  # a Version records what changed
            doc.add_comment("Comment", note)
        elif checked:
            frappe.db.set_value("Customer", customer.name, checked, update_modified=False)
        return customer.name
    doc = frappe.get_doc({
        "doctype": "Customer", "customer_name": typed.legal_name, "tax_id": typed.tax_id,
        "customer_type": "Company" if rfc_rules.persona(typed.tax_id) == "Moral" else "Individual",
        "customer_group": frappe.db.get_single_value("Selling Settings", "customer_group") or None,
        "territory": frappe.db.get_single_value("Selling Settings", "territory") or None,
        "mx_cfdi_use": typed.cfdi_use, **values, **checked,
    })
    doc.flags.sat_checked = verdict.agrees is not None  # SAT just answered: after_insert need not ask again
    doc.insert(ignore_permissions=True)
    doc.add_comment("Comment", _("Made by the self-invoicing page, for ticket {0}.").format(sale))
    return doc.name


def disputed(verdict: Verdict) -> str:
    """SAT's disagreement, in the page's words: the fields to look at again."""
    labels = [_(label) for label in disputed_fields(verdict.error, LABEL_OF_PATH)] if verdict.error else []
    reason = verdict.error.message if verdict.error else ""
    if labels:
        return _("SAT's records do not match: check {0} against your Constancia de Situación Fiscal. ({1})").format(
            ", ".join(labels), reason)
    return _("SAT's records do not match your data: check it against your Constancia de Situación Fiscal. "
             "({0})").format(reason)


def choices() -> dict[str, list[dict[str, str]]]:
    """The regimes and uses the page offers, with the rules it filters them by."""
    return {
        "regimes": [{"code": r.code, "label": f"{r.code} – {r.description}", "fisica": r.fisica, "moral": r.moral}
                    for r in REGIMES.values()],
        "uses": [{"code": u.code, "label": f"{u.code} – {u.description}", "fisica": u.fisica, "moral": u.moral,
                  "regimes": sorted(u.regimes)}
                 for u in CFDI_USES.values() if u.code not in self_invoice.NOT_FOR_A_SALE],
    }

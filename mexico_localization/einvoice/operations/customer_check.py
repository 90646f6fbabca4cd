"""Check with SAT: a Customer's RFC, legal name, fiscal zip and regime compared with SAT's records
through FacturaAPI (its customer registration validates them), before a till sale fails on them.
Every call is recorded like any other; the last result stays on the Customer for the cashier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import frappe
from frappe import _
from frappe.utils import escape_html, now_datetime

from mexico_localization.cfdi.mapping import customer_body
from mexico_localization.cfdi.model import Receiver
from mexico_localization.cfdi.validation import blocking, receiver_problems
from mexico_localization.einvoice.gather import receiver_from_customer
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.pipeline import records
from mexico_localization.einvoice.settings import company_secret, default_company, get_settings, make_client
from mexico_localization.facturapi import FacturapiError

CHECK_TIMEOUT = (5.0, 15.0)  # connect, read: a person waits for the answer (the cashier, at a new customer)
# FacturaAPI's field paths, as the Customer form labels them.
FIELD_OF_PATH = {"legal_name": "Legal Name (as on the Constancia)", "tax_id": "Tax Id",
                 "tax_system": "Tax Regime", "address.zip": "Fiscal Zip Code", "address": "Fiscal Zip Code"}


def check_with_sat(customer: str) -> dict[str, Any]:
    """{ok, message}: what SAT disagrees with, in plain words, or that it agrees; recorded."""
    doc = frappe.get_doc("Customer", customer)
    receiver = receiver_from_customer(doc)
    if receiver.is_public or receiver.country != "MEX":
        return _keep(customer, True, _("A generic RFC (público en general or a buyer abroad) has nothing to check "
                                       "with SAT."))
    found = blocking(receiver_problems(receiver, doc.customer_name or customer))
    if found:
        return _keep(customer, False, "\n".join(translate(p) for p in found))
    verdict = ask_sat(receiver, "Customer", customer)
    if verdict.agrees:
        return _keep(customer, True, _("SAT's records agree with this customer's RFC, legal name, fiscal zip code "
                                       "and tax regime."))
    if verdict.agrees is False:
        return _keep(customer, False, disagreement(verdict.error))
    if verdict.error is not None:
        return {"ok": False, "message": _("SAT could not be asked now ({0}). Try again later; sales are not "
                                          "blocked by this.").format(verdict.error.kind)}
    if verdict.unusable_url:
        return {"ok": False, "message": _("The FacturaAPI Server URL cannot be used: {0}").format(verdict.unusable_url)}
    return {"ok": False, "message": _("Turn E Invoice on and enter the Secret Key in E Invoice Setting to "
                                      "check customers with SAT.")}


@dataclass
class Verdict:
    """SAT's answer on a receiver: `agrees` None when it could not be asked (E Invoice off, no key, an
    unusable URL, FacturaAPI unreachable or failing)."""
    agrees: bool | None
    error: FacturapiError | None = None
    unusable_url: str = ""


def ask_sat(receiver: Receiver, reference_doctype: str, reference_name: str) -> Verdict:
    """FacturaAPI registers the receiver as a customer, which it validates against SAT's records;
    every exchange is recorded against the reference."""
    settings = get_settings()
    company = default_company(settings)
    if not settings.enable_e_invoice or not company_secret(company, settings):
        return Verdict(None)
    log = records.ExchangeLog(reference_doctype, reference_name)
    try:
        client = make_client(company, settings, on_exchange=log, timeout=CHECK_TIMEOUT)
    except ValueError as exc:
        return Verdict(None, unusable_url=str(exc))
    try:
        with client:
            client.create_customer(customer_body(receiver, ""))
    except FacturapiError as error:
        log.write()
        if error.status == 400:
            return Verdict(False, error)
        records.error_log(_("Check with SAT failed for {0} {1}").format(_(reference_doctype), reference_name),
                          error, reference_doctype, reference_name)
        return Verdict(None, error)
    log.write()
    return Verdict(True)


def disagreement(error: FacturapiError) -> str:
    """FacturaAPI's words, headed by the Customer field to correct when it names one SAT checks."""
    fields = [_(label) for label in disputed_fields(error, FIELD_OF_PATH)]
    if not fields:
        return _("FacturaAPI refused the customer's data: {0}").format(error.message)
    where = _("Correct {0} on the customer's Tax tab.").format(", ".join(dict.fromkeys(fields)))
    return " ".join((_("SAT disagrees: {0}").format(error.message), where))


def disputed_fields(error: FacturapiError, labels: dict[str, str]) -> list[str]:
    """The labels of the fields FacturaAPI's answer names, once each, in its order."""
    paths = [d.path for d in error.details if d.path] + ([error.path] if error.path else [])
    return list(dict.fromkeys(labels[p] for p in paths if p in labels))


def check_new_customer(doc, method: str | None = None) -> None:
    """A customer created by hand (the POS quick entry included) is checked at once, when E Invoice is
    on; the result is a message, never a block."""
    if frappe.flags.in_import or frappe.flags.in_install or frappe.flags.in_migrate or not doc.get("tax_id") \
            or doc.flags.sat_checked:
        return
    settings = get_settings()
    if not settings.enable_e_invoice or not company_secret(default_company(settings), settings):
        return
    frappe.db.savepoint("sat_check")
    try:
        result = check_with_sat(doc.name)
    except Exception as exc:  # the customer is saved whatever happens to the check
        frappe.db.rollback(save_point="sat_check")
        frappe.log_error(_("Check with SAT failed for customer {0}").format(doc.name), str(exc), "Customer", doc.name)
        return
    frappe.msgprint(escape_html(result["message"]), title=_("Check with SAT"),
                    indicator="green" if result["ok"] else "orange")


def _keep(customer: str, ok: bool, message: str) -> dict[str, Any]:
    frappe.db.set_value("Customer", customer, {"mx_sat_checked_at": now_datetime(),
                                               "mx_sat_check_result": message[:1000]}, update_modified=False)
    return {"ok": ok, "message": message}

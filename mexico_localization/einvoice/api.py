"""Whitelisted entry points. Each checks roles itself (frappe.only_for is a no-op under tests)."""

from __future__ import annotations

from typing import Any

import frappe
from frappe import _

from mexico_localization.cfdi.credit_note import USER_MOTIVES
from mexico_localization.cfdi.states import CfdiState
from mexico_localization.cfdi.validation import blocking, receiver_problems
from mexico_localization.einvoice.gather import POS_INVOICE, SALE_DOCTYPES, is_public, receiver_from_customer
from mexico_localization.einvoice.kinds import global_invoice
from mexico_localization.einvoice.kinds.substitute import substitute_row
from mexico_localization.einvoice.messages import translate
from mexico_localization.einvoice.operations import audit, bulk, cfdi_files, customer_check, review, walk_in
from mexico_localization.einvoice.operations import ping as ping_service
from mexico_localization.einvoice.pipeline.cancellation import refuse_while_related, request_cancellation
from mexico_localization.einvoice.pipeline.rows import enqueue_stamp
from mexico_localization.einvoice.pipeline.stamping import requeue_failed
from mexico_localization.einvoice.pipeline.sweep import enqueue_afresh, stuck_in_queue
from mexico_localization.einvoice.roles import require_company, require_manager, require_reader
from mexico_localization.einvoice.settings import get_settings


@frappe.whitelist(methods=["POST"])
def ping_server(company: str | None = None) -> dict[str, Any]:
    """Checks the URL and `company`'s key (every company's, without one) at FacturaAPI (no side effects
    there) and records each call."""
    require_manager()
    return ping_service.run_ping(company or None)


@frappe.whitelist(methods=["POST"])
def check_customer_with_sat(customer: str) -> dict[str, Any]:
    """Compares the customer's fiscal data with SAT's records through FacturaAPI; recorded. A CFDI
    Manager who may also edit the customer (the one to correct it); the till checks a new customer
    by itself."""
    require_manager()
    frappe.get_doc("Customer", customer).check_permission("write")
    return customer_check.check_with_sat(customer)


@frappe.whitelist(methods=["POST"])
def retry_cfdi(invoice: str | None = None, doctype: str = POS_INVOICE, cfdi: str | None = None) -> dict[str, Any]:
    """Queues a Failed CFDI again after a person fixed what its message said, or one left Queued with no
    job to run it; named by its sale (`invoice`, `doctype`) or by the CFDI record itself (`cfdi`)."""
    require_manager()
    if cfdi:
        require_company(frappe.db.get_value("CFDI", cfdi, "company"))
        name = cfdi if frappe.db.exists("CFDI", cfdi) else None
    else:
        name = sale_values(doctype, invoice).mx_cfdi
    if name and stuck_in_queue(name):
        enqueue_afresh(name)
        return {"cfdi": name, "status": CfdiState.QUEUED.value}
    if not name or not requeue_failed(name):
        status = frappe.db.get_value("CFDI", name, "status") if name else None
        frappe.throw(_("Only a Failed CFDI can be retried; this one is {0}.").format(_(status or "missing")))
    enqueue_stamp(name, attempt=f"retry-{frappe.generate_hash(length=8)}")
    return {"cfdi": name, "status": CfdiState.QUEUED.value}


@frappe.whitelist(methods=["POST"])
def request_nominative(invoice: str, customer: str, doctype: str = POS_INVOICE) -> dict[str, Any]:
    """A walk-in ticket's customer asks for a CFDI in their own name: it leaves the global CFDI."""
    require_manager()
    if doctype != POS_INVOICE:
        frappe.throw(_("Only a POS sale goes into a global CFDI."))
    sale_values(doctype, invoice)
    doc = frappe.get_doc(POS_INVOICE, invoice)
    if doc.docstatus != 1 or doc.is_return:
        frappe.throw(_("Only a submitted sale (not a return) can get a nominative CFDI."))
    customer_doc = frappe.get_doc("Customer", customer)
    if is_public(customer_doc.name):
        frappe.throw(_("{0} is a walk-in customer (Público en General): choose or create the customer with their "
                       "RFC and fiscal data.").format(customer_doc.name), title=_("Customer needed"))
    require_fiscal_data(customer_doc)
    name = walk_in.request_nominative(doc, customer_doc.name)
    return {"cfdi": name, "status": CfdiState.QUEUED.value}


@frappe.whitelist(methods=["POST"])
def cancel_cfdi(cfdi: str, motive: str) -> dict[str, Any]:
    """Cancels a stamped CFDI at FacturaAPI with SAT motive 02 or 03, in the background. A global CFDI
    is never left cancelled with its tickets uncovered: it is re-issued (Re-issue Global CFDI)."""
    require_manager()
    if not frappe.db.exists("CFDI", cfdi):
        frappe.throw(_("CFDI {0} not found.").format(cfdi), frappe.DoesNotExistError)
    require_company(frappe.db.get_value("CFDI", cfdi, "company"))
    if frappe.db.get_value("CFDI", cfdi, "is_global"):
        frappe.throw(_("A global CFDI covers its tickets: it is replaced, not cancelled. Use Re-issue Global CFDI "
                       "(the new global is stamped first, then this one is cancelled with motive 01); a ticket "
                       "that needs its own CFDI takes Request nominative CFDI (motive 04)."),
                     title=_("Global CFDI"))
    if motive not in USER_MOTIVES:
        frappe.throw(_("Choose motive 02 or 03. Motive 01 (errors, with a substitute) is done by Re-issue CFDI, "
                       "which stamps the substitute first; motive 04 belongs to a global CFDI whose ticket got its "
                       "own CFDI."), title=_("Cancellation motive"))
    request_cancellation(cfdi, motive)
    return {"cfdi": cfdi, "status": frappe.db.get_value("CFDI", cfdi, "status")}


@frappe.whitelist(methods=["POST"])
def reissue_global(cfdi: str) -> dict[str, Any]:
    """A stamped global replaced by a new one over the same tickets (relation 04), which once stamped
    cancels it with motive 01 naming it."""
    require_manager()
    if not get_settings().enable_cancellation:
        frappe.throw(_("Re-issuing cancels the current CFDI, and Enable Cancellation is off in E Invoice Setting."),
                     title=_("Cancellation disabled"))
    old = frappe.get_doc("CFDI", cfdi)
    require_company(old.company)
    if not old.is_global or old.status != CfdiState.STAMPED.value or old.substituted_by:
        frappe.throw(_("Only a stamped global CFDI that has not been replaced yet can be re-issued."),
                     title=_("Nothing to re-issue"))
    refuse_while_related(old.name)
    new = global_invoice.replacement(old)
    if not new:
        frappe.throw(_("The global CFDI {0} holds no ticket any more.").format(cfdi))
    return {"cfdi": new, "status": CfdiState.QUEUED.value}


@frappe.whitelist(methods=["POST"])
def resolve_review(cfdi: str, keep: str | None = None, cancel_others: int = 0) -> dict[str, Any]:
    """A CFDI in Needs Review: `keep` (a FacturaAPI id it lists) stands and the others are recorded as its
    duplicates, cancelled with motive 02 when `cancel_others`; without `keep`, FacturaAPI is looked at again."""
    require_manager()
    require_company(frappe.db.get_value("CFDI", cfdi, "company"))
    if keep:
        return review.keep_one(cfdi, keep, bool(int(cancel_others or 0)))
    review.look_again(cfdi)
    return {"cfdi": cfdi, "status": CfdiState.QUEUED.value}


@frappe.whitelist(methods=["POST"])
def reissue_cfdi(invoice: str, customer: str | None = None, doctype: str = POS_INVOICE) -> dict[str, Any]:
    """The everyday correction: a substitute CFDI for the same sale with the corrected data (relation
    04), then the original is cancelled with motive 01 naming it."""
    require_manager()
    if not get_settings().enable_cancellation:
        frappe.throw(_("Re-issuing cancels the current CFDI, and Enable Cancellation is off in E Invoice Setting."),
                     title=_("Cancellation disabled"))
    sale_values(doctype, invoice)
    doc = frappe.get_doc(doctype, invoice)
    old = frappe.get_doc("CFDI", doc.mx_cfdi) if doc.mx_cfdi else None
    if not old or old.is_global or old.cfdi_type != "I" or old.status != CfdiState.STAMPED.value:
        frappe.throw(_("Only a sale with its own stamped CFDI can be re-issued. A walk-in ticket in a global CFDI "
                       "gets its CFDI with Request nominative CFDI."), title=_("Nothing to re-issue"))
    refuse_while_related(old.name)  # else the substitute would stand beside an original SAT keeps valid
    customer = customer or old.receiver_customer or None
    if customer:
        require_fiscal_data(frappe.get_doc("Customer", customer))
    new = substitute_row(doc, old, customer)
    doc.db_set({"mx_cfdi": new, "mx_cfdi_status": CfdiState.QUEUED.value,
                "mx_cfdi_message": _("Re-issue requested: the substitute CFDI is stamped first, then {0} is cancelled "
                                     "with motive 01.").format(old.uuid)}, update_modified=False)
    return {"cfdi": new, "status": CfdiState.QUEUED.value}


def sale_values(doctype: str, invoice: str):
    """A sale the caller may act on: a POS Invoice or Sales Invoice of a company their User Permissions
    allow (the CFDI fields only, read without the sale's controller)."""
    require_sale_doctype(doctype)
    values = frappe.db.get_value(doctype, invoice, ["name", "company", "mx_cfdi"], as_dict=True)
    if not values:
        frappe.throw(_("{0} {1} not found.").format(_(doctype), invoice), frappe.DoesNotExistError)
    require_company(values.company)
    return values


def require_sale_doctype(doctype: str) -> None:
    if doctype not in SALE_DOCTYPES:
        frappe.throw(_("CFDIs are issued for POS Invoices and Sales Invoices, not {0}.").format(doctype))


def require_fiscal_data(customer) -> None:
    """A CFDI is issued in the customer's name only when SAT would accept their data."""
    problems = blocking(receiver_problems(receiver_from_customer(customer), customer.name))
    if problems:
        frappe.throw("<br>".join(frappe.utils.escape_html(translate(p)) for p in problems),
                     title=_("Complete the customer's fiscal data"))


@frappe.whitelist(methods=["POST"])
def bulk_preview(names: str | None = None, filters: str | None = None, failed_only: int = 0,
                 doctype: str = POS_INVOICE) -> dict[str, Any]:
    """What a bulk run over this selection would do, before it starts."""
    selection = _bulk_selection(names, filters, failed_only, doctype)
    return bulk.preview(*selection, doctype=doctype)


@frappe.whitelist(methods=["POST"])
def bulk_start(names: str | None = None, filters: str | None = None, failed_only: int = 0,
               doctype: str = POS_INVOICE) -> dict[str, Any]:
    """Starts a bulk run on the long queue; the caller follows it by its id (realtime progress)."""
    return bulk.start(*_bulk_selection(names, filters, failed_only, doctype), doctype=doctype)


def _bulk_selection(names: str | None, filters: str | None, failed_only: int,
                    doctype: str) -> tuple[list | None, list | None, bool]:
    """Selected invoices (Generate CFDI: Not Applicable ones too), or the list's filters narrowed to
    Failed (Re-generate all Failed). Needs a CFDI role and the right to submit the invoices; the list
    holds only those the user's User Permissions allow."""
    require_manager()
    require_sale_doctype(doctype)
    if not frappe.has_permission(doctype, "submit"):
        raise frappe.PermissionError(_("Generating CFDIs in bulk needs permission to submit {0}.").format(_(doctype)))
    if names:
        chosen = frappe.parse_json(names)
        if not isinstance(chosen, list) or not all(isinstance(n, str) for n in chosen):
            frappe.throw(_("Select the invoices to generate."))
        return None, chosen, True
    rules = frappe.parse_json(filters) if filters else []
    if not isinstance(rules, list):
        frappe.throw(_("The list's filters could not be read."))
    if int(failed_only or 0):
        rules = [*rules, [doctype, "mx_cfdi_status", "=", CfdiState.FAILED.value]]
    return rules, None, False


@frappe.whitelist(methods=["POST"])
def verify_audit_trail() -> dict[str, Any]:
    """Recomputes every sealed day: intact, or the first day whose records changed since sealing."""
    require_reader()
    return audit.verify_trail()


@frappe.whitelist(methods=["POST"])
def cfdi_pdf(cfdi: str) -> dict[str, Any]:
    """The URL of the CFDI's PDF: fetched from FacturaAPI and kept on first demand (a recorded call)."""
    require_reader()
    doc = frappe.get_doc("CFDI", cfdi)
    doc.check_permission("read")
    require_company(doc.company)
    return {"file_url": cfdi_files.cfdi_pdf(cfdi)[2]}

"""Payment complements for deferred (PPD) POS sales: a Payment Entry against the Sales Invoice that
POS closing consolidated them into gets one CFDI tipo P, stamped through the ordinary pipeline.

What each sale has been paid so far is read from the complements that are valid or on their way
(not cancelled, not failed), and credit notes related to it reduce its balance: two payments made
before the first complement is stamped can never claim the same balance. Each allocation's
installment and previous balance are fixed when the complement's row is written, so retries send
the same document.
"""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.utils import flt, now_datetime

from mexico_localization.cfdi.mapping import BuiltInvoice
from mexico_localization.cfdi.money import dec
from mexico_localization.cfdi.payment_complement import (
    DeferredSale,
    Received,
    allocate,
    build_payment_complement,
    payment_time,
)
from mexico_localization.cfdi.payment_form import dominant_form
from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState
from mexico_localization.einvoice.gather import load_sale, lookup, posting_datetime, profile_of, sale_from_invoice
from mexico_localization.einvoice.pipeline.rows import new_row

STANDING = tuple(s.value for s in VALID_AT_SAT | IN_FLIGHT)


def deferred_sales(sales_invoice: str) -> list[DeferredSale]:
    """The PPD POS sales a consolidated Sales Invoice merged, with what is still due on each CFDI."""
    names = frappe.get_all("Sales Invoice Item", filters={"parent": sales_invoice, "pos_invoice": ["is", "set"]},
                           pluck="pos_invoice", distinct=True)
    found = []
    for row in frappe.get_all("CFDI", fields=["name", "uuid", "total", "reference_name"], order_by="creation asc",
                              filters={"reference_doctype": "POS Invoice", "reference_name": ["in", names or [""]],
                                       "cfdi_type": "I", "status": CfdiState.STAMPED.value, "payment_method": "PPD"}):
        sale = load_sale(row.reference_name)
        paid, count = frappe.db.sql("""
            select ifnull(sum(a.amount), 0), count(*) from `tabCFDI Payment Allocation` a
            join `tabCFDI` c on c.name = a.parent
            where a.related_cfdi = %s and c.status in %s""", (row.name, STANDING))[0]
        credited = frappe.db.sql("""select ifnull(sum(total), 0) from `tabCFDI`
            where cfdi_type = 'E' and original_invoice = %s and status in %s""", (row.reference_name, STANDING))[0][0]
        found.append(DeferredSale(row.reference_name, row.uuid, posting_datetime(sale.posting_date, sale.posting_time),
                                  dec(row.total), sale_from_invoice(sale).lines, dec(paid), dec(credited), int(count)))
    return found


def payment_row(payment) -> str | None:
    """A Payment Entry's complement row, for the deferred sales its references pay (oldest first);
    None when it pays none. Each allocation's installment and previous balance are fixed here."""
    rows = []
    for ref in payment.references:
        if ref.reference_doctype != "Sales Invoice" or not frappe.db.get_value(
                "Sales Invoice", ref.reference_name, "is_consolidated"):
            continue
        allocations, _left = allocate(dec(ref.allocated_amount), deferred_sales(ref.reference_name))
        rows += [{"pos_invoice": sale.name, "related_cfdi": _cfdi_of(sale.name), "uuid": sale.uuid,
                  "cfdi_total": flt(sale.total), "amount": flt(amount), "installment": sale.installments + 1,
                  "last_balance": flt(sale.balance)} for sale, amount in allocations]
    if not rows:
        return None
    return new_row({"reference_doctype": payment.doctype, "reference_name": payment.name, "cfdi_type": "P",
                    "company": payment.company, "status": CfdiState.QUEUED.value,
                    "currency": payment.paid_to_account_currency or "MXN", "total": sum(r["amount"] for r in rows),
                    "payment_allocations": rows}, external_subject=payment.name)


def _cfdi_of(pos_invoice: str) -> str:
    return frappe.db.get_value("CFDI", {"reference_name": pos_invoice, "cfdi_type": "I",
                                        "status": CfdiState.STAMPED.value})


def till_payment(cfdi) -> str | None:
    """A PPD sale partly paid at the till: that payment needs its complement too (installment 1),
    queued once the sale's CFDI is stamped."""
    if cfdi.cfdi_type != "I" or cfdi.payment_method != "PPD" or cfdi.reference_doctype != "POS Invoice":
        return None
    sale = load_sale(cfdi.reference_name)
    paid = flt(sale.paid_amount) - flt(sale.change_amount)
    if paid <= 0 or frappe.db.exists("CFDI", {"reference_name": sale.name, "cfdi_type": "P"}):
        return None
    return new_row({"reference_doctype": "POS Invoice", "reference_name": sale.name, "cfdi_type": "P",
                    "company": sale.company, "status": CfdiState.QUEUED.value, "currency": sale.currency,
                    "total": paid,
                    "payment_allocations": [{"pos_invoice": sale.name, "related_cfdi": cfdi.name, "uuid": cfdi.uuid,
                                             "cfdi_total": flt(cfdi.total), "amount": paid, "installment": 1,
                                             "last_balance": flt(cfdi.total)}]},
                   external_subject=f"{sale.name}-P")


def build(row) -> BuiltInvoice:
    """The body for a complement row (a Payment Entry's, or a till payment's); a CFDI de pago totals 0."""
    if row.reference_doctype == "POS Invoice":
        sale = load_sale(row.reference_name)
        form = dominant_form([(sale_from_invoice(sale).payments, dec(sale.change_amount or 0))])
        payment = frappe._dict(posting_date=sale.posting_date, reference_no="", paid_to_account_currency=sale.currency,
                               target_exchange_rate=sale.conversion_rate, mx_form=form, mode_of_payment="",
                               paid_on=posting_datetime(sale.posting_date, sale.posting_time))
    else:
        payment = frappe.db.get_value("Payment Entry", row.reference_name, [
            "mode_of_payment", "posting_date", "reference_no", "paid_to_account_currency", "target_exchange_rate"],
            as_dict=True)
        payment.mx_form = lookup("Mode of Payment", payment.mode_of_payment, "mx_payment_form") or ""
        payment.paid_on = posting_datetime(payment.posting_date, "12:00:00")  # a Payment Entry has a date only
    first = load_sale(row.payment_allocations[0].pos_invoice)
    original = frappe.db.get_value("CFDI", row.payment_allocations[0].related_cfdi, "receiver_customer")
    receiver = sale_from_invoice(first, original).receiver
    allocations = []
    for a in row.payment_allocations:
        sale = load_sale(a.pos_invoice)
        total = dec(a.cfdi_total)
        allocations.append((DeferredSale(a.pos_invoice, a.uuid, posting_datetime(sale.posting_date, sale.posting_time),
                                         total, sale_from_invoice(sale).lines, paid=total - dec(a.last_balance),
                                         installments=int(a.installment) - 1), dec(a.amount)))
    now = posting_datetime(now_datetime().date(), now_datetime().strftime("%H:%M:%S"))
    paid_at = payment_time(payment.paid_on, now, [sale.posted for sale, _amount in allocations])
    received = Received(payment.mx_form, paid_at, sum((amount for _s, amount in allocations), Decimal(0)),
                        payment.paid_to_account_currency or "MXN", dec(payment.target_exchange_rate or 1),
                        payment.reference_no or "", payment.mode_of_payment or "")
    zip_ = (profile_of(first.pos_profile) or {}).get("mx_expedition_zip") or ""
    return BuiltInvoice(build_payment_complement(receiver, received, allocations, zip_), late_stamp=False)

"""Payment complements for deferred (PPD) sales: a Payment Entry against a Sales Invoice stamped PPD, or
against the Sales Invoice that POS closing consolidated PPD POS sales into, gets one CFDI tipo P,
stamped through the ordinary pipeline.

What each sale has been paid so far is read from the complements that are valid or on their way
(not cancelled, not failed), and credit notes related to it reduce its balance: two payments made
before the first complement is stamped can never claim the same balance. Each allocation's
installment and previous balance are fixed when the complement's row is written, so retries send
the same document.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import frappe
from frappe.utils import flt, now_datetime

from mexico_localization.cfdi.mapping import BuiltInvoice, stated_lines
from mexico_localization.cfdi.money import dec
from mexico_localization.cfdi.payment_complement import (
    DeferredSale,
    Received,
    allocate,
    build_payments,
    payment_time,
    till_payments,
)
from mexico_localization.cfdi.payment_form import dominant_form, settled_by_form
from mexico_localization.cfdi.stamped_xml import stamped_tax_bases
from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState
from mexico_localization.einvoice.gather import (
    POS_INVOICE,
    SALES_INVOICE,
    load_sale,
    lookup,
    place_of_issue,
    posting_datetime,
    profile_of,
    sale_from_invoice,
)
from mexico_localization.einvoice.pipeline.records import kept_xml
from mexico_localization.einvoice.pipeline.rows import new_row

STANDING = tuple(s.value for s in VALID_AT_SAT | IN_FLIGHT)


def deferred_sales(sales_invoice: str) -> tuple[str, list[DeferredSale]]:
    """What a payment against a Sales Invoice pays: its own stamped PPD CFDI, or, for the invoice POS
    closing consolidated, the PPD POS sales it merged; each with what is still due on its CFDI, and the
    doctype of those sales."""
    if not frappe.db.get_value(SALES_INVOICE, sales_invoice, "is_consolidated"):
        return SALES_INVOICE, _deferred(SALES_INVOICE, [sales_invoice])
    names = frappe.get_all("Sales Invoice Item", filters={"parent": sales_invoice, "pos_invoice": ["is", "set"]},
                           pluck="pos_invoice", distinct=True)
    return POS_INVOICE, _deferred(POS_INVOICE, names)


def _deferred(doctype: str, names: list[str]) -> list[DeferredSale]:
    found = []
    for row in frappe.get_all("CFDI", fields=["name", "uuid", "total", "reference_name"], order_by="creation asc",
                              filters={"reference_doctype": doctype, "reference_name": ["in", names or [""]],
                                       "cfdi_type": "I", "status": CfdiState.STAMPED.value, "payment_method": "PPD"}):
        sale = load_sale(row.reference_name, doctype)
        paid, count, credited = standing_payments(row.name, row.reference_name)
        found.append(DeferredSale(row.reference_name, row.uuid, posting_datetime(sale.posting_date, sale.posting_time),
                                  dec(row.total), sale_from_invoice(sale).lines, paid, credited, count))
    return found


def allocated_to(doctype: str, name: str) -> dict[str, str]:
    """An allocation row's link to the sale it pays (a POS Invoice or a Sales Invoice)."""
    return {"sales_invoice": name} if doctype == SALES_INVOICE else {"pos_invoice": name}


def sale_of(allocation) -> tuple[str, str]:
    """The doctype and name of the sale an allocation pays."""
    return (SALES_INVOICE, allocation.sales_invoice) if allocation.get("sales_invoice") else \
        (POS_INVOICE, allocation.pos_invoice)


def standing_payments(cfdi: str, sale: str, but: str | None = None) -> tuple[Decimal, int, Decimal]:
    """What the complements valid or on their way declare paid on a PPD CFDI (and how many there are),
    and what its credit notes (other than `but`) take off it."""
    paid, count = frappe.db.sql("""
        select ifnull(sum(a.amount), 0), count(*) from `tabCFDI Payment Allocation` a
        join `tabCFDI` c on c.name = a.parent
        where a.related_cfdi = %s and c.status in %s""", (cfdi, STANDING))[0]
    credited = frappe.db.sql("""select ifnull(sum(total), 0) from `tabCFDI`
        where cfdi_type = 'E' and original_invoice = %s and status in %s and name != %s""",
                             (sale, STANDING, but or ""))[0][0]
    return dec(paid), int(count), dec(credited)


def balance_due(sale: str, but: str | None = None) -> Decimal:
    """What the buyer still owes on a sale's stamped PPD CFDI (0 for a PUE one, or none)."""
    row = frappe.db.get_value("CFDI", {"reference_name": sale, "cfdi_type": "I", "payment_method": "PPD",
                                       "status": CfdiState.STAMPED.value}, ["name", "total"], as_dict=True)
    if not row:
        return Decimal(0)
    paid, _count, credited = standing_payments(row.name, sale, but)
    return max(Decimal(0), dec(row.total) - paid - credited)


def payment_row(payment) -> str | None:
    """A Payment Entry's complement row, for the deferred sales its references pay (oldest first);
    None when it pays none. Each allocation's installment and previous balance are fixed here."""
    rows = []
    for ref in payment.references:
        if ref.reference_doctype != SALES_INVOICE:
            continue
        doctype, sales = deferred_sales(ref.reference_name)
        allocations, _left = allocate(dec(ref.allocated_amount), sales)
        rows += [{**allocated_to(doctype, sale.name), "related_cfdi": _cfdi_of(sale.name), "uuid": sale.uuid,
                  "cfdi_total": flt(sale.total), "amount": flt(amount), "installment": sale.installments + 1,
                  "last_balance": flt(sale.balance)} for sale, amount in allocations]
    if not rows:
        return None
    return new_row({"reference_doctype": payment.doctype, "reference_name": payment.name, "cfdi_type": "P",
                    "company": payment.company, "status": CfdiState.QUEUED.value,
                    "currency": payment.paid_to_account_currency or "MXN", "total": sum(r["amount"] for r in rows),
                    "payment_allocations": rows}, external_subject=payment.name)


def _cfdi_of(sale: str) -> str:
    return frappe.db.get_value("CFDI", {"reference_name": sale, "cfdi_type": "I", "status": CfdiState.STAMPED.value})


def till_payment(cfdi) -> str | None:
    """A PPD sale partly paid at the till: that payment needs its complement too, queued once the
    sale's CFDI is stamped. One allocation per form (a Pago node each, Pagos 2.0), each a further
    installment, fixed here so later complements number on from them."""
    if cfdi.cfdi_type != "I" or cfdi.payment_method != "PPD" or cfdi.reference_doctype != "POS Invoice":
        return None
    sale = load_sale(cfdi.reference_name)
    paid = flt(sale.paid_amount) - flt(sale.change_amount)
    if paid <= 0 or frappe.db.exists("CFDI", {"reference_name": sale.name, "cfdi_type": "P"}):
        return None
    ppd = DeferredSale(sale.name, cfdi.uuid, posting_datetime(sale.posting_date, sale.posting_time),
                       dec(cfdi.total), ())
    settled = settled_by_form([(sale_from_invoice(sale).payments, dec(sale.change_amount or 0))])
    nodes = till_payments(ppd, settled, ppd.posted)
    return new_row({"reference_doctype": "POS Invoice", "reference_name": sale.name, "cfdi_type": "P",
                    "company": sale.company, "status": CfdiState.QUEUED.value, "currency": sale.currency,
                    "total": paid,
                    "payment_allocations": [{"pos_invoice": sale.name, "related_cfdi": cfdi.name, "uuid": cfdi.uuid,
                                             "cfdi_total": flt(cfdi.total), "amount": flt(amount),
                                             "installment": part.installments + 1, "last_balance": flt(part.balance),
                                             "payment_form": received.payment_form}
                                            for received, [(part, amount)] in nodes]},
                   external_subject=f"{sale.name}-P")


def stamped_bases(cfdi: str | None):
    """The related CFDI's tax bases as its stamped XML states them (None without an intact XML)."""
    xml = kept_xml(cfdi) if cfdi else None
    return stamped_tax_bases(xml) if xml else None


def stated(sale, customer: str | None):
    """The sale's lines as its CFDI stated them (IEPS inside or apart, bases fitted), for when its XML
    cannot be read."""
    gathered = sale_from_invoice(sale, customer)
    return stated_lines(gathered.lines, gathered.receiver, gathered.grand_total or None)


def party_rates(payment, currencies: set[str]) -> tuple[tuple[str, Decimal], ...]:
    """MXN per unit of each related CFDI's currency on the payment date: the Payment Entry's source
    exchange rate when its party account is in that currency, else ERPNext's rate for the date."""
    from erpnext.setup.utils import get_exchange_rate

    rates = {}
    for currency in currencies - {"MXN", payment.paid_to_account_currency or "MXN"}:
        if payment.get("paid_from_account_currency") == currency and payment.get("source_exchange_rate"):
            rates[currency] = dec(payment.source_exchange_rate)
        else:
            rates[currency] = dec(get_exchange_rate(currency, "MXN", payment.posting_date) or 0)
    return tuple(rates.items())


def build(row) -> BuiltInvoice:
    """The body for a complement row (a Payment Entry's, or a till payment's); a CFDI de pago totals 0."""
    doctype, name = sale_of(row.payment_allocations[0])
    first = load_sale(name, doctype)
    original = frappe.db.get_value("CFDI", row.payment_allocations[0].related_cfdi, "receiver_customer")
    receiver = sale_from_invoice(first, original).receiver
    allocations = allocated_sales(row)
    now = posting_datetime(now_datetime().date(), now_datetime().strftime("%H:%M:%S"))
    zip_ = place_of_issue(first, profile_of(first.get("pos_profile")))[0]
    if row.reference_doctype == "POS Invoice":  # paid in part at the till: a Pago node per form
        paid_at = payment_time(posting_datetime(first.posting_date, first.posting_time), now,
                               [allocations[0][0].posted])
        forms = [a.payment_form for a in row.payment_allocations]
        if not all(forms):  # a row written before allocations kept their form: the form that settled most
            forms = [dominant_form([(sale_from_invoice(first).payments, dec(first.change_amount or 0))])]
        payments = [(Received(form, paid_at, amount, first.currency, dec(first.conversion_rate or 1)), [(sale, amount)])
                    for form, (sale, amount) in zip(forms, allocations, strict=True)]
        return BuiltInvoice(build_payments(receiver, payments, zip_), late_stamp=False)
    payment = frappe.db.get_value("Payment Entry", row.reference_name, [
        "mode_of_payment", "posting_date", "reference_no", "paid_to_account_currency", "target_exchange_rate",
        "paid_from_account_currency", "source_exchange_rate"], as_dict=True)
    paid_at = payment_time(posting_datetime(payment.posting_date, "12:00:00"),  # a Payment Entry has a date only
                           now, [sale.posted for sale, _amount in allocations])
    received = Received(lookup("Mode of Payment", payment.mode_of_payment, "mx_payment_form") or "", paid_at,
                        sum((amount for _s, amount in allocations), Decimal(0)),
                        payment.paid_to_account_currency or "MXN", dec(payment.target_exchange_rate or 1),
                        payment.reference_no or "", payment.mode_of_payment or "",
                        rates=party_rates(payment, {sale.currency for sale, _amount in allocations}))
    return BuiltInvoice(build_payments(receiver, [(received, allocations)], zip_), late_stamp=False)


def allocated_sales(row) -> list[tuple[DeferredSale, Decimal]]:
    """Each allocation of a complement row, as the PPD CFDI it pays stood when the row was written
    (each related CFDI and its XML read once)."""
    stamped: dict[str, DeferredSale] = {}
    found = []
    for allocation in row.payment_allocations:
        if allocation.related_cfdi not in stamped:
            stamped[allocation.related_cfdi] = stamped_sale(allocation)
        total = dec(allocation.cfdi_total)
        found.append((replace(stamped[allocation.related_cfdi], paid=total - dec(allocation.last_balance),
                              installments=int(allocation.installment) - 1), dec(allocation.amount)))
    return found


def stamped_sale(allocation) -> DeferredSale:
    """The PPD CFDI an allocation pays: its tax bases from its stamped XML (its lines as stated only
    when that cannot be read) and its currency."""
    doctype, name = sale_of(allocation)
    sale = load_sale(name, doctype)
    cfdi = frappe.db.get_value("CFDI", allocation.related_cfdi, ["currency", "receiver_customer"], as_dict=True) or {}
    bases = stamped_bases(allocation.related_cfdi)
    lines = () if bases is not None else stated(sale, cfdi.get("receiver_customer"))
    return DeferredSale(name, allocation.uuid, posting_datetime(sale.posting_date, sale.posting_time),
                        dec(allocation.cfdi_total), lines, bases=bases, currency=cfdi.get("currency") or "MXN")

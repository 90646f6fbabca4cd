"""Which CFDI stands for a sale, read from the CFDI rows and the globals' ticket lists, never from the
sale's mirror fields (people can write ERPNext documents; only the app writes CFDI rows). Guards
(ERPNext's Cancel, bulk re-generation, the global's collection, reconciliation) decide from here."""

from __future__ import annotations

import frappe

from mexico_localization.cfdi.states import IN_FLIGHT, VALID_AT_SAT, CfdiState
from mexico_localization.einvoice.gather import SALE_DOCTYPES

# The sale's own latest CFDI (ingreso or, for a return, egreso; never a duplicate), else the global
# that holds it as a ticket; for a return netted into a global, that global (its mirror names it, and
# the global's ticket list must hold the returned sale for it to count). `{sale}`, `{returned}` and
# `{mirror}` are SQL expressions for the sale, its return_against and its mx_cfdi; `{doctype}` the sale's
# doctype, quoted.
OWN = """(select o.name from `tabCFDI` o where o.reference_doctype = {doctype} and o.reference_name = {sale}
    and o.cfdi_type in ('I', 'E') and o.is_global = 0 and ifnull(o.duplicate_of, '') = ''
    order by o.creation desc, o.name desc limit 1)"""
HELD = """(select g.name from `tabCFDI Global Ticket` t join `tabCFDI` g on g.name = t.parent
    where t.pos_invoice = {sale} and ifnull(t.removed_by, '') = '' order by g.creation desc limit 1)"""
NETTED = """(select t.parent from `tabCFDI Global Ticket` t where t.pos_invoice = {returned} and t.parent = {mirror}
    and ifnull(t.removed_by, '') = '' limit 1)"""
CURRENT_CFDI = f"coalesce({OWN}, {HELD})"
CURRENT_OR_NETTED = f"coalesce({OWN}, {HELD}, {NETTED})"
POS_SALE = "'POS Invoice'"  # `{doctype}` for a POS Invoice

# Valid at SAT, on its way there, or possibly there (a person decides).
VALID_OR_COMING = VALID_AT_SAT | IN_FLIGHT | {CfdiState.NEEDS_REVIEW, CfdiState.AWAITING_ORIGINAL}
# A global holds its tickets until it is cancelled: a Failed one is retried with them.
HOLDS_ITS_TICKETS = VALID_OR_COMING | {CfdiState.FAILED}


def current_cfdis(names: list[str], doctype: str = "POS Invoice") -> dict[str, frappe._dict]:
    """Each sale's standing CFDI row (name, status, is_global), for the sales that have one."""
    if not names or doctype not in SALE_DOCTYPES:
        return {}
    rows = frappe.db.sql(f"""
        select s.name as sale, c.name, c.status, c.is_global
        from `tab{doctype}` s join `tabCFDI` c on c.name = {CURRENT_CFDI.format(sale="s.name", doctype="%(doctype)s")}
        where s.name in %(names)s""", {"names": tuple(names), "doctype": doctype}, as_dict=True)  # noqa: S608
    return {row.sale: row for row in rows}


def cfdis_holding(sale: str, doctype: str = "POS Invoice") -> list[frappe._dict]:
    """The CFDIs that make the sale's cancellation in ERPNext wrong: any of its own (or its till
    payment's complement) valid at SAT or on its way there, and any global that still holds it."""
    own = frappe.db.sql("""select name, status from `tabCFDI` where reference_doctype = %s
        and reference_name = %s and is_global = 0 and status in %s""",
                        (doctype, sale, tuple(s.value for s in VALID_OR_COMING)), as_dict=True)
    holders = frappe.db.sql("""select g.name, g.status from `tabCFDI Global Ticket` t join `tabCFDI` g
        on g.name = t.parent where t.pos_invoice = %s and ifnull(t.removed_by, '') = '' and g.status in %s""",
                            (sale, tuple(s.value for s in HOLDS_ITS_TICKETS)), as_dict=True)
    return own + holders


def valid_relatives(cfdi: str) -> list[frappe._dict]:
    """The valid CFDIs that relate to `cfdi`: credit notes naming its UUID, and payment complements
    paying it. SAT refuses to cancel a CFDI while they stand (it would stay valid, and the income be
    counted twice): they are cancelled first, or the cancellation is not asked for."""
    uuid = frappe.db.get_value("CFDI", cfdi, "uuid")
    if not uuid:
        return []
    valid = tuple(s.value for s in VALID_AT_SAT)
    return frappe.db.sql("""
        select c.name, c.cfdi_type, c.status from `tabCFDI` c
        where c.name != %(cfdi)s and c.status in %(valid)s and (
            (c.cfdi_type = 'E' and c.related_uuids like %(uuid)s)
            or (c.cfdi_type = 'P' and exists (select 1 from `tabCFDI Payment Allocation` a
                                              where a.parent = c.name and a.related_cfdi = %(cfdi)s)))
        order by c.creation""", {"cfdi": cfdi, "valid": valid, "uuid": f"%{uuid}%"}, as_dict=True)

"""What runs over many rows at once, at a busy shop's month. Runs inside a bench, on a site with the app:

    cd ~/frappe-bench/sites
    ../env/bin/python /path/to/benchmarks/month_scale.py --site S [--sales 50000] [--recent 10000] [--tickets 5000]

- the CFDI Reconciliation report over a month of --sales stamped sales, run as the Desk runs it
  (frappe.desk.query_report.run; goal: ≤ 5 s);
- the daily status check over --recent CFDIs stamped in its window, every one known to the emulator;
- the global CFDIs for a day of --tickets walk-in tickets, issued by the hourly job and stamped inline:
  our own time is the wall time minus FacturaAPI's (its calls' durations; goal: ≤ 10 s).
Sales are cloned with set-based SQL (MariaDB's sequence engine) from one real sale and its real CFDI.
The emulator runs as its own process. Not a test: numbers go in the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import frappe
from frappe.utils import add_days, get_first_day, getdate, now_datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from bulk_regeneration import connect  # noqa: E402
from stamp_profile import emulator_process  # noqa: E402

SALE_TABLES = {"POS Invoice Item": "items", "Sales Taxes and Charges": "taxes", "Sales Invoice Payment": "payments"}


def clone_sales(template: str, count: int, prefix: str, *, first_day, days: int, cfdi: str | None = None,
                status: str | None = None) -> None:
    """`count` copies of sale `template` named <prefix>000000…, spread over `days` days from `first_day`;
    with `cfdi`, each gets a copy of that CFDI row (its own name and UUID), the sale mirroring it."""
    seq = f"seq_0_to_{count - 1}"
    own = "concat(%(prefix)s, lpad(s.seq, 6, '0'))"
    values = {"prefix": prefix, "template": template, "first": first_day, "days": days,
              "status": status or frappe.db.get_value("POS Invoice", template, "mx_cfdi_status")}
    special = {"name": own, "posting_date": "date_add(%(first)s, interval s.seq %% %(days)s day)",
               "mx_ticket_code": f"concat('B', {own})", "mx_cfdi": f"concat({own}, '-I')" if cfdi else "null",
               "mx_cfdi_status": "%(status)s", "mx_cfdi_uuid": "null"}
    _insert("POS Invoice", special, f"from `tabPOS Invoice` t join {seq} s where t.name = %(template)s", values)
    for table in SALE_TABLES:
        _insert(table, {"name": "concat(t.name, '-', s.seq)", "parent": own},
                f"from `tab{table}` t join {seq} s where t.parent = %(template)s and t.parenttype = 'POS Invoice'",
                values)
    if cfdi:
        values["cfdi"] = cfdi
        _insert("CFDI", {"name": f"concat({own}, '-I')", "reference_name": own, "uuid": "uuid()",
                         "external_id": "concat(t.external_id, '-', s.seq)",
                         "facturapi_id": "concat(t.facturapi_id, '-', s.seq)"},
                f"from `tabCFDI` t join {seq} s where t.name = %(cfdi)s", values)
    frappe.db.commit()


def drop_clones(prefix: str) -> None:
    """The benchmark's rows go again, so a later run measures the same month."""
    for table in SALE_TABLES:
        frappe.db.sql(f"delete from `tab{table}` where parent like %s", f"{prefix}%")  # noqa: S608 (own tables)
    frappe.db.sql("delete from `tabCFDI` where reference_name like %s", f"{prefix}%")
    frappe.db.sql("delete from `tabPOS Invoice` where name like %s", f"{prefix}%")
    frappe.db.commit()


def _insert(doctype: str, special: dict[str, str], source: str, values: dict) -> None:
    columns = frappe.db.get_table_columns(doctype)
    select = ", ".join(special.get(c, f"t.`{c}`") for c in columns)
    frappe.db.sql(f"insert into `tab{doctype}` ({', '.join(f'`{c}`' for c in columns)}) select {select} {source}",
                  values)


def one_stamped_sale() -> tuple[str, str]:
    from mexico_localization.einvoice.pipeline.jobs import stamp
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice

    sale = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 19.90), ("ML-PAN", 1, 12.50)], included=True)
    frappe.db.commit()
    stamp(sale.mx_cfdi)
    return sale.name, sale.mx_cfdi


def reconciliation(sales: int) -> None:
    from frappe.desk.query_report import run

    template, cfdi = one_stamped_sale()
    first = get_first_day(add_days(get_first_day(getdate()), -1))  # last month: a closed month
    started, prefix = time.perf_counter(), f"RECBENCH-{int(time.time())}-"
    clone_sales(template, sales, prefix, first_day=first, days=28, cfdi=cfdi)
    print(f"seeded {sales} stamped sales in {time.perf_counter() - started:.0f} s", flush=True)
    company = frappe.db.get_value("POS Invoice", template, "company")
    try:
        for run_no in range(3):
            frappe.clear_cache()
            cpu, wall = time.process_time(), time.perf_counter()
            result = run("CFDI Reconciliation", filters={"company": company, "from_date": str(first),
                                                        "to_date": str(add_days(first, 27))},
                         ignore_prepared_report=True)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"CFDI Reconciliation, a month of {len(result['result'])} rows, run {run_no + 1}: "
                  f"{wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
    finally:
        drop_clones(prefix)


def status_check(url: str, recent: int) -> None:
    from mexico_localization.einvoice.kinds import registry
    from mexico_localization.einvoice.operations.status_check import check_recent_cfdis
    from mexico_localization.einvoice.settings import make_client
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice

    template = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 19.90)])
    frappe.db.commit()
    from mexico_localization.einvoice.pipeline.jobs import stamp
    stamp(template.mx_cfdi)
    row = frappe.get_doc("CFDI", template.mx_cfdi)
    body = registry.build(row).body  # the app's own body for a real sale
    started = time.perf_counter()
    created = []
    with make_client() as client:
        for n in range(recent):
            created.append(client.create_invoice(body, idempotency_key=f"statusbench-{time.time_ns()}-{n}",
                                                 external_id=f"statusbench-{n}").invoice)
    rows = [(f"STATUSBENCH-{time.time_ns()}-{n}", i["id"], i["uuid"]) for n, i in enumerate(created)]
    fields = ["name", "reference_doctype", "reference_name", "cfdi_type", "company", "status", "livemode",
              "facturapi_id", "uuid", "stamped_at", "total", "currency", "external_id", "generation",
              "creation", "modified", "owner", "modified_by", "docstatus"]
    now = now_datetime()
    frappe.db.bulk_insert("CFDI", fields, [
        (name, "POS Invoice", row.reference_name, "I", row.company, "Stamped", 0, fid, uuid,
         add_days(now, -(n % 30)), row.total, row.currency, f"{name}-x", 1, now, now, "Administrator",
         "Administrator", 0) for n, (name, fid, uuid) in enumerate(rows)])
    frappe.db.commit()
    print(f"seeded {recent} recent CFDIs known to the emulator in {time.perf_counter() - started:.0f} s", flush=True)
    watched = frappe.db.count("CFDI", {"status": "Stamped", "facturapi_id": ["is", "set"],
                                       "stamped_at": [">=", add_days(now, -35)], "livemode": 0})
    cpu, wall = time.process_time(), time.perf_counter()
    flagged = check_recent_cfdis()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    calls = frappe.db.count("Integration Request", {"creation": [">=", now], "url": ["like", "%status%"]})
    print(f"daily status check over {watched} CFDIs in its window: {wall:.2f} s (CPU {cpu:.2f} s), "
          f"{len(flagged)} flagged, {calls} SAT status refreshes", flush=True)


def globals_of_a_day(tickets: int) -> None:
    from mexico_localization.einvoice.operations.walk_in import issue_due_globals
    from mexico_localization.einvoice.pipeline.jobs import stamp
    from mexico_localization.tests.pos_fixtures import WALK_IN, pos_invoice

    for name in issue_due_globals():  # tickets other runs left waiting go first, untimed
        stamp(name)
    template = pos_invoice(WALK_IN, [("ML-CAFE", 1, 19.90), ("ML-PAN", 2, 12.50)], included=True)
    frappe.db.commit()
    assert template.mx_cfdi_status == "Awaiting Global", template.mx_cfdi_status
    # Yesterday's tickets (a closed day); the template, today's, waits for today's global.
    clone_sales(template.name, tickets, f"GLOBENCH-{int(time.time())}-", first_day=add_days(getdate(), -1),
                days=1, status="Awaiting Global")
    cpu, wall = time.process_time(), time.perf_counter()
    made = issue_due_globals()
    for name in made:
        stamp(name)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pac = sum(a.duration_ms or 0 for a in frappe.get_all("CFDI Attempt", fields=["duration_ms"],
                                                        filters={"parent": ["in", made]})) / 1000
    states = {frappe.db.get_value("CFDI", n, "status") for n in made}
    covered = frappe.db.count("CFDI Global Ticket", {"parent": ["in", made]})
    print(f"globals of a day of {covered} walk-in tickets: {len(made)} globals {states}, {wall:.2f} s "
          f"of which FacturaAPI {pac:.2f} s: our own {wall - pac:.2f} s (CPU {cpu:.2f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", required=True)
    parser.add_argument("--sales", type=int, default=50000)
    parser.add_argument("--recent", type=int, default=10000)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8794)
    args = parser.parse_args()
    with emulator_process(args.port) as url:
        connect(args.site)
        from mexico_localization.tests.pos_fixtures import shop
        from mexico_localization.tests.utils import configure
        configure(url, company=shop().company, enable_e_invoice=1, email_cfdi=0, read_timeout=60,
                  global_periodicity="Daily")
        frappe.db.commit()
        if args.tickets:
            globals_of_a_day(args.tickets)
        if args.sales:
            reconciliation(args.sales)
        if args.recent:
            status_check(url, args.recent)


if __name__ == "__main__":
    main()

"""Bulk CFDI re-generation at scale. Runs inside a bench, on a site with the app:

    cd ~/frappe-bench/sites
    ../env/bin/python /path/to/benchmarks/bulk_regeneration.py --site S [--sizes 1000 10000] [--workers 4]

The invoices are copies of one submitted, Not Applicable POS Invoice, cloned with SQL (submitting
10,000 sales through ERPNext would take most of an hour and measures ERPNext, not this). The
emulator answers every create after --latency-ms. Reported per size:
- throughput, and as a fraction of the C/L ceiling (C workers on `long`, latency L);
- the peak memory of a worker process during the run (each slice reports its own);
- with one worker serving `short` before `long`: how long a live sale submitted mid-run waits for
  its stamp job to start (claim time minus commit time).
Not a test: numbers go in the README.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import frappe

PREFIX = "BULKBENCH-"


def connect(site: str) -> None:
    frappe.init(site=site, sites_path=os.getcwd())
    frappe.connect()
    frappe.set_user("Administrator")


def clone_invoices(count: int) -> list[str]:
    """`count` copies of one Not Applicable POS Invoice (header, items, taxes, payments)."""
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice, shop
    from mexico_localization.tests.utils import configure

    shop()
    configure(frappe.db.get_single_value("E Invoice Setting", "server_url"), company=shop().company,
              enable_e_invoice=0)
    template = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)])
    frappe.db.commit()
    tables = {"POS Invoice": None, "POS Invoice Item": "items", "Sales Taxes and Charges": "taxes",
              "Sales Invoice Payment": "payments"}
    columns = {t: [c for c in frappe.db.get_table_columns(t)] for t in tables}
    names = []
    batch = f"{PREFIX}{time.time_ns()}-"
    for n in range(count):
        name = f"{batch}{n:05d}"
        for table, parentfield in tables.items():
            cols = columns[table]
            select = ", ".join(
                "%(name)s" if c == "name" and parentfield is None
                else "concat(name, %(suffix)s)" if c == "name"
                else "%(name)s" if c == "parent" and parentfield
                else f"`{c}`" for c in cols)
            where = "name = %(template)s" if parentfield is None else "parent = %(template)s"
            frappe.db.sql(f"insert into `tab{table}` ({', '.join(f'`{c}`' for c in cols)}) "  # noqa: S608
                          f"select {select} from `tab{table}` where {where}",
                          {"name": name, "suffix": f"-{n}", "template": template.name})
        names.append(name)
        if n % 500 == 499:
            frappe.db.commit()
    frappe.db.commit()
    return names


def batch_filter(names: list[str]) -> list:
    """The cloned batch as a list filter: a selection streamed in name order, like Re-generate all Failed."""
    return [["POS Invoice", "name", "like", names[0].rsplit("-", 1)[0] + "-%"]]


def start_workers(site: str, count: int, queues: str) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", site,
                              "worker", "--queue", queues], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(count)]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes and of the job processes they forked and reaped (RQ forks one per job)."""
    import psutil

    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system + times.children_user + times.children_system
    return total


def database_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in ("mariadbd", "mysqld")]


def stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait()


def wait_run(run: str, timeout: float) -> frappe._dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frappe.db.rollback()
        doc = frappe.db.get_value("CFDI Bulk Run", run, ["status", "processed", "stamped", "failed", "skipped",
                                                         "total", "peak_memory_mb", "started_at", "finished_at"],
                                  as_dict=True)
        if doc.status in ("Completed", "Stopped"):
            return doc
        time.sleep(1)
    raise RuntimeError(f"{run} did not finish within {timeout} s")


def measure_run(site: str, size: int, workers: int, latency_ms: float) -> dict:
    from frappe.utils.background_jobs import get_queue

    from mexico_localization.einvoice.operations import bulk
    from mexico_localization.tests.pos_fixtures import shop
    from mexico_localization.tests.utils import configure

    names = clone_invoices(size)
    configure(frappe.db.get_single_value("E Invoice Setting", "server_url"), company=shop().company,
              enable_e_invoice=1, email_cfdi=0, read_timeout=30)
    frappe.db.commit()
    get_queue("long").empty()
    procs = start_workers(site, workers, "long")
    database = database_pids()
    try:
        time.sleep(3)  # the workers have started: their start-up is not the run's
        cpu = cpu_seconds([p.pid for p in procs])
        db_cpu = cpu_seconds(database)
        started = time.monotonic()
        # As "Re-generate all Failed" does: the selection is a filter, streamed in name order.
        run = bulk.start(batch_filter(names), None, True, concurrency=workers)["run"]
        frappe.db.commit()
        doc = wait_run(run, timeout=size * 2 + 300)
        elapsed = time.monotonic() - started
        time.sleep(2)  # the last slice's process is reaped, so its CPU is counted
        cpu = cpu_seconds([p.pid for p in procs]) - cpu
        db_cpu = cpu_seconds(database) - db_cpu
    finally:
        stop(procs)
    rate = doc.stamped / elapsed
    ceiling = workers / (latency_ms / 1000)
    return {"size": size, "status": doc.status, "stamped": doc.stamped, "failed": doc.failed, "seconds": elapsed,
            "per_second": rate, "of_ceiling": rate / ceiling, "peak_mb": doc.peak_memory_mb,
            "cpu_per_stamp": cpu / max(doc.stamped, 1), "db_cpu_per_stamp": db_cpu / max(doc.stamped, 1)}


def live_wait(site: str, size: int, samples: int) -> list[float]:
    """One worker on short,long; live sales submitted while a bulk run is going."""
    from mexico_localization.einvoice.operations import bulk
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice

    names = clone_invoices(size)
    from mexico_localization.tests.pos_fixtures import shop
    from mexico_localization.tests.utils import configure
    configure(frappe.db.get_single_value("E Invoice Setting", "server_url"), company=shop().company,
              enable_e_invoice=1, email_cfdi=0, read_timeout=30)
    frappe.db.commit()
    procs = start_workers(site, 1, "short,long")
    waits = []
    try:
        run = bulk.start(batch_filter(names), None, True, concurrency=1)["run"]
        frappe.db.commit()
        time.sleep(5)
        for _ in range(samples):
            invoice = pos_invoice(NOMINATIVE, [("ML-PAN", 1, 50)], submit=False)
            frappe.db.commit()
            invoice.submit()
            frappe.db.commit()
            committed = frappe.utils.now_datetime()
            while True:
                frappe.db.rollback()
                claimed = frappe.db.get_value("CFDI", invoice.mx_cfdi, "claimed_at")
                if claimed:
                    break
                time.sleep(0.05)
            waits.append((claimed - committed).total_seconds())
            time.sleep(2)
        frappe.db.set_value("CFDI Bulk Run", run, "status", "Stopped")
        frappe.db.commit()
    finally:
        stop(procs)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--live-samples", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from mexico_localization.testing.emulator import Emulator, EmulatorConfig

    with Emulator(config=EmulatorConfig(stamp_latency_ms=args.latency_ms)) as emulator:
        connect(args.site)
        from mexico_localization.tests.pos_fixtures import shop
        from mexico_localization.tests.utils import configure
        configure(emulator.url, company=shop().company, enable_e_invoice=1, email_cfdi=0)
        frappe.db.commit()
        for size in args.sizes:
            r = measure_run(args.site, size, args.workers, args.latency_ms)
            print(f"{r['size']} invoices, {args.workers} workers, latency {args.latency_ms:.0f} ms: {r['status']}, "
                  f"{r['stamped']} stamped, {r['failed']} failed in {r['seconds']:.0f} s = {r['per_second']:.1f}/s, "
                  f"{r['of_ceiling']:.0%} of the C/L ceiling; peak worker memory {r['peak_mb']:.0f} MB; "
                  f"worker CPU {r['cpu_per_stamp'] * 1000:.0f} ms per stamp "
                  f"(MariaDB {r['db_cpu_per_stamp'] * 1000:.0f} ms)",
                  flush=True)
        waits = live_wait(args.site, 2000, args.live_samples)
        print(f"live sale mid-run, one worker on short,long: wait to start p50 {statistics.median(waits):.2f} s, "
              f"max {max(waits):.2f} s over {len(waits)} sales", flush=True)


if __name__ == "__main__":
    main()

"""What the app costs the cashier, and how long a sale waits for its CFDI. Runs inside a bench:

    cd ~/frappe-bench/sites
    ../env/bin/python /path/to/benchmarks/pos_submit.py --app-site A --base-site B [--invoices 200] [--runs 5]

A and B are otherwise identical sites (same template); only A has mexico_localization installed,
with E Invoice enabled against an emulator this script starts. Reported:
- POS Invoice submit time (insert excluded), p50 and p95 per run (after a warm-up), median over
  alternating runs, and the ratio A/B, both sites first brought to the same number of POS Invoices;
- the app's own hook time per sale (the till check at save + before_submit), measured directly;
- end to end, submit → Stamped, with a real `bench worker` and the emulator at a fixed latency.
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


def connect(site: str) -> None:
    if getattr(frappe.local, "site", None):
        frappe.destroy()
    frappe.init(site=site, sites_path=os.getcwd())
    frappe.connect()
    frappe.set_user("Administrator")


def prepare(site: str, emulator_url: str | None) -> None:
    connect(site)
    from mexico_localization.tests.pos_fixtures import shop
    from mexico_localization.tests.utils import configure

    fixtures = shop()
    if emulator_url:
        configure(emulator_url, company=fixtures.company, enable_e_invoice=1, read_timeout=30)
    frappe.db.commit()


WARM_UP = 10  # untimed submits after connecting: caches fill, so both sites are timed warm


def submit_times(site: str, count: int) -> list[float]:
    connect(site)
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice

    times = []
    for n in range(WARM_UP + count):
        invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80), ("ML-PAN", 3, 12.5)], submit=False)
        frappe.db.commit()
        started = time.perf_counter()
        invoice.submit()
        frappe.db.commit()
        if n >= WARM_UP:
            times.append((time.perf_counter() - started) * 1000)
    return times


def balance(sites: tuple[str, str]) -> None:
    """ERPNext's submit reads other POS Invoices (reserved stock, naming): both sites start the timed
    runs with as many, whatever earlier benchmark runs left on one of them."""
    counts = {}
    for site in sites:
        connect(site)
        counts[site] = frappe.db.count("POS Invoice")
    behind = min(counts, key=counts.get)
    missing = max(counts.values()) - counts[behind]
    if missing:
        connect(behind)
        from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice
        for _ in range(missing):
            pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80), ("ML-PAN", 3, 12.5)])
            frappe.db.commit()
    print(f"POS Invoices before timing: {max(counts.values())} on each site ({missing} added to {behind})", flush=True)


def hook_times(site: str, count: int) -> list[float]:
    """The app's hooks timed in place (the same functions Frappe calls through doc_events)."""
    connect(site)
    from mexico_localization.einvoice.overrides import pos_invoice as hooks
    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice

    spent = []
    originals = {(hooks, "validate"), (hooks, "before_submit")}
    for module, name in originals:
        original = getattr(module, name)

        def timed(*args, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[-1] += (time.perf_counter() - started) * 1000

        setattr(module, name, timed)
    for _ in range(count):
        spent.append(0.0)
        pos_invoice(NOMINATIVE, [("ML-CAFE", 2, 80), ("ML-PAN", 3, 12.5)])  # validate, validate, submit
        frappe.db.commit()
    return spent


def end_to_end(site: str, count: int) -> list[float]:
    connect(site)
    from frappe.utils.background_jobs import get_queue

    from mexico_localization.tests.pos_fixtures import NOMINATIVE, pos_invoice

    get_queue("short").empty()  # the submit runs above queued a job per sale; measure a quiet queue
    worker = subprocess.Popen([sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", site, "worker",
                               "--queue", "short"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latencies, to_claim = [], []
    try:
        time.sleep(3)
        for _ in range(count):
            invoice = pos_invoice(NOMINATIVE, [("ML-CAFE", 1, 80)], submit=False)
            frappe.db.commit()
            invoice.submit()
            frappe.db.commit()
            committed, started = frappe.utils.now_datetime(), time.perf_counter()
            while True:
                frappe.db.rollback()
                if frappe.db.get_value("POS Invoice", invoice.name, "mx_cfdi_status") == "Stamped":
                    break
                if time.perf_counter() - started > 60:
                    raise RuntimeError(f"{invoice.name} was not stamped within 60 s")
                time.sleep(0.005)
            latencies.append((time.perf_counter() - started) * 1000)
            # The job's first SQL is its claim: commit → claim is the queue, the fork and the job's start-up.
            claimed = frappe.db.get_value("CFDI", invoice.mx_cfdi, "claimed_at")
            to_claim.append((claimed - committed).total_seconds() * 1000)
    finally:
        worker.terminate()
        worker.wait()
    return latencies, to_claim


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app-site", required=True)
    parser.add_argument("--base-site", required=True)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stamp-latency-ms", type=float, default=300)
    parser.add_argument("--e2e", type=int, default=30)
    parser.add_argument("--skip-submit", action="store_true", help="only the hook time and end to end")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from mexico_localization.testing.emulator import Emulator, EmulatorConfig

    with Emulator(config=EmulatorConfig(stamp_latency_ms=args.stamp_latency_ms)) as emulator:
        prepare(args.app_site, emulator.url)
        prepare(args.base_site, None)
        results: dict[str, list[tuple[float, float]]] = {args.app_site: [], args.base_site: []}
        if not args.skip_submit:
            balance((args.app_site, args.base_site))
        for run in range(0 if args.skip_submit else args.runs):
            for site in ((args.app_site, args.base_site) if run % 2 == 0 else (args.base_site, args.app_site)):
                times = submit_times(site, args.invoices)
                results[site].append((pct(times, 50), pct(times, 95)))
                print(f"run {run + 1} {site}: p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms", flush=True)
        if not args.skip_submit:
            medians = {site: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
                       for site, runs in results.items()}
            app, base = medians[args.app_site], medians[args.base_site]
            print(f"submit p50: app {app[0]:.1f} ms, base {base[0]:.1f} ms, ratio {app[0] / base[0]:.3f}")
            print(f"submit p95: app {app[1]:.1f} ms, base {base[1]:.1f} ms, ratio {app[1] / base[1]:.3f}")
        hooks = hook_times(args.app_site, 100)
        print(f"app hooks per submit: p50 {pct(hooks, 50):.2f} ms, p95 {pct(hooks, 95):.2f} ms")
        e2e, to_claim = end_to_end(args.app_site, args.e2e)
        print(f"submit → Stamped (emulator {args.stamp_latency_ms:.0f} ms): p50 {pct(e2e, 50):.0f} ms, "
              f"p95 {pct(e2e, 95):.0f} ms over {len(e2e)} sales; of which commit → claim (queue, fork, the "
              f"job's start-up) p50 {pct(to_claim, 50):.0f} ms, p95 {pct(to_claim, 95):.0f} ms")


if __name__ == "__main__":
    main()

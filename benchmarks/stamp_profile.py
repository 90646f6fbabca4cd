"""Where one stamp's time goes. Runs inside a bench, on a site with the app:

    cd ~/frappe-bench/sites
    ../env/bin/python /path/to/benchmarks/stamp_profile.py --site S [--stamps 200] [--profile out.prof]

The invoices are cloned as for the bulk benchmark and stamped inline in this process by the bulk
slice's own code (`bulk.run_slice`), so what is measured is the app's and Frappe's work per stamp
without the fork of a job (measured by pos_submit.py's submit → claimed). The emulator runs as its own
process, answering at once: its CPU is not ours. Reported: CPU (process time) per stamp, split by the
pipeline's steps, and with --profile a cProfile of the whole run (`python -m pstats` reads it).
Not a test: numbers go in the README.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager

import frappe

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from bulk_regeneration import batch_filter, clone_invoices, connect  # noqa: E402

SPENT: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # step → [cpu s, wall s]


@contextmanager
def emulator_process(port: int):
    proc = subprocess.Popen([sys.executable, "-m", "mexico_localization.testing.emulator", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=os.path.join(HERE, ".."))
    try:
        import requests
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/_emulator/state", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        proc.terminate()
        proc.wait()


def timed(step: str, function):
    """`function`, its CPU and wall time added to `step` (outermost call only, so steps never overlap)."""
    def wrapper(*args, **kwargs):
        if getattr(frappe.local, "_bench_step", None):
            return function(*args, **kwargs)
        frappe.local._bench_step = step
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[step][0] += time.process_time() - cpu
            SPENT[step][1] += time.perf_counter() - wall
            frappe.local._bench_step = None
    return wrapper


def instrument() -> None:
    from mexico_localization.einvoice.kinds import registry
    from mexico_localization.einvoice.operations import bulk
    from mexico_localization.einvoice.pipeline import jobs, stamping

    bulk._enqueue_slice = lambda run, lane: None  # this process runs the slices itself
    for module, name, step in (
            (bulk, "_claim", "bulk: take from the cursor"), (bulk, "_prepare", "bulk: open the CFDI row"),
            (bulk, "_count", "bulk: count"), (stamping, "claim", "stamp: claim"),
            (registry, "build", "stamp: build the body"), (stamping, "adopt", "stamp: adopt (look-up)"),
            (stamping, "create", "stamp: create at FacturaAPI"), (stamping, "download", "stamp: download files"),
            (stamping, "record_cfdi_call", "stamp: record"), (jobs, "run_due", "stamp: follow-ups")):
        setattr(module, name, timed(step, getattr(module, name)))


def run(url: str, stamps: int, profile: str | None) -> None:
    from mexico_localization.einvoice.operations import bulk
    from mexico_localization.tests.pos_fixtures import shop
    from mexico_localization.tests.utils import configure

    names = clone_invoices(stamps)  # Not Applicable sales, made with E Invoice off
    configure(url, company=shop().company, enable_e_invoice=1, email_cfdi=0, read_timeout=30)
    frappe.db.commit()
    instrument()
    started = bulk.start(batch_filter(names), None, True, concurrency=1)["run"]
    frappe.db.commit()
    frappe.local.job = frappe._dict(site=frappe.local.site, method=bulk.SLICE_JOB)  # as in a worker's job
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    while frappe.db.get_value("CFDI Bulk Run", started, "status") == "Running":
        bulk.run_slice(started, 0)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = frappe.db.get_value("CFDI Bulk Run", started, ["status", "stamped", "failed"], as_dict=True)
    print(f"{done.stamped} stamped, {done.failed} failed ({done.status}) in {wall:.1f} s: "
          f"CPU {cpu / max(done.stamped, 1) * 1000:.1f} ms per stamp, wall {wall / max(done.stamped, 1) * 1000:.1f} ms")
    accounted = sum(c for c, _w in SPENT.values())
    for step, (c, w) in sorted(SPENT.items(), key=lambda kv: -kv[1][0]):
        print(f"  {step:32} CPU {c / stamps * 1000:6.1f} ms  wall {w / stamps * 1000:6.1f} ms  ({c / cpu:4.0%} of CPU)")
    print(f"  {'(the rest: the slice loop)':32} CPU {(cpu - accounted) / stamps * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", required=True)
    parser.add_argument("--stamps", type=int, default=200)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--profile", help="write a cProfile of the run here")
    args = parser.parse_args()
    with emulator_process(args.port) as url:
        connect(args.site)
        run(url, args.stamps, args.profile)


if __name__ == "__main__":
    main()

"""Client + emulator throughput and latency over loopback: the floor every stamping benchmark
stands on (what our own HTTP path costs, with FacturaAPI's time set to zero or to a chosen latency).

    python benchmarks/client_vs_emulator.py [--requests 2000] [--threads 1 4 16] [--stamp-latency-ms 0] [--memory]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mexico_localization.facturapi import Client, Secret
from mexico_localization.testing.emulator import Emulator, EmulatorConfig

KEY = Secret("sk_test_benchmark_key_000000000")


def body(n: int) -> dict:
    return {"customer": {"legal_name": "PUBLICO EN GENERAL", "tax_id": "XAXX010101000", "tax_system": "616",
                         "address": {"zip": "06600"}}, "use": "S01", "payment_form": "01",
            "items": [{"quantity": 1, "product": {"description": f"Ticket {n}", "product_key": "01010101",
                                                  "unit_key": "ACT", "price": 100.0, "tax_included": False,
                                                  "taxes": [{"type": "IVA", "rate": 0.16}]}}]}


def run(emulator: Emulator, total: int, threads: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        with Client(emulator.url, KEY) as client:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.perf_counter()
                client.create_invoice(body(n), idempotency_key=f"bench:{threads}:{n}", external_id=f"bench:{n}")
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--stamp-latency-ms", type=float, default=0.0)
    parser.add_argument("--memory", action="store_true", help="trace peak memory (slows everything down)")
    args = parser.parse_args()
    if args.memory:
        tracemalloc.start()
    with Emulator(config=EmulatorConfig(stamp_latency_ms=args.stamp_latency_ms)) as emulator:
        print(f"{'threads':>7} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
        for threads in args.threads:
            emulator.reset()
            wall, lat = run(emulator, args.requests, threads)
            q = statistics.quantiles(lat, n=100)
            print(f"{threads:>7} {len(lat) / wall:>8.0f} {q[49]:>7.2f} {q[94]:>7.2f} {q[98]:>7.2f}")
    if args.memory:
        _, peak = tracemalloc.get_traced_memory()
        print(f"peak traced memory (client + emulator, one process): {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

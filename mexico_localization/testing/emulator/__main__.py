"""python -m mexico_localization.testing.emulator --port 8787: an emulator for demos and benches."""

from __future__ import annotations

import argparse

from mexico_localization.testing.emulator.server import EMULATOR_NAME, Emulator, EmulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=EMULATOR_NAME)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--key", action="append", dest="keys",
                        help="accept only this secret key (repeatable); default: any sk_test_/sk_live_ key")
    parser.add_argument("--org-tax-id", default=EmulatorConfig.org_tax_id)
    parser.add_argument("--org-legal-name", default=EmulatorConfig.org_legal_name)
    parser.add_argument("--not-production-ready", action="store_true",
                        help="the organization answers is_production_ready=false with a pending step")
    parser.add_argument("--idempotency-replay", choices=("original", "error"), default="original")
    parser.add_argument("--cancellation", choices=("accepted", "pending", "verifying"), default="accepted")
    parser.add_argument("--stamp-latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = EmulatorConfig(
        keys=frozenset(args.keys) if args.keys else None, org_tax_id=args.org_tax_id,
        org_legal_name=args.org_legal_name, production_ready=not args.not_production_ready,
        idempotency_replay=args.idempotency_replay, cancellation=args.cancellation,
        stamp_latency_ms=args.stamp_latency_ms,
    )
    emulator = Emulator(args.host, args.port, config)
    print(f"{EMULATOR_NAME}\nServer URL: {emulator.url}   (control: /_emulator/state, /faults, /config, /reset)",
          flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""Tamper evidence for the fiscal record: a daily seal that chains a digest of the day's CFDI
records and attempts to the previous day's seal, and the check that names the first day whose
records no longer match what was sealed.

Each record is reduced to a canonical line (sorted keys, no whitespace, text as is), the day's lines
are sorted and hashed, and the seal is sha256(previous seal + day + day digest + record count).
Changing, adding or removing any sealed record changes its day's digest; sealing a day again breaks
the next day's link. The newest seal has no successor: its chain value must also be kept outside
the database for a rewrite of the last day to be caught. Pure: the Frappe layer decides which
fields are sealed and where seals live.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

GENESIS = "0" * 64


def canonical(record: Mapping[str, Any]) -> str:
    """One record as a stable line: the same values always give the same text."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def day_digest(records: Iterable[Mapping[str, Any]]) -> tuple[str, int]:
    """The digest of one day's records, whatever order they are read in, and how many there were."""
    lines = sorted(canonical(r) for r in records)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(hashlib.sha256(line.encode()).digest())
    return digest.hexdigest(), len(lines)


@dataclass(frozen=True)
class Seal:
    day: date
    digest: str        # of the day's records
    count: int
    previous: str      # the previous seal's chain value (GENESIS for the first)
    chain: str         # sha256(previous + day + digest + count)


def seal(day: date, records: Iterable[Mapping[str, Any]], previous: str = GENESIS) -> Seal:
    digest, count = day_digest(records)
    return Seal(day, digest, count, previous, link(previous, day, digest, count))


def link(previous: str, day: date, digest: str, count: int) -> str:
    return hashlib.sha256(f"{previous}|{day.isoformat()}|{digest}|{count}".encode()).hexdigest()


@dataclass(frozen=True)
class Finding:
    day: date
    reason: str        # "records changed" | "records added or removed" | "seal altered" | "seal rewritten"


def verify(seals: Sequence[Seal], records_of: Mapping[date, Sequence[Mapping[str, Any]]]) -> Finding | None:
    """The first sealed day whose seal or records no longer hold, or None when the trail is intact.
    `records_of` gives each sealed day's records as they are now."""
    previous, previous_day = GENESIS, None
    for s in sorted(seals, key=lambda s: s.day):
        if s.chain != link(s.previous, s.day, s.digest, s.count):
            return Finding(s.day, "seal altered")
        if s.previous != previous:
            # This seal is intact but no longer follows the one before: that one was sealed again.
            return Finding(previous_day or s.day, "seal rewritten")
        digest, count = day_digest(records_of.get(s.day, ()))
        if count != s.count:
            return Finding(s.day, "records added or removed")
        if digest != s.digest:
            return Finding(s.day, "records changed")
        previous, previous_day = s.chain, s.day
    return None

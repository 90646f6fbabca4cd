"""FacturaAPI answers in UTC ISO-8601; Frappe stores naive datetimes in the site's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from frappe.utils import get_datetime, get_system_timezone


def to_site_time(value: str | None) -> datetime | None:
    """An ISO timestamp from FacturaAPI as a naive datetime in the site's time zone."""
    if not value:
        return None
    moment = get_datetime(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(get_system_timezone())).replace(tzinfo=None)

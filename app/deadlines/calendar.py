"""Working-day calendar of a tenant: national holidays, cuti bersama, local holidays, local time zone.

Pure Python (no database, no Flask app context), so it can be used from jobs, the CLI and tests alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# "government" is how the holidays package files cuti bersama (collective leave) for Indonesia;
# "public" alone would count those days as working days.
HOLIDAY_CATEGORIES = ("public", "government")
# Pinned so holiday names do not depend on the server's locale.
HOLIDAY_LANGUAGE = "id"
END_OF_DAY = time(23, 59, 59)

LocalHolidays = Iterable[Mapping[str, Any]] | Iterable[tuple[date | str, str]]


@lru_cache(maxsize=64)
def national_holidays(year: int) -> Mapping[date, str]:
    """National holidays and cuti bersama of one year, as a read-only date → name mapping."""
    found = holidays.country_holidays("ID", years=year, categories=HOLIDAY_CATEGORIES, language=HOLIDAY_LANGUAGE)
    # Read-only because the cached object is shared by every caller.
    return MappingProxyType(dict(found.items()))


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        # A datetime is a date subclass; accepting it would silently drop the time and zone.
        raise ValueError(f"local holiday must be a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"local holiday date is not YYYY-MM-DD: {value!r}") from exc


def _parse_local_holidays(items: LocalHolidays | None) -> dict[date, str]:
    parsed: dict[date, str] = {}
    for item in items or ():
        if isinstance(item, Mapping):
            if "date" not in item:
                raise ValueError(f"local holiday without a date: {item!r}")
            day, name = _as_date(item["date"]), str(item.get("name") or "")
        else:
            day_value, name = item
            day, name = _as_date(day_value), str(name or "")
        previous = parsed.get(day, "")
        # Two entries on one day (e.g. regency and province) both show up in holiday_name().
        parsed[day] = f"{previous}; {name}" if previous and name and name != previous else (previous or name)
    return parsed


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime; pass a timezone-aware (UTC) datetime")


class WorkingCalendar:
    """Working days (Mon–Fri minus national holidays, cuti bersama and local holidays) in one time zone."""

    def __init__(self, tz_name: str, local_holidays: LocalHolidays | None = None) -> None:
        try:
            self.tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {tz_name!r}") from exc
        self.tz_name = tz_name
        self.local_holidays: Mapping[date, str] = MappingProxyType(_parse_local_holidays(local_holidays))

    def __repr__(self) -> str:
        return f"<WorkingCalendar {self.tz_name} local_holidays={len(self.local_holidays)}>"

    # -- days ---------------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True on Monday–Friday unless a national holiday, cuti bersama or local holiday."""
        return d.weekday() < 5 and d not in national_holidays(d.year) and d not in self.local_holidays

    def holiday_name(self, d: date) -> str | None:
        """Name of the holiday on `d` (national and local joined by "; "), or None."""
        names = [n for n in (national_holidays(d.year).get(d), self.local_holidays.get(d)) if n]
        if not names and d in self.local_holidays:
            return "Libur daerah"  # a local holiday entered without a name is still a holiday
        return "; ".join(names) or None

    def add_working_days(self, start_day: date, n: int) -> date:
        """The date of working day `n`, counting `start_day` as day 0 (n=0 returns `start_day`)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = start_day
        remaining = n
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Number of working days after `a` up to and including `b`; 0 when b <= a."""
        if b <= a:
            return 0
        first = a + timedelta(days=1)
        # Count weekdays arithmetically, then take off holidays on weekdays: avoids walking
        # day by day over long spans (e.g. elapsed time of an old complaint).
        total_days = (b - first).days + 1
        full_weeks, rest = divmod(total_days, 7)
        weekdays = full_weeks * 5 + sum(1 for i in range(rest) if (first.weekday() + i) % 7 < 5)
        off = {d for year in range(first.year, b.year + 1) for d in national_holidays(year) if first <= d <= b}
        off.update(d for d in self.local_holidays if first <= d <= b)
        return weekdays - sum(1 for d in off if d.weekday() < 5)

    # -- instants -----------------------------------------------------------------------------------

    def local_date(self, instant: datetime) -> date:
        """The calendar date of an aware instant in the tenant's time zone."""
        _require_aware(instant, "instant")
        return instant.astimezone(self.tz).date()

    def end_of_day(self, d: date) -> datetime:
        """23:59:59 local time on `d`, as an aware UTC datetime."""
        return datetime.combine(d, END_OF_DAY, tzinfo=self.tz).astimezone(UTC)

    def deadline(self, received_at: datetime, n: int) -> datetime:
        """End (23:59:59 local, returned in UTC) of working day `n`; the local day of receipt is day 0."""
        return self.end_of_day(self.add_working_days(self.local_date(received_at), n))

    def working_days_elapsed(self, since: datetime, now: datetime) -> int:
        """Working days between the local dates of `since` and `now` (see working_days_between)."""
        return self.working_days_between(self.local_date(since), self.local_date(now))


def _holiday_key(local_holidays: Any) -> tuple[tuple[str, str], ...]:
    """Hashable, order-independent form of settings["local_holidays"] for the cache key."""
    return tuple(sorted((d.isoformat(), name) for d, name in _parse_local_holidays(local_holidays).items()))


class TenantLike(Protocol):
    """What calendar_for_tenant needs from a tenant (app.tenancy.models.Tenant fits)."""

    id: Any
    timezone: str
    settings: dict


@lru_cache(maxsize=256)
def _cached_calendar(tenant_id: Any, tz_name: str, holiday_key: tuple[tuple[str, str], ...]) -> WorkingCalendar:
    return WorkingCalendar(tz_name, holiday_key)


def calendar_for_tenant(tenant: TenantLike) -> WorkingCalendar:
    """The working calendar of a tenant (uses `tenant.timezone` and `tenant.settings["local_holidays"]`).

    Cached per (tenant id, time zone, local holidays), so an edit of the settings yields a fresh calendar.
    """
    settings = tenant.settings or {}
    key = _holiday_key(settings.get("local_holidays") or [])
    return _cached_calendar(getattr(tenant, "id", None), tenant.timezone, key)

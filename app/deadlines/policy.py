"""Deadlines are counted in working days (hari kerja): Monday to Friday, excluding national holidays, collective
leave (cuti bersama) and the region's own holidays. The day a complaint is received, in the region's local
time, is day 0; day 1 is the next working day; a deadline of N working days ends at 23:59:59 local time on
working day N. Example: a complaint received on Tuesday 17 March 2026 at 15.00 WITA with 3 working days for
verification is due on Friday 27 March 2026 at 23.59 WITA, because 18 to 24 March are holidays, cuti bersama
or a weekend. While a complaint is on hold waiting for the citizen (tunda), the clock stops, and the deadline
is extended by the working days spent on hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.deadlines.calendar import WorkingCalendar

VERIFICATION = "verification"
COORDINATION = "coordination"
FOLLOWUP = "followup"
AUTO_CLOSE = "auto_close"
#: Stages that carry a deadline, in the order a complaint meets them.
# The stage names: defined here only, everybody else imports them (tests/unit/test_single_definitions.py).
STAGES: tuple[str, ...] = (VERIFICATION, COORDINATION, FOLLOWUP, AUTO_CLOSE)
#: Stages whose working days are one setting per region (``[settings.deadlines]``); the follow-up's
#: depend on the complaint class (``[settings.classes.<class>].followup_days``).
FIXED_STAGES: tuple[str, ...] = (VERIFICATION, COORDINATION, AUTO_CLOSE)
#: Stages of waiting for the answer (to be disposed, then the agency's follow-up): late there is a late answer.
ANSWER_STAGES: tuple[str, ...] = (COORDINATION, FOLLOWUP)

#: National defaults (DOMAIN.md, PermenPANRB 62/2018), used when a tenant's settings lack a key.
DEFAULT_STAGE_DAYS: Mapping[str, int] = {VERIFICATION: 3, COORDINATION: 5, AUTO_CLOSE: 10}
DEFAULT_FOLLOWUP_DAYS: Mapping[str, int] = {"aspirasi": 5, "informasi": 5, "pengaduan": 14, "pengawasan": 60}
DEFAULT_DUE_SOON_WORKING_DAYS = 1

#: The module docstring as one line, for the UI's help text (translate it there).
COUNTING_RULE = " ".join((__doc__ or "").split())


class DeadlineState:
    NONE = "none"
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ALL = (NONE, ON_TIME, DUE_SOON, OVERDUE)


def _days(value: Any, what: str) -> int:
    # Settings come from TOML files and admin edits; reject anything that is not a count of days
    # rather than silently computing a wrong deadline.
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number of working days, got {value!r}")
    try:
        days = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a whole number of working days, got {value!r}") from exc
    if days < 0 or (days != value and not isinstance(value, str)):  # 5.5 is not a day count
        raise ValueError(f"{what} must be a whole number of working days >= 0, got {value!r}")
    return days


def stage_days(settings: Mapping[str, Any] | None, stage: str, complaint_class: str | None = None) -> int:
    """Working days allowed for `stage`; "followup" depends on the complaint class.

    Tenant settings win; a missing key falls back to the national default. Raises ValueError for an
    unknown stage, a follow-up without class, or a class neither the tenant nor the defaults know.
    """
    settings = settings or {}
    if stage not in STAGES:
        raise ValueError(f"unknown deadline stage {stage!r}; expected one of {STAGES}")
    if stage == FOLLOWUP:
        if not complaint_class:
            raise ValueError("the follow-up deadline depends on the complaint class; none given")
        tenant_class = (settings.get("classes") or {}).get(complaint_class)
        if tenant_class is not None and tenant_class.get("followup_days") is not None:
            return _days(tenant_class["followup_days"], f"classes.{complaint_class}.followup_days")
        if complaint_class in DEFAULT_FOLLOWUP_DAYS:
            return DEFAULT_FOLLOWUP_DAYS[complaint_class]
        raise ValueError(f"unknown complaint class {complaint_class!r}")
    value = (settings.get("deadlines") or {}).get(stage)
    if value is None:
        return DEFAULT_STAGE_DAYS[stage]
    return _days(value, f"deadlines.{stage}")


def due_soon_working_days(settings: Mapping[str, Any] | None) -> int:
    """How many working days before its due date a deadline counts as "due soon"."""
    value = (settings or {}).get("due_soon_working_days")
    if value is None:
        return DEFAULT_DUE_SOON_WORKING_DAYS
    return _days(value, "due_soon_working_days")


def deadline_for(
    calendar: WorkingCalendar,
    settings: Mapping[str, Any] | None,
    stage: str,
    started_at: datetime,
    complaint_class: str | None = None,
    paused_working_days: int = 0,
) -> datetime:
    """Aware UTC deadline of `stage` that started at `started_at`.

    `paused_working_days` are the working days spent on hold (tunda); they push the deadline back
    by as many working days, since the clock does not run while waiting for the citizen.
    """
    if paused_working_days < 0:
        raise ValueError(f"paused_working_days must be >= 0, got {paused_working_days}")
    days = stage_days(settings, stage, complaint_class)
    return calendar.deadline(started_at, days + paused_working_days)


def deadline_state(
    calendar: WorkingCalendar,
    settings: Mapping[str, Any] | None,
    due_at: datetime | None,
    now: datetime,
) -> str:
    """One of DeadlineState.ALL: "none", "overdue", "due_soon" or "on_time".

    Due soon: today (local) is at most `due_soon_working_days` working days before the due date,
    the due date itself included.
    """
    if due_at is None:
        return DeadlineState.NONE
    # Local dates first: they raise ValueError on naive datetimes, before `>` would raise a TypeError.
    today = calendar.local_date(now)
    due_day = calendar.local_date(due_at)
    if now > due_at:
        return DeadlineState.OVERDUE
    if calendar.working_days_between(today, due_day) <= due_soon_working_days(settings):
        return DeadlineState.DUE_SOON
    return DeadlineState.ON_TIME

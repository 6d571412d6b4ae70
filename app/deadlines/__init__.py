"""Working-day deadlines: tenant calendars (calendar.py) and the deadline policy (policy.py).

Pure Python: needs neither a database nor a Flask app context.
"""

from app.deadlines.calendar import WorkingCalendar, calendar_for_tenant, national_holidays
from app.deadlines.policy import (
    COUNTING_RULE,
    STAGES,
    DeadlineState,
    deadline_for,
    deadline_state,
    due_soon_working_days,
    stage_days,
)

__all__ = [
    "COUNTING_RULE",
    "STAGES",
    "DeadlineState",
    "WorkingCalendar",
    "calendar_for_tenant",
    "deadline_for",
    "deadline_state",
    "due_soon_working_days",
    "national_holidays",
    "stage_days",
]

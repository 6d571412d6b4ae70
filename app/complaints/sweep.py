"""The periodic deadline sweep for one tenant: due-soon/overdue flags, escalation, auto-close.

Idempotent: a second run in the same state changes nothing and sends nothing new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.complaints import service
from app.complaints.models import Complaint, Status
from app.extensions import db
from app.jobs.sweeps import SWEEPS
from app.tenancy.models import utcnow


def sweep_tenant(tenant, now: datetime | None = None) -> dict:
    now = now or utcnow()
    counts = {"overdue": 0, "due_soon": 0, "escalated": 0, "auto_closed": 0}
    rows = db.session.execute(
        select(Complaint).where(Complaint.status.in_(Status.OPEN), Complaint.due_at.is_not(None))
    ).scalars().all()
    for c in rows:
        if c.status == Status.ANSWERED:
            if service.auto_close(c, now) is not None:
                counts["auto_closed"] += 1
            continue
        state = service.refresh_deadline_state(c, now)
        if state in counts:
            counts[state] += 1
        if state == "overdue" and c.escalated_stage != c.due_stage:
            escalate(c, tenant)
            counts["escalated"] += 1
    db.session.flush()
    return counts


def escalate(c: Complaint, tenant) -> None:
    """Escalate once per stage; who is told (unit, unit head, the agencies' liaisons) is a notification rule."""
    c.escalated_stage = c.due_stage
    service.record_event(c, service.SYSTEM, "escalate", after={"stage": c.due_stage})


SWEEPS.append(sweep_tenant)

"""What the platform's own endpoints read: readiness checks and the development message outbox."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select, text

from app.extensions import db
from app.jobs.queue import redis_connection
from app.notifications.models import Notification
from app.onboarding.models import PlatformMessage
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope


def readiness() -> dict[str, str]:
    """"ok" or "error: <type>" for the database and, if configured, Redis."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))  # touches no table
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    if current_app.config["REDIS_URL"]:
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    return checks


def dev_outbox(limit: int = 100) -> tuple[list, list]:
    """Development only: the newest messages the development adapters stored instead of sending, as
    (region notifications, platform messages)."""
    # Tenant by tenant, each in its own scope: row-level security lets the runtime role see one tenant at
    # a time, and a development page needs no privileged cross-tenant path.
    rows = []
    for tenant_id in db.session.execute(select(Tenant.id)).scalars().all():
        with tenant_scope(tenant_id):
            rows += db.session.execute(
                select(Notification).order_by(Notification.id.desc()).limit(limit)).scalars().all()
    rows = sorted(rows, key=lambda n: n.id, reverse=True)[:limit]
    # Platform mail (applications, approvals, invitations) has no tenant and its own table.
    platform = db.session.execute(
        select(PlatformMessage).order_by(PlatformMessage.id.desc()).limit(limit)
    ).scalars().all()
    return rows, platform

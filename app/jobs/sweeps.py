"""Periodic work over every tenant; each tenant runs in its own scope."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Tenant, TenantStatus
from app.tenancy.scope import tenant_scope

log = logging.getLogger(__name__)

#: Per-tenant sweep steps, registered by feature packages: fn(tenant) -> dict of counts.
SWEEPS: list = []


def sweep_all_tenants() -> dict:
    totals: dict[str, int] = {}
    tenants = db.session.execute(select(Tenant).filter_by(status=TenantStatus.ACTIVE)).scalars().all()
    for tenant in tenants:
        with tenant_scope(tenant.id):
            for step in SWEEPS:
                try:
                    counts = step(tenant) or {}
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    log.exception("sweep %s failed for tenant %s", step.__name__, tenant.slug)
                    continue
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
    return totals

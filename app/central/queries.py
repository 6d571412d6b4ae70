"""What the central pages read (outside every tenant): the region lists and the platform's security log.

Views call one function here and render; nothing here writes."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.audit import PlatformSecurityEvent
from app.accounts.models import PlatformAdmin
from app.extensions import db
from app.onboarding.models import ApplicationStatus, TenantApplication
from app.tenancy.models import Tenant, TenantStatus


def live_regions() -> list[Tenant]:
    """Regions offered to citizens on the platform's landing page (not those being set up or suspended)."""
    return list(db.session.execute(
        select(Tenant).filter_by(status=TenantStatus.ACTIVE, live=True).order_by(Tenant.name)
    ).scalars())


def all_regions() -> list[Tenant]:
    """Every region, by name (the central console)."""
    return list(db.session.execute(select(Tenant).order_by(Tenant.name)).scalars())


def pending_applications() -> int:
    """How many region applications wait for a decision."""
    return db.session.scalar(select(func.count(TenantApplication.id)).filter_by(
        status=ApplicationStatus.PENDING)) or 0


def region_with_status(tenant_id: int) -> Tenant | None:
    """A region whose status a central administrator may change (one still being set up is not)."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or tenant.status == TenantStatus.PENDING:
        return None
    return tenant


def platform_security_log(limit: int = 200) -> list:
    """The newest platform security events with the administrator's name (None for an unknown account)."""
    return list(db.session.execute(
        select(PlatformSecurityEvent, PlatformAdmin.name).outerjoin(PlatformAdmin)
        .order_by(PlatformSecurityEvent.at.desc(), PlatformSecurityEvent.id.desc()).limit(limit)
    ).all())

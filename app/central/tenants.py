"""Central administrators suspend and reactivate regions. Flush, never commit.

A suspended region keeps all its data. Its public pages say it is suspended; its staff can still sign in
and read, but every change is refused (see ``app.tenancy.resolve``); periodic sweeps skip it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.accounts.models import PlatformAdmin
from app.extensions import db
from app.onboarding.service import OnboardingError, record
from app.tenancy.models import Tenant, TenantStatus
from app.tenancy.scope import tenant_scope

TenantStatusError = OnboardingError


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise TenantStatusError({"reason": _l("Give a reason (at least 5 characters).")})
    return reason[:1000]


def suspend_tenant(tenant: Tenant, admin: PlatformAdmin, reason: str) -> None:
    """Suspend an active region, with a reason kept in its audit trail.

    :raises TenantStatusError: without a reason, or when the region is not active.
    """
    _change_status(tenant, admin, reason, TenantStatus.ACTIVE, TenantStatus.SUSPENDED, "tenant.suspended",
                   _l("Only an active region can be suspended."))


def reactivate_tenant(tenant: Tenant, admin: PlatformAdmin, reason: str) -> None:
    """Lift a suspension, with a reason kept in the region's audit trail.

    :raises TenantStatusError: without a reason, or when the region is not suspended.
    """
    _change_status(tenant, admin, reason, TenantStatus.SUSPENDED, TenantStatus.ACTIVE, "tenant.reactivated",
                   _l("Only a suspended region can be reactivated."))


def _change_status(tenant: Tenant, admin: PlatformAdmin, reason: str, before: str, after: str, kind: str,
                   refused) -> None:
    reason = _reason(reason)
    if tenant.status != before:
        raise TenantStatusError({"status": refused})
    tenant.status = after
    with tenant_scope(tenant.id):
        record(tenant, kind, None, admin.name, before={"status": before}, after={"status": after, "reason": reason})
    db.session.flush()

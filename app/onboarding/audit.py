"""The region's change log of its set-up (``TenantAuditEvent``): one writer for every feature.

A module of its own (models only) so that features the onboarding service itself depends on, such as the
SP4N-LAPOR! bridge, can record their changes without an import cycle.
"""

from __future__ import annotations

from app.accounts.models import User
from app.extensions import db
from app.onboarding.models import TenantAuditEvent
from app.tenancy.models import Tenant


def record(tenant: Tenant, kind: str, actor: User | None, actor_label: str | None = None,
           before: dict | None = None, after: dict | None = None) -> TenantAuditEvent:
    """Append one audit row for a change to the bound tenant's set-up."""
    row = TenantAuditEvent(kind=kind, actor_id=actor.id if actor is not None else None,
                           actor_label=actor.name if actor is not None else actor_label,
                           before=before or {}, after=after or {})
    db.session.add(row)
    db.session.flush()
    return row

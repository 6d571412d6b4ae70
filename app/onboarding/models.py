"""Sign-up applications and platform mail (platform-level) and the tenant settings audit trail (tenant-owned)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import TenantType, UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk


class ApplicationStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ALL = (PENDING, APPROVED, REJECTED)


#: Indonesian time zones (WIB, WITA, WIT) a region may choose.
TIMEZONES = ("Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura")


class TenantApplication(db.Model):
    """A regional government's request to join the platform.

    Platform-level, not tenant-owned: it exists before its tenant does.
    """

    __tablename__ = "tenant_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(20))
    province: Mapped[str] = mapped_column(sa.String(100))
    region_code: Mapped[str] = mapped_column(sa.String(20))
    population: Mapped[int | None] = mapped_column(sa.Integer)
    timezone: Mapped[str] = mapped_column(sa.String(50))
    #: The responsible official: personal data, never logged.
    official_name: Mapped[str] = mapped_column(sa.String(120))
    official_position: Mapped[str] = mapped_column(sa.String(120))
    official_email: Mapped[str] = mapped_column(sa.String(255))
    official_phone: Mapped[str] = mapped_column(sa.String(30))
    slug: Mapped[str] = mapped_column(sa.String(40), index=True)
    code_prefix: Mapped[str] = mapped_column(sa.String(5))
    #: A peer the applicant would like to start from (a suggestion only).
    suggested_peer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenant.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(20), default=ApplicationStatus.PENDING, index=True)
    #: Chosen by the central administrator at approval: None = tenants/_template, else the cloned peer.
    source_tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenant.id", ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(sa.String(60))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_admin.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The tenant provisioned from this application (set once; makes provisioning idempotent).
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenant.id", ondelete="SET NULL"), unique=True)

    __table_args__ = (
        sa.CheckConstraint(f"status IN {ApplicationStatus.ALL!r}", name="status"),
        sa.CheckConstraint(f"type IN {TenantType.ALL!r}", name="type"),
    )

    @property
    def official_email_is_government(self) -> bool:
        return is_government_email(self.official_email)


def is_government_email(email: str) -> bool:
    return (email or "").strip().lower().endswith(".go.id")


class PlatformMessage(db.Model):
    """An email sent by the platform itself (to central administrators and applicants).

    Notification and the outbox are tenant-owned, and these recipients have no tenant; the unique
    (event_key, recipient) keeps "never twice" a database fact here too.
    """

    __tablename__ = "platform_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(sa.String(120))
    #: Email address: personal data, never logged.
    recipient: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("event_key", "recipient"),)


class TenantAuditEvent(TenantScoped, db.Model):
    """One change to a tenant's set-up (provisioning, branding, invitations, go-live): who, when, what."""

    __tablename__ = "tenant_audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(60))
    #: The tenant user who acted; None for central administrators and the system.
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    actor_label: Mapped[str | None] = mapped_column(sa.String(160))
    before: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    after: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __table_args__ = scoped_table_args(
        tenant_fk(["actor_id"], "user_account"),
        sa.Index("ix_tenant_audit_event_tenant_kind", "tenant_id", "kind"),
    )

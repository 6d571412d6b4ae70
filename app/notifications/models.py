"""Per-tenant message texts and the log that makes "never twice" a database fact."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk


class MessageTemplate(TenantScoped, db.Model):
    """A message text for one event key and language, overridable per tenant."""

    __tablename__ = "message_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(60))
    locale: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    #: The SMS/WhatsApp text: one GSM-7 message where possible, never identity or confidential content.
    sms: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = scoped_table_args(sa.UniqueConstraint("tenant_id", "key", "locale"))


class Notification(TenantScoped, db.Model):
    """One message to one recipient for one event; the unique key stops a second send."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Identifies the event, e.g. "complaint:12:received".
    event_key: Mapped[str] = mapped_column(sa.String(120))
    channel: Mapped[str] = mapped_column(sa.String(20))  # email | sms
    #: Email address or phone number: personal data, never logged.
    recipient: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(sa.UniqueConstraint("tenant_id", "event_key", "channel", "recipient"))


class Mode:
    """How a staff user hears about one group of events (the in-app list always records them)."""

    IMMEDIATE = "immediate"  # one email per event
    DIGEST = "digest"  # one email a day, in the region's morning
    OFF = "off"  # no email
    ALL = (IMMEDIATE, DIGEST, OFF)


class NotificationPreference(TenantScoped, db.Model):
    """A staff user's choice for one event group; no row means the group's default."""

    __tablename__ = "notification_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer)
    group: Mapped[str] = mapped_column(sa.String(20))
    mode: Mapped[str] = mapped_column(sa.String(12))

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "user_id", "group"),
        tenant_fk(["user_id"], "user_account", ondelete="CASCADE"),
        sa.CheckConstraint(f"mode IN {Mode.ALL!r}", name="mode"),
    )


class StaffNotification(TenantScoped, db.Model):
    """One event in one staff user's in-app list; the unique key makes "once per event" a fact."""

    __tablename__ = "staff_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.Integer)
    event_id: Mapped[int] = mapped_column(sa.Integer)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[str] = mapped_column(sa.String(30))
    group: Mapped[str] = mapped_column(sa.String(20))
    #: immediate | digest | off: what the user's preference was when the event happened.
    mode: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when a daily digest included it.
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "user_id", "event_id"),
        tenant_fk(["user_id"], "user_account", ondelete="CASCADE"),
        tenant_fk(["event_id"], "complaint_event", ondelete="CASCADE"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        sa.Index("ix_staff_notification_tenant_user_read", "tenant_id", "user_id", "read_at"),
    )

"""Per-tenant message texts and the log that makes "never twice" a database fact."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args


class MessageTemplate(TenantScoped, db.Model):
    """A message text for one event key and language, overridable per tenant."""

    __tablename__ = "message_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(60))
    locale: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)

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

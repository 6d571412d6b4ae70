"""Integration records: webhooks and their delivery log, the inbound SMS/WhatsApp gateway, and the
SP4N-LAPOR! bridge links. All rows are tenant-owned.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import EncryptedString
from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk

#: Events a webhook may subscribe to.
WEBHOOK_EVENTS = ("complaint.created", "complaint.status_changed", "followup.published")


class DeliveryStatus:
    PENDING = "pending"
    RETRYING = "retrying"  # failed at least once; the next attempt is scheduled
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up after the last attempt
    CANCELLED = "cancelled"  # the webhook was switched off before delivery
    ALL = (PENDING, RETRYING, SUCCEEDED, FAILED, CANCELLED)
    FINAL = (SUCCEEDED, FAILED, CANCELLED)


class Webhook(TenantScoped, db.Model):
    """A URL of the region's own systems that receives signed event notifications."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Subscribed event types (a subset of WEBHOOK_EVENTS).
    events: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: The signing secret is derived from WEBHOOK_SIGNING_KEY and this nonce; the secret itself is
    #: never stored (a database copy does not let anyone forge deliveries).
    secret_nonce: Mapped[str] = mapped_column(sa.String(64))
    #: Last characters of the secret, so the administrator can tell secrets apart.
    secret_hint: Mapped[str] = mapped_column(sa.String(8), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = scoped_table_args(tenant_fk(["created_by_id"], "user_account"))


class WebhookDelivery(TenantScoped, db.Model):
    """One event for one webhook: the exact body that is signed and sent, and where it stands."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(sa.Integer)
    #: Sent as X-Lapor-Event-Id; equal across retries so receivers can drop duplicates.
    event_id: Mapped[str] = mapped_column(sa.String(40))
    event_type: Mapped[str] = mapped_column(sa.String(40))
    complaint_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The JSON body exactly as signed (text, so every retry sends the same bytes).
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    last_duration_ms: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        primaryjoin="and_(WebhookAttempt.delivery_id == WebhookDelivery.id, "
                    "WebhookAttempt.tenant_id == WebhookDelivery.tenant_id)",
        foreign_keys="[WebhookAttempt.delivery_id]", viewonly=True, order_by="WebhookAttempt.number",
    )

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "webhook_id", "event_id"),
        tenant_fk(["webhook_id"], "webhook", ondelete="CASCADE"),
        tenant_fk(["complaint_id"], "complaint"),
        sa.Index("ix_webhook_delivery_tenant_webhook_created", "tenant_id", "webhook_id", "created_at"),
        sa.CheckConstraint(f"status IN {DeliveryStatus.ALL!r}", name="status"),
    )


class WebhookAttempt(TenantScoped, db.Model):
    """One HTTP attempt of a delivery (the delivery log)."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.Integer)
    number: Mapped[int] = mapped_column(sa.Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    #: Short technical reason (exception class, "HTTP 500"); never the response body.
    error: Mapped[str | None] = mapped_column(sa.String(300))
    duration_ms: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "delivery_id", "number"),
        tenant_fk(["delivery_id"], "webhook_delivery", ondelete="CASCADE"),
    )


class InboundToken(TenantScoped, db.Model):
    """A token the region's SMS/WhatsApp gateway presents; only its SHA-256 is stored."""

    __tablename__ = "inbound_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    token_hint: Mapped[str] = mapped_column(sa.String(8), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "token_hash"),
        tenant_fk(["created_by_id"], "user_account"),
    )


class InboundMessage(TenantScoped, db.Model):
    """A message received from the gateway; the unique message id makes a resend a no-op."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(20))  # sms | whatsapp
    #: The gateway's own id of the message.
    gateway_message_id: Mapped[str] = mapped_column(sa.String(120))
    #: Personal data: never logged.
    sender: Mapped[str] = mapped_column(sa.String(30))
    body: Mapped[str] = mapped_column(sa.Text)
    #: created | appended | rejected
    action: Mapped[str] = mapped_column(sa.String(20))
    complaint_id: Mapped[int | None] = mapped_column(sa.Integer)
    reply: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "channel", "gateway_message_id"),
        tenant_fk(["complaint_id"], "complaint"),
    )


class BridgeLink(TenantScoped, db.Model):
    """A complaint entered at SP4N-LAPOR!: its id there and the last status seen."""

    __tablename__ = "bridge_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    external_id: Mapped[str] = mapped_column(sa.String(80))
    external_status: Mapped[str | None] = mapped_column(sa.String(60))
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "complaint_id"),
        sa.UniqueConstraint("tenant_id", "external_id"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
    )


class BridgeItem(TenantScoped, db.Model):
    """A follow-up pulled from SP4N-LAPOR!; the unique key records it once."""

    __tablename__ = "bridge_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(sa.Integer)
    #: The follow-up's id at SP4N-LAPOR!.
    external_item_id: Mapped[str] = mapped_column(sa.String(80))
    event_id: Mapped[int | None] = mapped_column(sa.Integer)
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "link_id", "external_item_id"),
        tenant_fk(["link_id"], "bridge_link", ondelete="CASCADE"),
        tenant_fk(["event_id"], "complaint_event"),
    )


class BridgeSettings(TenantScoped, db.Model):
    """The SP4N-LAPOR! bridge as the region administrator set it (one row per region), and what it did last.

    Each unset value (None) falls back to the files and environment (``tenant.toml`` ``[settings.sp4n]``,
    ``SP4N_BASE_URL``, ``SP4N_TOKEN_<SLUG>``). The token is stored encrypted (``app.crypto``) and is never
    shown back, only its last characters.
    """

    __tablename__ = "bridge_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool | None] = mapped_column(sa.Boolean)
    base_url: Mapped[str | None] = mapped_column(sa.String(500))
    token: Mapped[str | None] = mapped_column(EncryptedString)
    token_hint: Mapped[str] = mapped_column(sa.String(8), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The last periodic pull that ran for the region, and its counts.
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_counts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: The last "test connection": when, whether it worked, and the short technical reason.
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_ok: Mapped[bool | None] = mapped_column(sa.Boolean)
    last_test_message: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The latest errors, newest first (``{"at", "kind", "message"}``; short technical reasons, never a
    #: report's content or a token), capped at :data:`app.integrations.sp4n.ERRORS_KEPT`.
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id"),
        tenant_fk(["updated_by_id"], "user_account"),
    )

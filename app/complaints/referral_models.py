"""The two tenant-owned halves of a referral between regions (app.complaints.referrals explains the design)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk


class Direction:
    OUT = "out"  # in the referring region, on the original report
    IN = "in"  # in the receiving region, on the linked report
    ALL = (OUT, IN)


class ReferralStatus:
    SENT = "sent"  # out: written with the referral; the relay job has not delivered it yet
    AWAITING = "awaiting"  # delivered: the receiving unit accepts or declines
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ALL = (SENT, AWAITING, ACCEPTED, DECLINED)


class Referral(TenantScoped, db.Model):
    """One half of a referral between two regions: ``out`` on the original report, ``in`` on the linked one.

    Each half names the other region (``peer_tenant_id``) and, once delivered, the other half's ids and the
    other report's tracking code; nothing else of the other region is kept here.
    """

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: This region's report: the original (out) or the linked one (in).
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    #: The other region.
    peer_tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.id", ondelete="RESTRICT"))
    #: The other half and the other report, ids in the other region (no foreign key can cross regions).
    peer_referral_id: Mapped[int | None] = mapped_column(sa.Integer)
    peer_complaint_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The other report's tracking code.
    peer_code: Mapped[str | None] = mapped_column(sa.String(20))
    #: out: the linked report's status there, and whether its public page may show it (not rahasia).
    peer_status: Mapped[str | None] = mapped_column(sa.String(20))
    peer_public: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReferralStatus.SENT)
    #: The referring unit's message (the one to the reporter), shown to the receiving unit too.
    note: Mapped[str | None] = mapped_column(sa.Text)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: out or in (:class:`Direction`).
    direction: Mapped[str] = mapped_column(sa.String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: out: the last event of the linked report mirrored onto the original (the mirror's cursor).
    mirrored_event_id: Mapped[int] = mapped_column(default=0)

    __table_args__ = scoped_table_args(
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        sa.Index("ix_referral_tenant_complaint", "tenant_id", "complaint_id"),
        sa.CheckConstraint(f"direction IN {Direction.ALL!r}", name="direction"),
        sa.CheckConstraint(f"status IN {ReferralStatus.ALL!r}", name="status"),
    )

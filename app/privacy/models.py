"""Data-subject requests (UU PDP 27/2022): the one-time link that opens a reporter's own data."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk


class DataAccessRequest(TenantScoped, db.Model):
    """A reporter asked for their data: a one-time, expiring link went to the contact on file.

    Only a hash of the link's secret is stored, so the table cannot be used to open anyone's data.
    """

    __tablename__ = "data_access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    #: sha256 of the secret in the link.
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    #: Where the link was sent: "email", "sms" or "email,sms" (never the address itself).
    channels: Mapped[str] = mapped_column(sa.String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when the link is opened; a used link never opens again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "token_hash"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
    )

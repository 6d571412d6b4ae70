"""API keys of a region's integrations. Only a SHA-256 digest of the secret part is stored."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk

#: read: list and read complaints, categories, agencies. write: also submit and move complaints.
SCOPES = ("read", "write")


class ApiKey(TenantScoped, db.Model):
    """``lpr_<prefix>_<secret>``: the prefix finds the row, the secret's digest proves the holder."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "prefix"),
        tenant_fk(["created_by_id"], "user_account"),
        tenant_fk(["revoked_by_id"], "user_account"),
    )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return scope in (self.scopes or [])

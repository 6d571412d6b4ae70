"""Platform-level tenant records (not tenant-owned themselves)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

_frozen_now: ContextVar[datetime | None] = ContextVar("frozen_now", default=None)


def utcnow() -> datetime:
    """The current UTC time; :func:`frozen_time` pins it (demo seeding, tests)."""
    return _frozen_now.get() or datetime.now(UTC)


@contextmanager
def frozen_time(at: datetime) -> Iterator[datetime]:
    """Make :func:`utcnow` return ``at`` inside the block (this context only)."""
    if at.tzinfo is None:
        raise ValueError("frozen_time needs an aware datetime")
    token = _frozen_now.set(at.astimezone(UTC))
    try:
        yield at
    finally:
        _frozen_now.reset(token)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TenantStatus:
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ALL = (PENDING, ACTIVE, SUSPENDED)


class TenantType:
    KOTA = "kota"
    KABUPATEN = "kabupaten"
    PROVINSI = "provinsi"
    ALL = (KOTA, KABUPATEN, PROVINSI)


class Tenant(db.Model):
    """A regional government (pemerintah daerah) served by the platform."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Official name, e.g. "Pemerintah Kota Banjarmasin".
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Short public name of the service, e.g. "Lapor Baiman".
    service_name: Mapped[str] = mapped_column(sa.String(120), default="")
    type: Mapped[str] = mapped_column(sa.String(20))
    province: Mapped[str] = mapped_column(sa.String(100))
    #: Kemendagri region code, e.g. "63.71" for Kota Banjarmasin.
    region_code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    #: Prefix of tracking codes, e.g. "BJM".
    code_prefix: Mapped[str] = mapped_column(sa.String(5), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(50))
    locale: Mapped[str] = mapped_column(sa.String(10), default="id")
    population: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(20), default=TenantStatus.PENDING)
    #: Branding: primary colour, logo path, tagline.
    branding: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: Effective configuration (template < region files < admin edits): classes, deadlines,
    #: local holidays, reopen window, sender name.
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: False while a newly provisioned tenant is being set up: its admin works, the public portal
    #: says "not yet open" and accepts no complaints. Regions synced from tenants/ are live.
    live: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    go_live_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    domains: Mapped[list[TenantDomain]] = relationship(back_populates="tenant", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {TenantStatus.ALL!r}", name="status"),
        sa.CheckConstraint(f"type IN {TenantType.ALL!r}", name="type"),
    )

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class TenantDomain(db.Model):
    """A host name that maps straight onto a tenant (e.g. lapor.banjarmasinkota.go.id)."""

    __tablename__ = "tenant_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(sa.String(255), unique=True)

    tenant: Mapped[Tenant] = relationship(back_populates="domains")

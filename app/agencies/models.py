"""Agencies (OPD) and complaint categories of a tenant."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk


class Agency(TenantScoped, db.Model):
    """An organisational unit (OPD) that receives dispositions, e.g. Dinas PUPR."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    short_name: Mapped[str] = mapped_column(sa.String(60))
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = scoped_table_args(sa.UniqueConstraint("tenant_id", "code"))

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class Category(TenantScoped, db.Model):
    """A complaint category with its default agency."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name_id: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    default_agency_id: Mapped[int | None] = mapped_column(sa.Integer)
    active: Mapped[bool] = mapped_column(default=True)

    default_agency: Mapped[Agency | None] = relationship(
        primaryjoin="and_(Category.default_agency_id == Agency.id, Category.tenant_id == Agency.tenant_id)",
        foreign_keys="[Category.default_agency_id]",
        viewonly=True,
    )

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "code"),
        tenant_fk(["default_agency_id"], "agency"),
    )

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id

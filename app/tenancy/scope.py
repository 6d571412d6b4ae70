"""The current tenant and the ORM guard-rails that scope every tenant-owned query.

Fail closed: touching a tenant-owned table with no tenant bound raises, it never means
"all tenants". Only modules listed in ``ALL_TENANTS_ALLOWED`` may read across tenants.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

from app.extensions import db
from app.tenancy.models import Tenant

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)

#: Modules allowed to pass ``all_tenants=True``; a test keeps this list honest. On PostgreSQL such a read
#: must also go through ``app.tenancy.rls.cross_tenant_reads`` (row-level security hides other tenants'
#: rows from the runtime role); the outbox relay and the development outbox read tenant by tenant instead.
ALL_TENANTS_ALLOWED = ("app.central.comparison",)


class NoTenantBound(RuntimeError):
    """A tenant-owned table was touched outside ``tenant_scope``."""


class CrossTenantWrite(RuntimeError):
    """An insert, update or delete would touch a row of another tenant."""


def current_tenant_id() -> int:
    """The id of the bound tenant.

    :raises NoTenantBound: when no tenant is bound.
    """
    tid = _current_tenant_id.get()
    if tid is None:
        raise NoTenantBound("no tenant bound; enter tenant_scope(tenant_id) first")
    return tid


def bound_tenant_id() -> int | None:
    """The bound tenant id, or None (for code that legitimately works without one)."""
    return _current_tenant_id.get()


def current_tenant():
    """The bound Tenant row (platform-level, cached by the session's identity map)."""

    return db.session.get(Tenant, current_tenant_id())


@contextmanager
def tenant_scope(tenant_id: int) -> Iterator[int]:
    """Bind ``tenant_id`` for jobs, CLI commands and tests; restores the previous binding."""
    if not isinstance(tenant_id, int):
        raise TypeError("tenant_scope takes a tenant id")
    token = _current_tenant_id.set(tenant_id)
    try:
        yield tenant_id
    finally:
        _current_tenant_id.reset(token)


def bind_tenant(tenant_id: int | None):
    """Bind for the rest of a request; returns a token for :func:`unbind_tenant`."""
    return _current_tenant_id.set(tenant_id)


def unbind_tenant(token) -> None:
    _current_tenant_id.reset(token)


def all_tenants_options() -> dict:
    """Execution options for a cross-tenant read; only allowed modules may use it."""
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller not in ALL_TENANTS_ALLOWED:
        raise CrossTenantWrite(f"{caller} may not read across tenants")
    return {"all_tenants": True}


class TenantScoped:
    """Mixin for tenant-owned models: non-null ``tenant_id``, automatic scoping.

    Models must build ``__table_args__`` with :func:`scoped_table_args` so that other
    tenant-owned rows can reference them by ``(tenant_id, id)``.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(sa.ForeignKey("tenant.id", ondelete="RESTRICT"), nullable=False, index=True)


def scoped_table_args(*extra) -> tuple:
    """``__table_args__`` for a tenant-owned table: ``(tenant_id, id)`` is unique."""
    return (sa.UniqueConstraint("tenant_id", "id", name=None), *extra)


def tenant_fk(columns: list[str], target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """A foreign key to another tenant-owned table that includes ``tenant_id``.

    The database refuses a reference to a row of another tenant.
    """
    return sa.ForeignKeyConstraint(
        ["tenant_id", *columns], [f"{target}.tenant_id", f"{target}.id"], ondelete=ondelete
    )


def _is_scoped(mapper) -> bool:
    return mapper is not None and issubclass(mapper.class_, TenantScoped)


@functools.lru_cache(maxsize=4)
def _scoped_table_names(_mapper_count: int) -> frozenset[str]:
    return frozenset(cls.__table__.name for cls in tenant_owned_models())


def _touches_scoped(state) -> bool:
    if any(_is_scoped(m) for m in state.all_mappers):
        return True
    # all_mappers only lists selected entities: select(func.count()).select_from(Model) or a
    # scoped table in a subquery of an unscoped select must count too.
    scoped = _scoped_table_names(len(db.Model.registry.mappers))
    return any(isinstance(t, sa.Table) and t.name in scoped
               for t in sa.sql.util.find_tables(state.statement, check_columns=True))


def _tenant_ids_written(state) -> list:
    """The values an ORM insert/update statement writes into ``tenant_id``."""
    stmt, params = state.statement, state.parameters
    rows = [params] if isinstance(params, dict) else list(params or [])
    found = [row["tenant_id"] for row in rows if isinstance(row, dict) and "tenant_id" in row]
    value_sets = [getattr(stmt, "_values", None) or {}, dict(getattr(stmt, "_ordered_values", None) or ())]
    for multi in getattr(stmt, "_multi_values", None) or ():
        value_sets.extend(v for v in multi if isinstance(v, dict))
    for values in value_sets:
        for key, value in values.items():
            if (key if isinstance(key, str) else getattr(key, "key", None)) == "tenant_id":
                found.append(getattr(value, "value", value))
    return found


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_execute(state) -> None:
    if state.is_column_load or state.execution_options.get("all_tenants"):
        return
    if not _touches_scoped(state):
        return
    tid = current_tenant_id()
    if (state.is_insert or state.is_update) and any(v != tid for v in _tenant_ids_written(state)):
        raise CrossTenantWrite("an INSERT or UPDATE statement writes another tenant's tenant_id")
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    )


def check_identity_hit(obj, execution_options=None):
    """``Session.get`` answers from the identity map without a query; refuse other tenants' rows there too."""
    if isinstance(obj, TenantScoped) and not (execution_options or {}).get("all_tenants"):
        if obj.tenant_id != current_tenant_id():
            return None
    return obj


@event.listens_for(TenantScoped, "init", propagate=True)
def _stamp_on_creation(target, args, kwargs) -> None:
    """Stamp when the object is made: one made in tenant A's scope but flushed (e.g. autoflushed) in
    tenant B's must be refused at flush, not silently become B's."""
    tid = _current_tenant_id.get()
    if tid is not None and kwargs.get("tenant_id") is None:
        target.tenant_id = tid


@event.listens_for(Session, "before_flush")
def _stamp_and_check(session, flush_context, instances) -> None:
    for obj in session.new:
        if isinstance(obj, TenantScoped):
            tid = current_tenant_id()
            if obj.tenant_id is None:
                obj.tenant_id = tid
            elif obj.tenant_id != tid:
                raise CrossTenantWrite(f"insert of {type(obj).__name__} for another tenant")
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TenantScoped):
            tid = current_tenant_id()
            history = sa.inspect(obj).attrs.tenant_id.history
            original = history.deleted[0] if history.deleted else obj.tenant_id
            if original != tid or obj.tenant_id != tid:
                raise CrossTenantWrite(f"change of {type(obj).__name__} #{obj.id} of another tenant")


def tenant_owned_models() -> list[type]:
    """Every mapped class that is tenant-owned (used by the isolation tests)."""
    return sorted(
        (m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)),
        key=lambda c: c.__name__,
    )

"""Every tenant-owned model, enumerated (not listed by hand): Katingan never sees or touches
Banjarmasin's rows, a write for another tenant is refused, no tenant bound is an error, and the
database itself refuses a cross-tenant reference.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

import app.models  # noqa: F401  (registers every model, so the enumeration below is complete)
from app.extensions import db as _db
from app.tenancy.scope import (
    ALL_TENANTS_ALLOWED,
    CrossTenantWrite,
    NoTenantBound,
    TenantScoped,
    all_tenants_options,
    tenant_owned_models,
    tenant_scope,
)
from tests.factories import FACTORIES, make

REPO = Path(__file__).resolve().parents[2]
MODELS = tenant_owned_models()
SCOPED_TABLES = {m.__table__.name: m for m in MODELS}

#: Tables with a tenant_id that are deliberately NOT tenant-scoped, with the reason.
PLATFORM_TABLES_WITH_TENANT_ID = {
    "tenant_domain": "maps a host name to its tenant; read before any tenant is known",
    "tenant_application": "a sign-up request: exists before its tenant; tenant_id is the tenant provisioned from it",
}


def _ids(model):
    return model.__name__


def _tenant_fks(table: sa.Table) -> list[sa.ForeignKeyConstraint]:
    # Sorted: the constraints are a set, and every xdist worker must collect the same order.
    return sorted((fk for fk in table.foreign_key_constraints if fk.referred_table.name in SCOPED_TABLES),
                  key=lambda fk: [c.name for c in fk.columns])


TENANT_FKS = [
    pytest.param(model, fk, id=f"{model.__name__}.{'+'.join(c.name for c in fk.columns if c.name != 'tenant_id')}")
    for model in MODELS for fk in _tenant_fks(model.__table__)
]


def _plain_column(model) -> sa.Column:
    """A column that is safe to change in a test: not a key, not a reference, text if possible."""
    version_col = getattr(model.__mapper__, "version_id_col", None)
    candidates = [c for c in model.__table__.columns
                  if not (c.primary_key or c.foreign_keys or c.name == "tenant_id" or c is version_col)]
    for col in candidates:
        if isinstance(col.type, sa.String):
            return col
    return next(c for c in candidates if isinstance(c.type, (sa.Integer, sa.Float)))


def _changed_value(col: sa.Column):
    if isinstance(col.type, sa.String):
        return "katingan"[: col.type.length or 8]
    return 999_999


@pytest.fixture()
def t(bjm, ktg):
    """The two tenant ids (plain ints survive expunge_all and rollbacks, ORM objects do not)."""
    return SimpleNamespace(bjm=bjm.id, ktg=ktg.id)


@pytest.fixture()
def rows(db, bjm, ktg):
    """One committed row in each region: returns a function(model) → (bjm_obj, ktg_obj)."""
    bjm_id, ktg_id = bjm.id, ktg.id

    def create(model):
        with tenant_scope(bjm_id):
            mine = make(model)
        with tenant_scope(ktg_id):
            theirs = make(model)
        db.session.commit()
        return mine, theirs

    return create


# ------------------------------------------------------------------ the enumeration is complete


def test_every_tenant_owned_model_has_a_factory():
    missing = sorted({m.__name__ for m in MODELS} - set(FACTORIES))
    assert not missing, f"add a factory in tests/factories.py for: {', '.join(missing)}"


def test_every_factory_names_a_tenant_owned_model():
    stale = sorted(set(FACTORIES) - {m.__name__ for m in MODELS})
    assert not stale, f"factories for models that are not tenant-owned (renamed?): {stale}"


def test_every_table_with_a_tenant_id_is_tenant_scoped_or_explicitly_platform_level():
    unscoped = sorted(
        t.name for t in _db.metadata.sorted_tables
        if "tenant_id" in t.columns and t.name not in SCOPED_TABLES and t.name not in PLATFORM_TABLES_WITH_TENANT_ID
    )
    assert not unscoped, f"tables with tenant_id that do not use TenantScoped: {unscoped}"


# ------------------------------------------------------------------ reads


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_katingan_select_get_and_count_never_see_banjarmasin_rows(db, t, rows, model):
    mine, theirs = rows(model)
    bjm_row, ktg_row = mine.id, theirs.id
    both = [bjm_row, ktg_row]
    with tenant_scope(t.ktg):
        assert db.session.scalars(select(model.id).where(model.id.in_(both))).all() == [ktg_row]
        assert db.session.scalars(select(model).where(model.id == bjm_row)).first() is None
        assert db.session.scalars(select(model).filter_by(tenant_id=t.bjm)).first() is None
        assert db.session.scalar(select(func.count(model.id)).where(model.id.in_(both))) == 1
        assert db.session.scalar(select(func.count()).select_from(model).where(model.id.in_(both))) == 1
        # get() may answer from the identity map (Banjarmasin's object is still in it) ...
        assert db.session.get(model, bjm_row) is None
        # ... or from the database.
        db.session.expunge_all()
        assert db.session.get(model, bjm_row) is None
        assert db.session.get(model, ktg_row) is not None
    with tenant_scope(t.bjm):  # the row is there; Katingan just may not see it
        assert db.session.get(model, bjm_row) is not None


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_katingan_sees_banjarmasin_rows_neither_in_subqueries_nor_in_joins(db, t, rows, model):
    mine, theirs = rows(model)
    bjm_row = mine.id
    with tenant_scope(t.ktg):
        inner = select(model.id).where(model.id == bjm_row).scalar_subquery()
        assert db.session.scalar(select(sa.literal(1)).where(sa.exists(select(model.id).where(model.id == inner)))) \
            is None
        aliased = sa.orm.aliased(model)
        assert db.session.scalars(select(aliased.id).where(aliased.id == bjm_row)).first() is None


# ------------------------------------------------------------------ writes


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_katingan_orm_update_and_delete_statements_leave_banjarmasin_rows_alone(db, t, rows, model):
    mine, theirs = rows(model)
    bjm_row, ktg_row = mine.id, theirs.id
    col = _plain_column(model)
    before = getattr(mine, col.key)
    value = _changed_value(col) if isinstance(col.type, sa.String) else getattr(model, col.key)
    with tenant_scope(t.ktg):
        result = db.session.execute(
            update(model).where(model.id.in_([bjm_row, ktg_row])).values({col.key: value})
            .execution_options(synchronize_session="fetch")
        )
        assert result.rowcount == 1
        assert db.session.execute(delete(model).where(model.id == bjm_row)).rowcount == 0
    db.session.commit()
    db.session.expunge_all()
    with tenant_scope(t.bjm):
        row = db.session.get(model, bjm_row)
        assert row is not None and getattr(row, col.key) == before


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_flushing_a_change_to_a_banjarmasin_object_while_katingan_is_bound_raises(db, t, rows, model):
    mine, _theirs = rows(model)
    col = _plain_column(model)
    before = getattr(mine, col.key)
    with tenant_scope(t.ktg):
        setattr(mine, col.key, _changed_value(col))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
    db.session.rollback()
    with tenant_scope(t.bjm):
        db.session.refresh(mine)
        assert getattr(mine, col.key) == before


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_deleting_a_banjarmasin_object_while_katingan_is_bound_raises(db, t, rows, model):
    mine, _theirs = rows(model)
    with tenant_scope(t.ktg):
        db.session.delete(mine)
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
    db.session.rollback()
    with tenant_scope(t.bjm):
        assert db.session.get(model, mine.id) is not None


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_moving_a_row_to_another_tenant_raises(db, t, rows, model):
    _mine, theirs = rows(model)
    with tenant_scope(t.ktg):
        theirs.tenant_id = t.bjm
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_inserting_a_row_with_another_tenants_id_raises(db, t, model):
    bjm_id = t.bjm
    with tenant_scope(t.ktg):
        obj = FACTORIES[model.__name__](10_000)  # its references are made in Katingan
        obj.tenant_id = bjm_id
        db.session.add(obj)
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_insert_and_update_statements_writing_another_tenants_id_raise(db, t, model):
    bjm_id = t.bjm
    with tenant_scope(t.ktg):
        with pytest.raises(CrossTenantWrite):
            db.session.execute(insert(model).values(tenant_id=bjm_id))
        with pytest.raises(CrossTenantWrite):
            db.session.execute(insert(model), [{"tenant_id": bjm_id}])
        with pytest.raises(CrossTenantWrite):
            db.session.execute(update(model).values(tenant_id=bjm_id))


def test_new_rows_are_stamped_with_the_bound_tenant(db, t):
    from app.agencies.models import Agency

    with tenant_scope(t.ktg):
        agency = make(Agency)
    assert agency.tenant_id == t.ktg


# ------------------------------------------------------------------ fail closed


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_touching_a_tenant_owned_table_with_no_tenant_bound_raises(db, t, rows, model):
    mine, _theirs = rows(model)
    row_id = mine.id
    for stmt in (select(model), select(func.count()).select_from(model), select(model.id).where(model.id == row_id),
                 update(model).where(model.id == row_id).values(tenant_id=model.tenant_id),
                 delete(model).where(model.id == row_id)):
        with pytest.raises(NoTenantBound):
            db.session.execute(stmt)
    with pytest.raises(NoTenantBound):  # answered from the identity map
        db.session.get(model, row_id)
    db.session.expunge_all()
    with pytest.raises(NoTenantBound):  # answered by a query
        db.session.get(model, row_id)


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_adding_a_row_with_no_tenant_bound_raises(db, t, model):
    with tenant_scope(t.bjm):
        obj = FACTORIES[model.__name__](20_000)
    obj.tenant_id = None
    db.session.add(obj)
    with pytest.raises(NoTenantBound):
        db.session.flush()
    db.session.rollback()


def test_a_scoped_table_in_a_subquery_of_a_platform_query_needs_a_tenant(db, t):
    from app.accounts.models import User
    from app.tenancy.models import Tenant

    stmt = select(Tenant.slug).where(sa.exists(select(User.id).where(User.tenant_id == Tenant.id)))
    with pytest.raises(NoTenantBound):
        db.session.execute(stmt)


def test_platform_tables_need_no_tenant(db, t):
    from app.tenancy.models import Tenant

    assert set(db.session.scalars(select(Tenant.slug))) >= {"banjarmasin", "katingan"}


# ------------------------------------------------------------------ the database refuses cross-tenant links


@pytest.mark.parametrize(("model", "fk"), TENANT_FKS)
def test_database_refuses_a_reference_to_another_tenants_row(db, t, model, fk):
    target_model = SCOPED_TABLES[fk.referred_table.name]
    (column,) = [c for c in fk.columns if c.name != "tenant_id"]
    with tenant_scope(t.bjm):
        target_id = make(target_model).id
    with tenant_scope(t.ktg):
        source = FACTORIES[model.__name__](30_000)  # a valid Katingan row ...
        setattr(source, model.__mapper__.get_property_by_column(column).key, target_id)  # ... pointing to Banjarmasin
        db.session.add(source)
        with pytest.raises(IntegrityError):
            with db.session.begin_nested():
                db.session.flush()


def test_raw_insert_of_a_katingan_liaison_with_a_banjarmasin_agency_is_refused(db, t):
    from app.agencies.models import Agency

    with tenant_scope(t.bjm):
        bjm_agency = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
    sql = sa.text(
        "INSERT INTO user_account (tenant_id, email, name, role, agency_id, is_unit_head, session_nonce, active,"
        " created_at) VALUES (:t, 'x@katingan.test', 'X', 'liaison', :a, false, 'n', true, CURRENT_TIMESTAMP)"
    )
    # In Katingan's scope, so that on PostgreSQL row-level security lets the row through to the foreign key.
    with tenant_scope(t.ktg), pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(sql, {"t": t.ktg, "a": bjm_agency})
    with tenant_scope(t.ktg):  # the same statement with Katingan's own agency works
        ktg_agency = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
        db.session.execute(sql, {"t": t.ktg, "a": ktg_agency})


# ------------------------------------------------------------------ schema rules, checked on the migrated database


@pytest.fixture()
def inspector(db):
    return sa.inspect(db.session.connection())


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_tenant_id_is_not_null_and_tenant_id_id_is_unique(inspector, model):
    table = model.__table__.name
    cols = {c["name"]: c for c in inspector.get_columns(table)}
    assert "tenant_id" in cols and cols["tenant_id"]["nullable"] is False
    uniques = [u["column_names"] for u in inspector.get_unique_constraints(table)]
    uniques += [i["column_names"] for i in inspector.get_indexes(table) if i["unique"]]
    assert ["tenant_id", "id"] in uniques, f"{table} needs UNIQUE (tenant_id, id) for composite foreign keys"


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_foreign_keys_to_tenant_owned_tables_include_tenant_id(inspector, model):
    table = model.__table__.name
    for fk in inspector.get_foreign_keys(table):
        if fk["referred_table"] not in SCOPED_TABLES:
            continue
        pairs = dict(zip(fk["constrained_columns"], fk["referred_columns"], strict=True))
        assert pairs.get("tenant_id") == "tenant_id", (
            f"{table}.{fk['constrained_columns']} → {fk['referred_table']} must be a composite key with tenant_id")


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_unique_constraints_and_composite_indexes_start_with_tenant_id(inspector, model):
    table = model.__table__.name
    keys = [u["column_names"] for u in inspector.get_unique_constraints(table)]
    keys += [i["column_names"] for i in inspector.get_indexes(table) if i["unique"] or len(i["column_names"]) > 1]
    bad = [k for k in keys if k[0] != "tenant_id"]
    assert not bad, f"{table}: unique constraints and composite indexes must lead with tenant_id: {bad}"


@pytest.mark.parametrize("model", MODELS, ids=_ids)
def test_relationships_between_tenant_owned_models_join_on_tenant_id(model):
    for rel in model.__mapper__.relationships:
        if not issubclass(rel.mapper.class_, TenantScoped):
            continue
        cols = {(c.table.name, c.name) for c in sa.sql.visitors.iterate(rel.primaryjoin) if isinstance(c, sa.Column)}
        assert {(model.__table__.name, "tenant_id"), (rel.target.name, "tenant_id")} <= cols, (
            f"{model.__name__}.{rel.key} must join on tenant_id as well")


# ------------------------------------------------------------------ who may read across tenants

_ALL_TENANTS_USE = re.compile(r"all_tenants_options\s*\(|all_tenants\s*=\s*True|[\"']all_tenants[\"']")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def test_only_allowed_modules_read_across_tenants():
    users = {_module_name(p) for p in (REPO / "app").rglob("*.py") if _ALL_TENANTS_USE.search(p.read_text())}
    assert "app.central.comparison" in users  # the pattern finds real uses
    intruders = sorted(users - set(ALL_TENANTS_ALLOWED) - {"app.tenancy.scope"})
    assert not intruders, f"cross-tenant reads outside ALL_TENANTS_ALLOWED: {intruders}"


def test_all_tenants_options_refuses_a_module_that_is_not_allowed():
    with pytest.raises(CrossTenantWrite):
        all_tenants_options()


#: views*.py files allowed to run raw SQL, with the reason.
RAW_SQL_IN_VIEWS: dict[str, str] = {}


def test_views_build_no_raw_sql_and_use_no_legacy_model_query():
    offenders = []
    for path in (REPO / "app").rglob("views*.py"):
        name, text = str(path.relative_to(REPO)), path.read_text()
        raw_sql = re.search(r"\btext\s*\(", text) and name not in RAW_SQL_IN_VIEWS
        if raw_sql or re.search(r"\b[A-Z]\w*\.query\b", text):
            offenders.append(name)
    assert not offenders, f"views must call services, not raw SQL or Model.query: {offenders}"

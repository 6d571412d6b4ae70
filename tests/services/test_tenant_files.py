"""tenants/_template < tenants/<slug>/: merging, validation that names file and field, idempotent sync."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.agencies.models import Agency, Category
from app.notifications.models import MessageTemplate
from app.tenancy.files import TenantConfigError, load_tenant_config, sync_all, sync_tenant
from app.tenancy.models import Tenant, TenantDomain
from app.tenancy.scope import tenant_scope

REPO = Path(__file__).resolve().parents[2]
TENANTS = REPO / "tenants"


@pytest.fixture()
def tenants_copy(tmp_path) -> Path:
    """A scratch copy of tenants/ to break."""
    target = tmp_path / "tenants"
    shutil.copytree(TENANTS, target)
    return target


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + "\n" + text + "\n")


def _add_to_branding(path: Path, line: str) -> None:
    path.write_text(path.read_text().replace("[branding]\n", f"[branding]\n{line}\n", 1))


def _counts(db, tenant_id: int) -> dict:
    with tenant_scope(tenant_id):
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Agency, Category, MessageTemplate)
        } | {"domains": db.session.scalar(select(func.count(TenantDomain.id)).filter_by(tenant_id=tenant_id))}


# ------------------------------------------------------------------ merging


def test_banjarmasin_adds_an_agency_and_overrides_a_template_agency():
    cfg = load_tenant_config(TENANTS, "banjarmasin")
    agencies = {a["code"]: a for a in cfg.agencies}
    assert "humpro" in agencies
    assert agencies["pupr"]["name"] == "Dinas Pekerjaan Umum dan Penataan Ruang Kota Banjarmasin"
    assert agencies["pupr"]["short_name"] == "Dinas PUPR"
    assert agencies["dishub"]["name"] == "Dinas Perhubungan"  # untouched template entry
    assert "dpmptsp" not in agencies


def test_katingan_adds_its_own_agency_and_keeps_the_template_names():
    cfg = load_tenant_config(TENANTS, "katingan")
    agencies = {a["code"]: a for a in cfg.agencies}
    assert "dpmptsp" in agencies and "humpro" not in agencies
    assert agencies["pupr"]["name"] == "Dinas Pekerjaan Umum dan Penataan Ruang"


def test_both_regions_get_the_template_categories_messages_and_deadlines():
    template_codes = {"jalan", "drainase", "parkir", "pkl", "adminduk", "kesehatan", "sampah", "pendidikan",
                      "bansos", "lainnya"}
    for slug in ("banjarmasin", "katingan"):
        cfg = load_tenant_config(TENANTS, slug)
        assert {c["code"] for c in cfg.categories} >= template_codes
        assert "password_reset" in cfg.messages
        assert cfg.settings["deadlines"] == {"verification": 3, "coordination": 5, "auto_close": 10}
        assert cfg.settings["classes"]["pengaduan"]["followup_days"] == 14


def test_region_settings_and_branding_override_the_template_key_by_key():
    cfg = load_tenant_config(TENANTS, "banjarmasin")
    assert cfg.settings["sender_name"].startswith("Lapor Baiman")
    assert cfg.settings["due_soon_working_days"] == 1  # from the template
    assert cfg.branding == {"primary_color": "#00695c", "tagline": "Kota Seribu Sungai mendengar Anda"}
    assert cfg.tenant["timezone"] == "Asia/Makassar"


def test_synced_rows_follow_the_merged_files(db, bjm, ktg):
    with tenant_scope(bjm.id):
        bjm_agencies = {a.code: a for a in db.session.scalars(select(Agency))}
        jalan = db.session.scalars(select(Category).filter_by(code="jalan")).one()
        assert jalan.default_agency.code == "pupr"
        assert jalan.default_agency.name.endswith("Kota Banjarmasin")
    with tenant_scope(ktg.id):
        ktg_agencies = {a.code for a in db.session.scalars(select(Agency))}
    assert "humpro" in bjm_agencies and "humpro" not in ktg_agencies
    assert "dpmptsp" in ktg_agencies and "dpmptsp" not in bjm_agencies
    assert [d.host for d in bjm.domains] == ["lapor.banjarmasinkota.go.id"]


# ------------------------------------------------------------------ sync is idempotent


def test_syncing_twice_changes_nothing(db, bjm, ktg):
    before = {t.slug: _counts(db, t.id) for t in (bjm, ktg)}
    ids = {t.slug: t.id for t in (bjm, ktg)}
    again = sync_all(TENANTS)
    db.session.commit()
    assert {t.slug: t.id for t in again} == ids
    assert {slug: _counts(db, tid) for slug, tid in ids.items()} == before
    assert db.session.scalar(select(func.count(Tenant.id)).where(Tenant.slug.in_(ids))) == 2


def test_sync_updates_changed_rows_in_place(db, bjm, tenants_copy):
    path = tenants_copy / "banjarmasin" / "agencies.toml"
    path.write_text(path.read_text().replace('short_name = "Humpro"', 'short_name = "Humas"'))
    before = _counts(db, bjm.id)
    sync_tenant(load_tenant_config(tenants_copy, "banjarmasin"))
    db.session.commit()
    assert _counts(db, bjm.id) == before
    with tenant_scope(bjm.id):
        assert db.session.scalars(select(Agency.short_name).filter_by(code="humpro")).one() == "Humas"


def test_sync_removes_a_domain_dropped_from_the_file(db, bjm, tenants_copy):
    path = tenants_copy / "banjarmasin" / "tenant.toml"
    path.write_text(path.read_text().replace('domains = ["lapor.banjarmasinkota.go.id"]',
                                             'domains = ["LAPOR.Banjarmasin.example"]'))
    sync_tenant(load_tenant_config(tenants_copy, "banjarmasin"))
    db.session.commit()
    hosts = db.session.scalars(select(TenantDomain.host).filter_by(tenant_id=bjm.id)).all()
    assert hosts == ["lapor.banjarmasin.example"]


# ------------------------------------------------------------------ validation names the file and the field


def _error(tenants_dir: Path, slug: str) -> TenantConfigError:
    with pytest.raises(TenantConfigError) as err:
        load_tenant_config(tenants_dir, slug)
    return err.value


def test_unknown_key_names_the_file_and_the_field(tenants_copy):
    _append(tenants_copy / "banjarmasin" / "tenant.toml", '[settings.deadlines]\nverifikasi = 3')
    err = _error(tenants_copy, "banjarmasin")
    assert err.path == str(tenants_copy / "banjarmasin" / "tenant.toml")
    assert err.field == "settings.deadlines.verifikasi"
    assert err.problem == "unknown key"
    assert str(err).startswith(f"{tenants_copy / 'banjarmasin' / 'tenant.toml'}: settings.deadlines.verifikasi")


def test_unknown_key_in_an_agency_names_its_position(tenants_copy):
    _append(tenants_copy / "katingan" / "agencies.toml", '[[agency]]\ncode = "bappeda"\nname = "Bappeda"\nkepala = "X"')
    err = _error(tenants_copy, "katingan")
    assert err.path.endswith("katingan/agencies.toml") and err.field == "agency[1].kepala"


def test_unknown_key_in_the_template_names_the_template_file(tenants_copy):
    _add_to_branding(tenants_copy / "_template" / "tenant.toml", 'font = "Comic Sans"')
    err = _error(tenants_copy, "katingan")
    assert err.path.endswith("_template/tenant.toml") and err.field == "branding.font"


@pytest.mark.parametrize(("zone", "problem"), [
    ("Asia/Atlantis", "is not an IANA time zone"),
    ("Europe/Berlin", "must be an Indonesian zone (WIB, WITA, WIT)"),
])
def test_bad_timezone_is_refused(tenants_copy, zone, problem):
    path = tenants_copy / "katingan" / "tenant.toml"
    path.write_text(path.read_text().replace('"Asia/Pontianak"', f'"{zone}"'))
    err = _error(tenants_copy, "katingan")
    assert err.path.endswith("katingan/tenant.toml") and err.field == "tenant.timezone" and err.problem == problem


def test_category_with_an_unknown_agency_code_is_refused(tenants_copy):
    (tenants_copy / "katingan" / "categories.toml").write_text(
        '[[category]]\ncode = "sungai"\nname_id = "Sungai"\nname_en = "Rivers"\nagency = "dinas-sungai"\n')
    err = _error(tenants_copy, "katingan")
    assert err.path.endswith("katingan/categories.toml")
    assert err.field.startswith("category[") and err.field.endswith("].agency")
    assert "dinas-sungai" in err.problem


def test_an_agency_of_another_region_is_unknown_here(tenants_copy):
    (tenants_copy / "katingan" / "categories.toml").write_text(
        '[[category]]\ncode = "humas"\nname_id = "Humas"\nname_en = "PR"\nagency = "humpro"\n')
    assert "humpro" in _error(tenants_copy, "katingan").problem


@pytest.mark.parametrize(("old", "new", "field"), [
    ('verification = 3', 'verification = -1', "settings.deadlines.verification"),
    ('slug = "katingan"', 'slug = "kasongan"', "tenant.slug"),
    ('type = "kabupaten"', 'type = "desa"', "tenant.type"),
    ('status = "active"', 'status = "closed"', "tenant.status"),
    ('region_code = "62.06"\n', '', "tenant.region_code"),
    ('local_holidays = []', 'local_holidays = [{ date = "24 Sept", name = "Hari Jadi" }]',
     "settings.local_holidays[0].date"),
])
def test_invalid_values_are_refused_with_their_field(tenants_copy, old, new, field):
    for path in (tenants_copy / "katingan" / "tenant.toml", tenants_copy / "_template" / "tenant.toml"):
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, new))
            break
    else:
        pytest.fail(f"{old!r} not found")
    assert _error(tenants_copy, "katingan").field == field


def test_toml_syntax_error_names_the_file(tenants_copy):
    _append(tenants_copy / "katingan" / "agencies.toml", "[[agency]\ncode = ")
    err = _error(tenants_copy, "katingan")
    assert err.path.endswith("katingan/agencies.toml") and err.field == "(syntax)"


def test_sync_all_writes_nothing_when_one_region_is_invalid(db, tenants, tenants_copy):
    shutil.copytree(tenants_copy / "katingan", tenants_copy / "kapuas")
    kapuas = tenants_copy / "kapuas" / "tenant.toml"
    kapuas.write_text(kapuas.read_text().replace('"katingan"', '"kapuas"').replace('"62.06"', '"62.03"')
                      .replace('"KTG"', '"KPS"'))
    _add_to_branding(tenants_copy / "katingan" / "tenant.toml", "font = 1")
    with pytest.raises(TenantConfigError):
        sync_all(tenants_copy)
    assert db.session.scalars(select(Tenant).filter_by(slug="kapuas")).first() is None


# ------------------------------------------------------------------ the command


def test_cli_sync_reports_file_and_field_and_exits_1(app, db, tenants_copy):
    _add_to_branding(tenants_copy / "katingan" / "tenant.toml", "font = 1")
    result = app.test_cli_runner().invoke(args=["tenants", "sync", "--dir", str(tenants_copy)])
    assert result.exit_code == 1
    assert str(tenants_copy / "katingan" / "tenant.toml") in result.output
    assert "branding.font" in result.output and "unknown key" in result.output


def test_cli_sync_of_a_valid_folder_lists_the_regions(app, db, tenants_copy):
    result = app.test_cli_runner().invoke(args=["tenants", "sync", "--dir", str(tenants_copy)])
    assert result.exit_code == 0, result.output
    assert "synced banjarmasin" in result.output and "synced katingan" in result.output
    assert set(db.session.scalars(select(Tenant.slug))) >= {"banjarmasin", "katingan"}

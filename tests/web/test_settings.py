"""Tenant settings after go-live: only the region's administrators may change them, every change is
audited with before and after, and nothing reaches another region."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.accounts.audit import Action, SecurityEvent
from app.accounts.models import Role, User
from app.agencies.models import Agency, Category
from app.deadlines.calendar import calendar_for_tenant
from app.deadlines.policy import stage_days
from app.notifications.models import Notification
from app.onboarding.models import TenantAuditEvent
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope
from tests.conftest import login
from tests.web.citizen_support import huge_png_bytes

S = "/banjarmasin/staff/settings"


def _client(app, tenant, user):
    client = app.test_client()
    assert login(client, tenant, user.email).status_code == 302
    return client


@pytest.fixture()
def admin(bjm, make_user):
    return make_user(bjm, Role.TENANT_ADMIN, name="Novri Gitayanti")


@pytest.fixture()
def admin_client(app, bjm, admin):
    return _client(app, bjm, admin)


def _events(db, tenant, kind: str | None = None) -> list[TenantAuditEvent]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        stmt = select(TenantAuditEvent).order_by(TenantAuditEvent.id)
        if kind:
            stmt = stmt.filter_by(kind=kind)
        return list(db.session.scalars(stmt))


def _id(db, tenant, model, **by) -> int:
    with tenant_scope(tenant.id):
        return db.session.execute(select(model.id).filter_by(**by)).scalar_one()


def _settings_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("tenant.settings.")]


def _url(rule, ids: dict) -> str:
    url = rule.rule.replace("<tenant>", "banjarmasin")
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value))
    return url


@pytest.mark.parametrize("role", [Role.OFFICER, Role.LIAISON])
def test_officers_and_liaisons_get_403_on_every_settings_page_and_change_nothing(app, db, bjm, make_user, role):
    client = _client(app, bjm, make_user(bjm, role))
    ids = {"agency_id": _id(db, bjm, Agency, code="pupr"), "category_id": _id(db, bjm, Category, code="jalan"),
           "user_id": _id(db, bjm, User, role=role)}
    rules = _settings_rules(app)
    assert len(rules) >= 12
    for rule in rules:
        for method in sorted(rule.methods & {"GET", "POST"}):
            resp = client.open(_url(rule, ids), method=method, data={"edit-name": "Diubah", "edit-active": "y"})
            assert resp.status_code == 403, f"{method} {rule.rule}"
    assert _events(db, bjm) == []
    with tenant_scope(bjm.id):
        assert db.session.get(Agency, ids["agency_id"]).name != "Diubah"


def test_a_katingan_admin_gets_nothing_of_banjarmasin_settings(app, db, bjm, ktg, make_user):
    client = _client(app, ktg, make_user(ktg, Role.TENANT_ADMIN))
    assert client.get("/katingan/staff/settings/agencies").status_code == 200  # at home: allowed
    for path in ("/", "/agencies", "/audit", "/deadlines"):
        resp = client.get(S + path)
        assert resp.status_code == 302 and "/banjarmasin/login" in resp.headers["Location"]
    resp = client.post(S + "/agencies", data={"agency-code": "asing", "agency-name": "Dinas Asing"})
    assert resp.status_code == 302
    # Banjarmasin's agency id through Katingan's own settings: the same 404 as a missing one.
    pupr = _id(db, bjm, Agency, code="pupr")
    assert client.get(f"/katingan/staff/settings/agencies/{pupr}").status_code == 404
    assert client.post(f"/katingan/staff/settings/agencies/{pupr}",
                       data={"edit-name": "Diambil alih", "edit-active": "y"}).status_code == 404
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(Agency.id)).filter_by(code="asing")) == 0
        assert db.session.get(Agency, pupr).name != "Diambil alih"
    assert _events(db, bjm) == []


def test_branding_change_is_audited_with_before_and_after(app, db, bjm, admin, admin_client):
    resp = admin_client.post(S + "/branding", data={
        "branding-service_name": "Lapor Baiman Baru", "branding-tagline": "Kami mendengar",
        "branding-primary_color": "#AA3300"})
    assert resp.status_code == 303
    [event] = _events(db, bjm, "branding.updated")
    assert event.actor_id == admin.id and event.actor_label == "Novri Gitayanti"
    assert event.before["service_name"] == "Lapor Baiman" and event.before["primary_color"] == "#00695c"
    assert event.after == {"service_name": "Lapor Baiman Baru", "tagline": "Kami mendengar",
                           "primary_color": "#aa3300"}
    assert "Lapor Baiman Baru" in app.test_client().get("/banjarmasin/").text
    bad = admin_client.post(S + "/branding", data={
        "branding-service_name": "X", "branding-tagline": "", "branding-primary_color": "merah!!"})
    assert bad.status_code == 400
    assert len(_events(db, bjm, "branding.updated")) == 1


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (40, 20), (0, 105, 92))
    exif = Image.Exif()
    exif[0x8825] = {1: "S", 2: (3.0, 19.0, 0.0)}  # GPSInfo
    exif[0x010F] = "KameraMerek"  # Make
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.usefixtures("storage_backend")
def test_logo_upload_checks_the_content_strips_metadata_and_is_served_publicly(app, db, bjm, admin_client):
    data = _jpeg_with_gps()
    assert b"KameraMerek" in data
    resp = admin_client.post(S + "/branding/logo", data={"logo-logo": (io.BytesIO(data), "logo.jpg")},
                             content_type="multipart/form-data")
    assert resp.status_code == 303
    served = app.test_client().get("/banjarmasin/logo")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"KameraMerek" not in served.data
    assert not Image.open(io.BytesIO(served.data)).getexif()
    [event] = _events(db, bjm, "branding.logo_updated")
    assert event.before == {"logo_file": None} and event.after["logo_file"].startswith(f"{bjm.id}/branding/")
    assert app.test_client().get("/katingan/logo").status_code == 404  # the other region has none

    fake = admin_client.post(S + "/branding/logo", data={"logo-logo": (io.BytesIO(b"<svg onload=x>"), "x.png")},
                             content_type="multipart/form-data")
    pdf = admin_client.post(S + "/branding/logo", data={"logo-logo": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")},
                            content_type="multipart/form-data")
    assert fake.status_code == 400 and pdf.status_code == 400
    # A logo of 30 Mpx in a few KB is refused from its header, before decoding (as complaint photos are).
    huge = admin_client.post(S + "/branding/logo", data={"logo-logo": (io.BytesIO(huge_png_bytes()), "besar.png")},
                             content_type="multipart/form-data")
    assert huge.status_code == 400 and "Foto terlalu besar (30 megapiksel; paling banyak 24)" in huge.text
    assert len(_events(db, bjm, "branding.logo_updated")) == 1

    assert admin_client.post(S + "/branding/logo/remove").status_code == 303
    assert app.test_client().get("/banjarmasin/logo").status_code == 404
    assert [e.kind for e in _events(db, bjm)][-1] == "branding.logo_removed"


def test_agencies_are_added_renamed_deactivated_and_get_liaisons_with_audit(app, db, bjm, make_user, admin_client):
    resp = admin_client.post(S + "/agencies", data={
        "agency-code": "bpbd", "agency-name": "Badan Penanggulangan Bencana Daerah", "agency-short_name": "BPBD"})
    assert resp.status_code == 303
    bpbd = _id(db, bjm, Agency, code="bpbd")
    assert resp.headers["Location"].endswith(f"/agencies/{bpbd}")
    assert admin_client.post(S + "/agencies", data={"agency-code": "bpbd", "agency-name": "Lagi"}).status_code == 400

    officer = make_user(bjm, Role.OFFICER, name="Rahmadi Noor")
    resp = admin_client.post(f"{S}/agencies/{bpbd}/liaison", data={"liaison-user_id": str(officer.id)})
    assert resp.status_code == 303
    db.session.expire_all()
    with tenant_scope(bjm.id):
        moved = db.session.get(User, officer.id)
        assert (moved.role, moved.agency_id) == (Role.LIAISON, bpbd)
    assert "Rahmadi Noor" in admin_client.get(S + "/agencies").text

    assert admin_client.post(f"{S}/agencies/{bpbd}", data={
        "edit-name": "BPBD Kota Banjarmasin", "edit-short_name": "BPBD"}).status_code == 303  # active unticked
    with tenant_scope(bjm.id):
        assert db.session.get(Agency, bpbd).active is False
    kinds = [e.kind for e in _events(db, bjm)]
    assert kinds == ["agency.created", "liaison.assigned", "agency.updated"]
    updated = _events(db, bjm, "agency.updated")[0]
    assert updated.before["active"] is True and updated.after["active"] is False
    assert updated.after["name"] == "BPBD Kota Banjarmasin"
    liaison = _events(db, bjm, "liaison.assigned")[0]
    assert liaison.before == {"user_id": officer.id, "role": "officer", "agency_id": None}


def test_an_agency_that_categories_route_to_cannot_be_deactivated(app, db, bjm, admin_client):
    pupr = _id(db, bjm, Agency, code="pupr")
    resp = admin_client.post(f"{S}/agencies/{pupr}", data={"edit-name": "Dinas PUPR", "edit-short_name": "PUPR"})
    assert resp.status_code == 400
    with tenant_scope(bjm.id):
        assert db.session.get(Agency, pupr).active is True
    assert _events(db, bjm) == []


def test_categories_are_added_and_rerouted_but_never_to_another_regions_agency(app, db, bjm, ktg, admin_client):
    dishub = _id(db, bjm, Agency, code="dishub")
    ktg_pupr = _id(db, ktg, Agency, code="pupr")
    resp = admin_client.post(S + "/categories", data={
        "category-code": "banjir", "category-name_id": "Banjir dan genangan", "category-name_en": "Flooding",
        "category-default_agency_id": str(ktg_pupr)})
    assert resp.status_code == 400  # Katingan's agency id is "not an agency" here
    resp = admin_client.post(S + "/categories", data={
        "category-code": "banjir", "category-name_id": "Banjir dan genangan", "category-name_en": "Flooding",
        "category-default_agency_id": str(dishub)})
    assert resp.status_code == 303
    banjir = _id(db, bjm, Category, code="banjir")
    pupr = _id(db, bjm, Agency, code="pupr")
    assert admin_client.post(f"{S}/categories/{banjir}", data={
        "edit-name_id": "Banjir", "edit-name_en": "Flooding", "edit-default_agency_id": str(pupr),
        "edit-active": "y"}).status_code == 303
    with tenant_scope(bjm.id):
        assert db.session.get(Category, banjir).default_agency_id == pupr
    created, updated = _events(db, bjm)
    assert created.kind == "category.created" and created.after["default_agency_id"] == dishub
    assert updated.kind == "category.updated"
    assert updated.before["default_agency_id"] == dishub and updated.after["default_agency_id"] == pupr


def _deadline_form(**overrides) -> dict:
    data = {"verification": 3, "coordination": 5, "auto_close": 10, "due_soon": 1, "reopen_window": 10,
            "followup_aspirasi": 5, "followup_informasi": 5, "followup_pengaduan": 14, "followup_pengawasan": 60}
    data.update(overrides)
    return {f"deadlines-{k}": str(v) for k, v in data.items()}


def test_deadlines_change_the_policy_and_are_audited(app, db, bjm, admin_client):
    resp = admin_client.post(S + "/deadlines", data=_deadline_form(verification=5, followup_pengaduan=10))
    assert resp.status_code == 303
    db.session.expire_all()
    tenant = db.session.get(Tenant, bjm.id)
    assert stage_days(tenant.settings, "verification") == 5
    assert stage_days(tenant.settings, "followup", "pengaduan") == 10
    [event] = _events(db, bjm, "settings.deadlines_updated")
    assert event.before["deadlines"]["verification"] == 3 and event.after["deadlines"]["verification"] == 5
    assert event.before["followup_days"]["pengaduan"] == 14 and event.after["followup_days"]["pengaduan"] == 10

    for bad in ({"verification": 0}, {"followup_pengawasan": 500}, {"due_soon": -1}):
        assert admin_client.post(S + "/deadlines", data=_deadline_form(**bad)).status_code == 400
    assert len(_events(db, bjm, "settings.deadlines_updated")) == 1


def test_local_holidays_are_added_and_removed_and_the_calendar_follows(app, db, bjm, admin_client):
    day = date(2026, 9, 24)  # a Thursday: Hari Jadi Kota Banjarmasin
    assert calendar_for_tenant(bjm).is_working_day(day)
    resp = admin_client.post(S + "/holidays", data={"holiday-date": day.isoformat(),
                                                    "holiday-name": "Hari Jadi Kota Banjarmasin"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert not calendar_for_tenant(db.session.get(Tenant, bjm.id)).is_working_day(day)
    assert admin_client.post(S + "/holidays", data={"holiday-date": day.isoformat(),
                                                    "holiday-name": "Lagi"}).status_code == 400
    assert admin_client.post(S + "/holidays/remove", data={"date": day.isoformat()}).status_code == 303
    db.session.expire_all()
    assert calendar_for_tenant(db.session.get(Tenant, bjm.id)).is_working_day(day)
    added, removed = _events(db, bjm)
    assert added.kind == "settings.holiday_added" and added.after["local_holidays"][-1]["date"] == "2026-09-24"
    assert removed.kind == "settings.holiday_removed" and removed.after["local_holidays"] == []


def test_staff_are_invited_with_a_link_and_can_be_deactivated(app, db, bjm, make_user, admin, admin_client):
    dinkes = _id(db, bjm, Agency, code="dinkes")
    resp = admin_client.post(S + "/staff/invite", data={
        "invite-name": "dr. Raudah", "invite-email": "raudah@banjarmasinkota.go.id", "invite-role": "liaison",
        "invite-agency_id": str(dinkes)})
    assert resp.status_code == 303
    with tenant_scope(bjm.id):
        invited = db.session.execute(select(User).filter_by(email="raudah@banjarmasinkota.go.id")).scalar_one()
        note = db.session.execute(
            select(Notification).filter_by(event_key=f"user:{invited.id}:invitation")).scalar_one()
    assert invited.password_hash is None and invited.agency_id == dinkes
    assert "/banjarmasin/password/reset/" in note.body

    officer = make_user(bjm, Role.OFFICER)
    officer_client = _client(app, bjm, officer)
    assert admin_client.post(f"{S}/staff/{officer.id}/active", data={"active": "0"}).status_code == 303
    assert officer_client.get("/banjarmasin/staff/").status_code == 302  # the open session ended
    assert login(app.test_client(), bjm, officer.email).status_code != 302
    resp = admin_client.post(f"{S}/staff/{admin.id}/active", data={"active": "0"})
    assert resp.status_code == 303
    db.session.expire_all()
    with tenant_scope(bjm.id):
        assert db.session.get(User, admin.id).active is True  # not oneself
    kinds = [e.kind for e in _events(db, bjm)]
    assert kinds == ["staff.invited"]  # account changes go to the one security log (accounts.services.set_active)
    with tenant_scope(bjm.id):
        deactivations = db.session.scalars(select(SecurityEvent).filter_by(action=Action.USER_DEACTIVATED)).all()
    assert [(e.user_id, e.by_user_id) for e in deactivations] == [(officer.id, admin.id)]


def test_the_change_log_lists_this_regions_changes_only(app, db, bjm, ktg, admin_client):
    admin_client.post(S + "/holidays", data={"holiday-date": "2026-09-24", "holiday-name": "Hari Jadi Kota"})
    with tenant_scope(ktg.id):
        db.session.add(TenantAuditEvent(kind="agency.created", actor_label="Supardi Egal",
                                        after={"name": "Dinas Rahasia Katingan"}))
        db.session.commit()
    page = admin_client.get(S + "/audit?lang=en")
    assert page.status_code == 200
    assert "Hari Jadi Kota" in page.text and "settings.holiday_added" in page.text
    assert "Dinas Rahasia Katingan" not in page.text and "Supardi Egal" not in page.text


def test_the_onboarding_checklist_links_to_the_settings_pages(app, db, bjm, admin_client):
    page = admin_client.get("/banjarmasin/staff/onboarding/").text
    for path in ("/branding", "/agencies", "/categories", "/deadlines", "/staff", "/audit"):
        assert f'href="{S}{path}"' in page


def test_a_resync_from_the_files_keeps_what_the_admin_changed(app, db, bjm, ktg, admin_client):
    from app.tenancy.files import load_tenant_config, sync_tenant
    from tests.conftest import REPO

    pupr = _id(db, bjm, Agency, code="pupr")
    admin_client.post(S + "/branding", data={"branding-service_name": "Lapor Baiman Baru",
                                             "branding-tagline": "Baru", "branding-primary_color": "#112233"})
    admin_client.post(S + "/deadlines", data=_deadline_form(verification=4))
    admin_client.post(S + "/holidays", data={"holiday-date": "2026-09-24", "holiday-name": "Hari Jadi Kota"})
    admin_client.post(f"{S}/agencies/{pupr}", data={"edit-name": "Dinas PUPR Banjarmasin", "edit-short_name": "PUPR",
                                                    "edit-active": "y"})
    db.session.expire_all()
    sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
    sync_tenant(load_tenant_config(REPO / "tenants", "katingan"))
    db.session.commit()
    db.session.expire_all()
    tenant = db.session.get(Tenant, bjm.id)
    assert tenant.service_name == "Lapor Baiman Baru" and tenant.branding["primary_color"] == "#112233"
    assert stage_days(tenant.settings, "verification") == 4
    assert tenant.settings["local_holidays"] == [{"date": "2026-09-24", "name": "Hari Jadi Kota"}]
    with tenant_scope(bjm.id):
        assert db.session.get(Agency, pupr).name == "Dinas PUPR Banjarmasin"
        # What the admin did not touch still follows the files.
        assert db.session.execute(select(Agency.name).filter_by(code="dishub")).scalar_one() == "Dinas Perhubungan"
    other = db.session.get(Tenant, ktg.id)
    assert other.service_name == "Lapor Katingan" and stage_days(other.settings, "verification") == 3

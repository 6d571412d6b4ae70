"""A region applies, a central administrator approves (template or a peer's set-up), the official is invited,
completes the checklist and goes live; before that the public portal accepts nothing."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.accounts.services import create_platform_admin
from app.agencies.models import Agency, Category
from app.complaints import service as complaint_service
from app.complaints.models import Complaint, ComplaintEvent, ResponseTemplate
from app.extensions import db as _db
from app.notifications.models import MessageTemplate, Notification
from app.onboarding import service
from app.onboarding.models import PlatformMessage, TenantApplication, TenantAuditEvent
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope
from tests.conftest import central_login, login
from tests.factories import make
from tests.web.citizen_support import form_data

CENTRAL_PASSWORD = "central-password-1"  # noqa: S105


def text_in(app, msgid: str, locale: str = "id", **kw) -> str:
    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(msgid, **kw)))


def application_data(**overrides) -> dict:
    data = {
        "name": "Pemerintah Kabupaten Kapuas", "type": "kabupaten", "province": "Kalimantan Tengah",
        "region_code": "62.03", "population": "410000", "timezone": "Asia/Pontianak",
        "official_name": "Rahmawati Saputri", "official_position": "Kepala Bagian Organisasi",
        "official_email": "organisasi@kapuaskab.go.id", "official_phone": "0813 4567 8901",
        "slug": "kapuas", "suggested_peer": "",
    }
    data.update(overrides)
    return data


@pytest.fixture()
def central(app, db, tenants):
    admin = create_platform_admin("pusat@lapor.example", "Dewi Pusat", CENTRAL_PASSWORD)
    db.session.commit()
    client = app.test_client()
    resp = central_login(client, admin.email, CENTRAL_PASSWORD)
    assert resp.status_code == 302
    return client


def _applications(db) -> list[TenantApplication]:
    return list(db.session.scalars(select(TenantApplication).order_by(TenantApplication.id)))


def _apply(client, **overrides):
    return client.post("/daftar", data=application_data(**overrides))


@pytest.fixture()
def applied(db, client, central):
    assert _apply(client).status_code == 303
    return _applications(db)[-1]


@pytest.fixture()
def kapuas(db, bjm, central, applied):
    resp = central.post(f"/central/applications/{applied.id}/approve", data={"source": str(bjm.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    return db.session.scalars(select(Tenant).filter_by(slug="kapuas")).one()


def _invite_path(db, tenant: Tenant, email: str) -> str:
    with tenant_scope(tenant.id):
        note = db.session.scalars(select(Notification).filter_by(recipient=email)
                                  .where(Notification.event_key.like("%:invitation"))).one()
    return urlsplit(re.search(r"https?://\S+", note.body).group(0)).path


KAPUAS_PASSWORD = "kapuas-password-1"  # noqa: S105


def _set_password(client, path: str, password: str = KAPUAS_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def _sign_in_kapuas_admin(app, db, kapuas) -> object:
    client = app.test_client()
    path = _invite_path(db, kapuas, "organisasi@kapuaskab.go.id")
    assert _set_password(client, path).status_code == 302
    # A new tenant administrator enrols the second factor at the first sign-in.
    assert login(client, kapuas, "organisasi@kapuaskab.go.id", "kapuas-password-1").status_code == 302
    return client


# ------------------------------------------------------------------ applying


def test_application_is_stored_pending_and_every_central_admin_is_emailed(app, db, client, central):
    page = client.get("/daftar")
    assert page.status_code == 200 and '<html lang="id">' in page.text
    resp = _apply(client)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/daftar/terima-kasih")
    (row,) = _applications(db)
    assert (row.status, row.slug, row.region_code, row.tenant_id) == ("pending", "kapuas", "62.03", None)
    assert len(row.code_prefix) == 3 and row.code_prefix.startswith("K")
    thanks = client.get("/daftar/terima-kasih")
    assert thanks.status_code == 200 and "Pemerintah Kabupaten Kapuas" in thanks.text
    msg = db.session.scalars(select(PlatformMessage).filter_by(event_key=f"application:{row.id}:submitted")).one()
    assert msg.recipient == "pusat@lapor.example" and msg.status == "sent"
    assert f"/central/applications/{row.id}" in msg.body


@pytest.mark.parametrize(("field", "value", "msgid"), [
    ("slug", "banjarmasin", "This address is already taken."),
    ("slug", "central", "This address is reserved for the platform."),
    ("slug", "Kapuas Raya!", "Use 3 to 40 lower-case letters, digits and hyphens (not at the start or end)."),
    ("slug", "ka", "Use 3 to 40 lower-case letters, digits and hyphens (not at the start or end)."),
    ("region_code", "6203", "Enter the Kemendagri code as NN or NN.NN, e.g. 63 or 63.71."),
    ("region_code", "63.71", "A region with this code already uses the platform."),
    ("official_email", "not-an-email", "Enter a valid email address."),
])
def test_invalid_application_shows_a_translated_error_and_writes_nothing(app, db, client, tenants, field, value,
                                                                         msgid):
    resp = _apply(client, **{field: value})
    assert resp.status_code == 400
    assert text_in(app, msgid) in resp.text
    assert _applications(db) == []


def test_a_slug_requested_by_a_pending_application_is_not_free(app, db, client, tenants):
    assert _apply(client).status_code == 303
    resp = _apply(client, region_code="62.11", official_email="lain@kapuaskab.go.id")
    assert resp.status_code == 400
    assert text_in(app, "This address is already requested by another application.") in resp.text
    assert len(_applications(db)) == 1


def test_a_non_government_email_is_a_warning_not_an_error(app, db, client, tenants):
    resp = _apply(client, official_email="kapuas.pemkab@gmail.com")
    assert resp.status_code == 303
    assert len(_applications(db)) == 1
    warning = text_in(app, "Warning: the official email address is not on a government domain (.go.id). The central "
                           "administrator may ask you to confirm the application through an official channel.")
    assert warning in client.get("/daftar/terima-kasih").text


def test_derived_code_prefixes_are_unique():
    assert service.derive_code_prefix("katingan", taken=set()) == "KTN"
    assert service.derive_code_prefix("katingan", taken={"KTN"}) == "KTG"
    assert service.derive_code_prefix("aaa", taken={"AAA"}) == "AAB"


# ------------------------------------------------------------------ approving and provisioning


def test_approving_a_banjarmasin_clone_copies_its_set_up_but_none_of_its_data(app, db, bjm, make_user, central,
                                                                                applied):
    make_user(bjm, "officer")
    with tenant_scope(bjm.id):
        make(ResponseTemplate, title="Sudah ditindaklanjuti", body="Laporan Anda sudah kami tindak lanjuti.")
        make(Complaint)
        db.session.commit()
        bjm_agencies = sorted(db.session.scalars(select(Agency.code)))
        bjm_routing = sorted((c.code, c.default_agency.code if c.default_agency else None)
                             for c in db.session.scalars(select(Category)))
        bjm_templates = sorted(db.session.scalars(select(ResponseTemplate.title)))
        bjm_messages = sorted((m.key, m.locale, m.body) for m in db.session.scalars(select(MessageTemplate)))

    resp = central.post(f"/central/applications/{applied.id}/approve", data={"source": str(bjm.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Tenant).filter_by(slug="kapuas")).one()
    assert (new.status, new.live, new.go_live_at, new.code_prefix) == ("active", False, None, applied.code_prefix)
    assert new.settings["classes"] == bjm.settings["classes"]
    assert new.settings["deadlines"] == bjm.settings["deadlines"]
    assert new.settings["local_holidays"] == []  # a peer's local holidays are never copied
    assert new.settings["sender_name"] == "Pemerintah Kabupaten Kapuas"
    assert new.branding != bjm.branding and new.branding["primary_color"] == "#0b5394"
    assert new.service_name == "" and new.domains == []
    with tenant_scope(new.id):
        assert sorted(db.session.scalars(select(Agency.code))) == bjm_agencies
        assert sorted((c.code, c.default_agency.code if c.default_agency else None)
                      for c in db.session.scalars(select(Category))) == bjm_routing
        assert sorted(db.session.scalars(select(ResponseTemplate.title))) == bjm_templates
        assert sorted((m.key, m.locale, m.body) for m in db.session.scalars(select(MessageTemplate))) \
            == bjm_messages
        assert db.session.scalar(select(func.count(Complaint.id))) == 0
        (admin,) = db.session.scalars(select(User)).all()
        assert (admin.email, admin.role, admin.password_hash) == ("organisasi@kapuaskab.go.id", Role.TENANT_ADMIN, None)
        assert db.session.scalars(select(TenantAuditEvent.kind)).all() == ["tenant.provisioned"]
    row = db.session.get(TenantApplication, applied.id)
    assert (row.status, row.tenant_id, row.source_tenant_id, row.source) == ("approved", new.id, bjm.id, "banjarmasin")
    told = db.session.scalars(select(PlatformMessage).filter_by(event_key=f"application:{row.id}:approved")).one()
    assert told.recipient == "organisasi@kapuaskab.go.id" and "/kapuas/" in told.body


def test_approving_from_the_template_uses_tenants_template(app, db, central, applied):
    assert central.post(f"/central/applications/{applied.id}/approve", data={"source": "template"}).status_code == 302
    db.session.expire_all()
    new = db.session.scalars(select(Tenant).filter_by(slug="kapuas")).one()
    with tenant_scope(new.id):
        assert "pupr" in db.session.scalars(select(Agency.code)).all()
        assert db.session.scalar(select(func.count(ResponseTemplate.id))) == 0
        keys = set(db.session.scalars(select(MessageTemplate.key)))
    assert {"complaint_received", "invitation"} <= keys
    assert new.settings["deadlines"]["verification"] == 3


def test_provisioning_twice_creates_nothing_new_and_is_fast(app, db, bjm, applied):
    def counts(tenant_id):
        with tenant_scope(tenant_id):
            return [db.session.scalar(select(func.count(m.id))) for m in
                    (Agency, Category, ResponseTemplate, MessageTemplate, TenantAuditEvent)]

    with app.test_request_context():
        started = time.perf_counter()
        first = service.provision_tenant(applied, bjm)
        elapsed = time.perf_counter() - started
        before = counts(first.id)
        second = service.provision_tenant(applied, bjm)
    assert second.id == first.id and counts(first.id) == before
    assert db.session.scalar(select(func.count(Tenant.id)).filter_by(slug="kapuas")) == 1
    assert elapsed < 1.0


def test_a_decided_application_cannot_be_approved_again(app, db, bjm, central, kapuas, applied):
    resp = central.post(f"/central/applications/{applied.id}/approve", data={"source": "template"})
    assert resp.status_code == 302
    assert db.session.scalar(select(func.count(Tenant.id))) == 3


def test_rejecting_tells_the_applicant_the_reason(app, db, central, applied):
    page = central.get(f"/central/applications/{applied.id}")
    assert page.status_code == 200 and "organisasi@kapuaskab.go.id" in page.text
    resp = central.post(f"/central/applications/{applied.id}/reject",
                        data={"reason": "Kode wilayah tidak sesuai dengan Permendagri."})
    assert resp.status_code == 302
    db.session.expire_all()
    row = db.session.get(TenantApplication, applied.id)
    assert (row.status, row.tenant_id) == ("rejected", None)
    msg = db.session.scalars(select(PlatformMessage).filter_by(event_key=f"application:{row.id}:rejected")).one()
    assert msg.recipient == "organisasi@kapuaskab.go.id" and "Kode wilayah tidak sesuai" in msg.body
    assert db.session.scalar(select(func.count(Tenant.id)).filter_by(slug="kapuas")) == 0


def test_rejecting_needs_a_reason(app, db, central, applied):
    central.post(f"/central/applications/{applied.id}/reject", data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(TenantApplication, applied.id).status == "pending"


def test_katingan_admin_can_neither_see_nor_decide_applications(app, db, ktg, make_user, login_as, applied):
    client = login_as(ktg, make_user(ktg, "tenant_admin"))
    for resp in (client.get("/central/applications/"), client.get(f"/central/applications/{applied.id}"),
                 client.post(f"/central/applications/{applied.id}/approve", data={"source": "template"}),
                 client.post(f"/central/applications/{applied.id}/reject", data={"reason": "Tidak lengkap sama"})):
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/central/login")
    db.session.expire_all()
    assert db.session.get(TenantApplication, applied.id).status == "pending"


# ------------------------------------------------------------------ the invitation


def test_the_invitation_link_sets_a_password_once(app, db, kapuas):
    client = app.test_client()
    path = _invite_path(db, kapuas, "organisasi@kapuaskab.go.id")
    assert path.startswith("/kapuas/password/reset/")
    assert client.get(path).status_code == 200
    resp = _set_password(client, path)
    assert resp.status_code == 302 and resp.headers["Location"] == "/kapuas/login"
    again = _set_password(client, path, "another-password-2")
    assert again.status_code == 302 and again.headers["Location"].endswith("/kapuas/password/forgot")
    # A new tenant administrator enrols the second factor at the first sign-in.
    assert login(client, kapuas, "organisasi@kapuaskab.go.id", "kapuas-password-1").status_code == 302


def test_an_invitation_outlives_the_reset_link_lifetime(app, db, kapuas, monkeypatch):
    path = _invite_path(db, kapuas, "organisasi@kapuaskab.go.id")
    later = time.time() + app.config["PASSWORD_RESET_MAX_AGE"] + 600
    monkeypatch.setattr(time, "time", lambda: later)
    assert app.test_client().get(path).status_code == 200


# ------------------------------------------------------------------ before and after go-live


def test_before_go_live_the_public_portal_accepts_no_complaints(app, db, client, kapuas):
    home = client.get("/kapuas/")
    assert home.status_code == 200
    assert text_in(app, "This service is not yet open") in home.text
    assert client.get("/kapuas/lapor").status_code == 503
    resp = client.post("/kapuas/lapor", data=form_data())
    assert resp.status_code == 503 and text_in(app, "This service is not yet open") in resp.text
    with tenant_scope(kapuas.id):
        assert db.session.scalar(select(func.count(Complaint.id))) == 0


def test_checklist_shows_progress_and_go_live_opens_the_portal(app, db, client, kapuas):
    admin = _sign_in_kapuas_admin(app, db, kapuas)
    page = admin.get("/kapuas/staff/onboarding/")
    assert page.status_code == 200
    assert text_in(app, "%(done)s of %(total)s steps done", done=1, total=8) in page.text  # routing came with the clone

    assert admin.post("/kapuas/staff/onboarding/go-live").status_code == 302  # refused: steps missing
    db.session.expire_all()
    assert db.session.get(Tenant, kapuas.id).live is False

    assert admin.post("/kapuas/staff/settings/branding", data={
        "branding-service_name": "Lapor Kapuas", "branding-tagline": "Kapuas mendengar",
        "branding-primary_color": "#aa3300"}).status_code == 303
    assert admin.post("/kapuas/staff/onboarding/deadlines").status_code == 302
    with tenant_scope(kapuas.id):
        pupr = db.session.scalars(select(Agency.id).filter_by(code="pupr")).one()
    assert admin.post("/kapuas/staff/settings/staff/invite", data={
        "invite-name": "Budi Penghubung", "invite-email": "pupr@kapuaskab.go.id", "invite-role": "liaison",
        "invite-agency_id": str(pupr)}).status_code == 303
    page = admin.get("/kapuas/staff/onboarding/")
    assert text_in(app, "%(done)s of %(total)s steps done", done=5, total=8) in page.text

    assert admin.get("/kapuas/lapor").status_code == 200  # staff may send the test report before go-live
    assert admin.post("/kapuas/lapor", data=form_data(), content_type="multipart/form-data").status_code == 303
    page = admin.get("/kapuas/staff/onboarding/").text
    assert text_in(app, "%(done)s of %(total)s steps done", done=6, total=8) in page
    # Each group copied from Banjarmasin is confirmed (the deadlines were, above); go-live waits for them.
    assert admin.post("/kapuas/staff/onboarding/go-live").status_code == 302
    db.session.expire_all()
    assert db.session.get(Tenant, kapuas.id).live is False
    copied = re.findall(r'action="/kapuas/staff/onboarding/copied/(\w+)"', page)
    assert copied == ["agencies", "categories", "routing", "messages", "settings"]
    for item in copied:
        assert admin.post(f"/kapuas/staff/onboarding/copied/{item}").status_code == 302
    assert text_in(app, "%(done)s of %(total)s steps done", done=7, total=8) in \
        admin.get("/kapuas/staff/onboarding/").text
    assert admin.post("/kapuas/staff/onboarding/go-live").status_code == 302
    db.session.expire_all()
    tenant = db.session.get(Tenant, kapuas.id)
    assert tenant.live is True and tenant.go_live_at is not None
    assert tenant.service_name == "Lapor Kapuas" and tenant.branding["primary_color"] == "#aa3300"

    assert client.get("/kapuas/lapor").status_code == 200
    resp = client.post("/kapuas/lapor", data=form_data(), content_type="multipart/form-data")
    assert resp.status_code == 303
    with tenant_scope(kapuas.id):
        assert db.session.scalar(select(func.count(Complaint.id))) == 2
        # The report sent before go-live is the set-up's test report: marked (with an event) and left out
        # of every statistic; the public's first real report is not.
        assert db.session.scalars(select(Complaint.is_test).order_by(Complaint.id)).all() == [True, False]
        assert db.session.scalars(select(ComplaintEvent.kind).where(ComplaintEvent.kind == "mark_test")).all() \
            == ["mark_test"]
        kinds = db.session.scalars(select(TenantAuditEvent.kind).order_by(TenantAuditEvent.id)).all()
        liaison = db.session.scalars(select(User).filter_by(email="pupr@kapuaskab.go.id")).one()
    assert kinds == ["tenant.provisioned", "branding.updated", "settings.deadlines_confirmed", "staff.invited",
                     *["clone.item_confirmed"] * 5, "tenant.went_live"]
    assert liaison.password_hash is None and liaison.agency_id == pupr


def test_checklist_is_for_the_tenant_admin_only(app, db, kapuas, bjm, make_user, login_as):
    client = login_as(bjm, make_user(bjm, "officer"))
    assert client.get("/banjarmasin/staff/onboarding/").status_code == 403
    assert client.get("/kapuas/staff/onboarding/").status_code == 302  # not signed in there


def test_service_submit_works_for_the_test_complaint(app, db, kapuas):
    """The checklist's test-complaint step counts any complaint, however it was made."""
    with app.test_request_context(), tenant_scope(kapuas.id):
        steps = {s.key: s.done for s in service.checklist(kapuas)}
        assert steps["test_complaint"] is False
        complaint_service.submit_complaint(complaint_service.SubmitData(
            title="Uji coba laporan pertama", description="Ini laporan uji coba sebelum layanan dibuka.",
            complaint_class="pengaduan"))
        assert {s.key: s.done for s in service.checklist(kapuas)}["test_complaint"] is True
    _db.session.rollback()

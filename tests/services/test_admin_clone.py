"""Cloning a peer's set-up (issue 17): the peer's region name becomes the new region's in every copied name and
text, the peer's LOCAL holidays (and its map area, sender name, bridge) are never copied, and the onboarding
checklist lists each copied group for the new administrator to confirm before going live."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.agencies.models import Agency, Category
from app.complaints.models import ResponseTemplate
from app.deadlines.calendar import calendar_for_tenant
from app.notifications.models import MessageTemplate
from app.onboarding import service
from app.onboarding.models import ApplicationStatus, TenantApplication, TenantAuditEvent
from app.tenancy.scope import tenant_scope

PEER_HOLIDAY = "2026-09-24"  # a Thursday: Hari Jadi Kota Banjarmasin, a local day off there only


@pytest.mark.parametrize(("text", "expected"), [
    ("Dinas PUPR Kota Banjarmasin", "Dinas PUPR Kabupaten Kotawaringin Timur"),
    ("Bagian Humas Setda Kota Banjarmasin", "Bagian Humas Setda Kabupaten Kotawaringin Timur"),
    ("DINAS PUPR KOTA BANJARMASIN", "DINAS PUPR KABUPATEN KOTAWARINGIN TIMUR"),
    ("dinas pupr kota banjarmasin", "dinas pupr kabupaten kotawaringin timur"),
    ("Warga Banjarmasin melapor.", "Warga Kotawaringin Timur melapor."),
    ("Pemko Banjarmasin menjawab", "Pemkab Kotawaringin Timur menjawab"),
    ("Pemerintah Kota Banjarmasin", "Pemerintah Kabupaten Kotawaringin Timur"),
    ("Banjarmasin, 1 Desember", "Kotawaringin Timur, 1 Desember"),
    # Addresses are left alone (the administrator checks them on the checklist).
    ("lapor.banjarmasinkota.go.id", "lapor.banjarmasinkota.go.id"),
    ("pengaduan@banjarmasin.go.id", "pengaduan@banjarmasin.go.id"),
    ("https://banjarmasin.go.id/lapor", "https://banjarmasin.go.id/lapor"),
    ("Banjarmasinku", "Banjarmasinku"),
    ("Dinas Perhubungan", "Dinas Perhubungan"),
])
def test_the_peer_region_name_becomes_the_new_regions(text, expected):
    rename = service.region_renamer("Pemerintah Kota Banjarmasin", "Pemerintah Kabupaten Kotawaringin Timur",
                                    "kabupaten")
    assert rename(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Setda Kab. Katingan", "Setda Kota Palangka Raya"),
    ("Dinas PUPR Kabupaten Katingan", "Dinas PUPR Kota Palangka Raya"),
    ("Pemkab Katingan", "Pemko Palangka Raya"),
    ("KATINGAN", "PALANGKA RAYA"),
])
def test_a_kabupaten_peer_cloned_by_a_kota(text, expected):
    rename = service.region_renamer("Pemerintah Kabupaten Katingan", "Pemerintah Kota Palangka Raya", "kota")
    assert rename(text) == expected


def test_region_bare_names():
    assert service.region_bare_name("Pemerintah Kota Banjarmasin") == "Banjarmasin"
    assert service.region_bare_name("Kabupaten Kotawaringin Timur") == "Kotawaringin Timur"
    assert service.region_bare_name("Pemerintah Kab. Katingan") == "Katingan"
    assert service.region_bare_name("Pemerintah Provinsi Kalimantan Selatan") == "Kalimantan Selatan"


@pytest.fixture()
def peer(db, bjm):
    """Banjarmasin with names, texts and settings that carry its own place: the peer to clone."""
    with tenant_scope(bjm.id):
        dishub = db.session.scalars(select(Agency).filter_by(code="dishub")).one()
        dishub.name, dishub.short_name = "Dinas Perhubungan Kota Banjarmasin", "Dishub Banjarmasin"
        db.session.add(Category(code="banjir", name_id="Banjir di Kota Banjarmasin", name_en="Floods in Banjarmasin"))
        db.session.add(ResponseTemplate(
            title="Jawaban Pemko Banjarmasin",
            body="Terima kasih, warga Banjarmasin. Pantau di lapor.banjarmasinkota.go.id atau tulis ke "
                 "pengaduan@banjarmasin.go.id.\nSubbag Pelayanan Pengaduan Setda KOTA BANJARMASIN"))
        msg = db.session.scalars(select(MessageTemplate).filter_by(key="complaint_received", locale="id")).one()
        msg.body = msg.body + "\nLapor Baiman - Pemerintah Kota Banjarmasin"
        bjm.settings = {**bjm.settings,
                        "local_holidays": [{"date": PEER_HOLIDAY, "name": "Hari Jadi Kota Banjarmasin"}],
                        "rate_limits": {"submit": "10 per minute", "trusted_networks": ["203.0.113.0/28"]},
                        "sp4n": {"enabled": True, "base_url": "https://sp4n.example/api"}}
        db.session.commit()
    return bjm


@pytest.fixture()
def application(db, tenants):
    row = TenantApplication(
        name="Pemerintah Kabupaten Kotawaringin Timur", type="kabupaten", province="Kalimantan Tengah",
        region_code="62.02", population=428000, timezone="Asia/Pontianak", official_name="Siti Rahmah",
        official_position="Kepala Bagian Organisasi", official_email="organisasi@kotimkab.go.id",
        official_phone="081234567890", slug="kotim", code_prefix="KTM", status=ApplicationStatus.PENDING)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture()
def kotim(app, db, peer, application):
    with app.test_request_context():
        tenant = service.provision_tenant(application, peer, actor_label="Dewi Pusat")
    db.session.commit()
    return tenant


def _texts(db, tenant) -> list[str]:
    with tenant_scope(tenant.id):
        out = [t for a in db.session.scalars(select(Agency)) for t in (a.name, a.short_name)]
        out += [t for c in db.session.scalars(select(Category)) for t in (c.name_id, c.name_en)]
        out += [t for m in db.session.scalars(select(MessageTemplate)) for t in (m.subject, m.body)]
        out += [t for r in db.session.scalars(select(ResponseTemplate)) for t in (r.title, r.body)]
    return out


def test_copied_names_and_texts_carry_the_new_regions_name(db, kotim):
    with tenant_scope(kotim.id):
        names = dict(db.session.execute(select(Agency.code, Agency.name)).all())
        (template,) = db.session.scalars(select(ResponseTemplate)).all()
        received = db.session.scalars(select(MessageTemplate).filter_by(key="complaint_received", locale="id")).one()
        banjir = db.session.scalars(select(Category).filter_by(code="banjir")).one()
    assert names["pupr"] == "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Kotawaringin Timur"
    assert names["humpro"] == "Bagian Humas dan Protokol Setda Kabupaten Kotawaringin Timur"
    assert names["dishub"] == "Dinas Perhubungan Kabupaten Kotawaringin Timur"
    assert (banjir.name_id, banjir.name_en) == ("Banjir di Kabupaten Kotawaringin Timur",
                                                "Floods in Kotawaringin Timur")
    assert template.title == "Jawaban Pemkab Kotawaringin Timur"
    assert "warga Kotawaringin Timur" in template.body and "Setda KABUPATEN KOTAWARINGIN TIMUR" in template.body
    assert received.body.endswith("Pemerintah Kabupaten Kotawaringin Timur")
    # Only addresses still name the peer; everything else was renamed.
    leftovers = [t for t in _texts(db, kotim) if "banjarmasin" in t.lower()]
    assert leftovers == [template.body]
    assert "lapor.banjarmasinkota.go.id" in template.body and "pengaduan@banjarmasin.go.id" in template.body


def test_the_peers_local_holidays_and_place_settings_are_never_copied(db, peer, kotim):
    assert peer.settings["local_holidays"]  # the peer has one
    assert kotim.settings["local_holidays"] == []
    assert "area" not in kotim.settings and kotim.settings["sp4n"] == {"enabled": False}
    assert kotim.settings["rate_limits"].get("trusted_networks", []) == []
    assert kotim.settings["rate_limits"]["submit"] == "10 per minute"  # a practice, copied
    assert kotim.settings["deadlines"] == peer.settings["deadlines"]
    # The peer's local day off does not move the new region's statutory deadlines.
    day = date.fromisoformat(PEER_HOLIDAY)
    assert not calendar_for_tenant(peer).is_working_day(day)
    assert calendar_for_tenant(kotim).is_working_day(day)
    assert calendar_for_tenant(kotim).add_working_days(date(2026, 9, 23), 1) == day


def test_the_checklist_lists_each_copied_group_until_confirmed(app, db, kotim, make_user):
    admin = make_user(kotim, "tenant_admin")
    with app.test_request_context(), tenant_scope(kotim.id):
        steps = {s.key: s for s in service.checklist(kotim)}
        copied = steps["copied"]
        assert "Pemerintah Kota Banjarmasin" in str(copied.title) and copied.done is False
        assert [i.key for i in copied.items] == list(service.COPIED_ITEMS)
        counts = {i.key: i.count for i in copied.items}
        assert counts["response_templates"] == 1 and counts["routing"] >= 1
        assert counts["agencies"] == len(db.session.scalars(select(Agency)).all())
        assert ("Dinas Perhubungan Kota Banjarmasin", "Dinas Perhubungan Kabupaten Kotawaringin Timur") \
            in copied.renamed
        (made,) = db.session.scalars(select(TenantAuditEvent).filter_by(kind="tenant.provisioned")).all()
        assert "local_holidays" in made.after["not_copied"]

        with pytest.raises(service.OnboardingError):
            service.confirm_copied(kotim, admin, "complaints")  # never copied
        for item in copied.items[:-1]:
            service.confirm_copied(kotim, admin, item.key)
        service.confirm_copied(kotim, admin, "agencies")  # twice: recorded once
        left = [i.key for i in {s.key: s for s in service.checklist(kotim)}["copied"].items if not i.confirmed]
        assert left == [copied.items[-1].key]
        assert len(db.session.scalars(select(TenantAuditEvent).filter_by(
            kind="clone.item_confirmed")).all()) == len(copied.items) - 1
        service.confirm_copied(kotim, admin, left[0])
        assert {s.key: s for s in service.checklist(kotim)}["copied"].done is True
    db.session.rollback()


def test_a_region_set_up_from_the_template_has_nothing_to_confirm(app, db, application):
    with app.test_request_context():
        tenant = service.provision_tenant(application, service.TEMPLATE_SOURCE)
        with tenant_scope(tenant.id):
            assert "copied" not in {s.key for s in service.checklist(tenant)}
    db.session.rollback()

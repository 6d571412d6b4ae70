"""Staff notifications: preferences per event group, the in-app list, the daily digest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.agencies.models import Agency
from app.complaints import service
from app.complaints.models import Privacy
from app.notifications import digest, rules
from app.notifications.models import Mode, Notification, StaffNotification
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope
from tests.factories import submit_complaint

# Friday 17 April 2026, 06.30 and 07.30 WITA (Banjarmasin, UTC+8).
BEFORE_MORNING = datetime(2026, 4, 16, 22, 30, tzinfo=UTC)
MORNING = datetime(2026, 4, 16, 23, 30, tzinfo=UTC)
DAY_BEFORE = datetime(2026, 4, 16, 3, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 17, 3, 0, tzinfo=UTC)


def _disposed(db, officer, privacy=Privacy.PUBLIC):
    c, _ = submit_complaint(
        title="Lampu jalan padam di Jl. Sutoyo S", description="Sudah seminggu lampu jalan padam di depan pasar.",
        privacy=privacy, reporter_name="Siti Norhayati", reporter_email="siti@contoh.id", commit=False)
    actor = service.Actor.of(officer)
    service.verify(c, actor)
    service.dispose(c, actor, [db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()])
    db.session.commit()
    return c


@pytest.fixture()
def people(bjm, make_user):
    return {"officer": make_user(bjm, "officer"), "liaison": make_user(bjm, "liaison", agency_code="pupr"),
            "unit": make_user(bjm, "officer")}


def _emails_to(db, user) -> int:
    return db.session.scalar(select(func.count(Notification.id)).filter_by(recipient=user.email))


def test_a_liaison_who_chose_the_digest_gets_no_immediate_email_but_one_digest_a_day(db, bjm, people):
    liaison = people["liaison"]
    with tenant_scope(bjm.id):
        rules.set_preferences(liaison, {"disposition": Mode.DIGEST, "citizen": Mode.DIGEST})
        db.session.commit()
        with frozen_time(DAY_BEFORE):
            c1 = _disposed(db, people["officer"])
            c2 = _disposed(db, people["officer"])
            service.add_information(c2, "Tiangnya juga miring dan membahayakan pejalan kaki.")
            db.session.commit()
        assert _emails_to(db, liaison) == 0
        items = db.session.execute(select(StaffNotification).filter_by(user_id=liaison.id)).scalars().all()
        assert {(i.complaint_id, i.kind) for i in items} == {(c1.id, "dispose"), (c2.id, "dispose"),
                                                            (c2.id, "add_info")}

        with frozen_time(BEFORE_MORNING):
            assert digest.digest_tenant(bjm, BEFORE_MORNING) == 0  # not before the region's morning
        with frozen_time(MORNING):
            assert digest.digest_tenant(bjm, MORNING) == 1
            db.session.commit()
            assert digest.digest_tenant(bjm, MORNING) == 0  # run again: nothing new
        notes = db.session.execute(select(Notification).filter_by(recipient=liaison.email)).scalars().all()
        assert len(notes) == 1 and notes[0].event_key == f"digest:{liaison.id}:2026-04-17"
        assert c1.code in notes[0].body and c2.code in notes[0].body
        assert "Siti" not in notes[0].body and "siti@contoh.id" not in notes[0].body

        # Something new later the same day waits for tomorrow: still one digest per user per day.
        with frozen_time(LATER):
            _disposed(db, people["officer"])
        with frozen_time(LATER):
            assert digest.send_digest(liaison, datetime(2026, 4, 17).date(), LATER) is False
        db.session.commit()
        assert _emails_to(db, liaison) == 1


def test_off_means_no_email_but_the_in_app_list_still_shows_it(db, bjm, people):
    liaison = people["liaison"]
    with tenant_scope(bjm.id):
        rules.set_preferences(liaison, {"disposition": Mode.OFF})
        db.session.commit()
        _disposed(db, people["officer"])
        assert _emails_to(db, liaison) == 0
        assert db.session.scalar(select(func.count(StaffNotification.id)).filter_by(user_id=liaison.id)) == 1


def test_defaults_email_right_away_and_only_groups_of_the_role_can_be_set(db, bjm, people):
    liaison, officer = people["liaison"], people["officer"]
    with tenant_scope(bjm.id):
        assert rules.preferences_of(liaison) == {"disposition": Mode.IMMEDIATE, "citizen": Mode.IMMEDIATE,
                                                 "escalation": Mode.IMMEDIATE}
        assert "disposition" not in rules.preferences_of(officer)
        rules.set_preferences(officer, {"disposition": Mode.OFF, "review": "loud"})
        db.session.commit()
        assert rules.preferences_of(officer)["review"] == Mode.IMMEDIATE
        _disposed(db, officer)
        assert _emails_to(db, liaison) == 1


def test_the_staff_header_counts_unread_and_the_list_marks_them_read(app, db, bjm, ktg, people, make_user,
                                                                    login_as):
    liaison = people["liaison"]
    with tenant_scope(bjm.id):
        c = _disposed(db, people["officer"], privacy=Privacy.ANONYMOUS)
    client = login_as(bjm, liaison)
    page = client.get("/banjarmasin/staff/notifications")
    assert page.status_code == 200
    assert c.code in page.text and "Siti" not in page.text
    assert 'class="badge unread"' in page.text
    from tests.conftest import login

    # Katingan's liaison marking "all" read touches only their own rows.
    ktg_liaison = make_user(ktg, "liaison", agency_code="pupr")
    other = app.test_client()
    assert login(other, ktg, ktg_liaison.email).status_code == 302
    other_page = other.get("/katingan/staff/notifications")
    assert c.code not in other_page.text
    other.post("/katingan/staff/notifications/read", data={})
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(StaffNotification.id)).where(
            StaffNotification.user_id == liaison.id, StaffNotification.read_at.is_(None))) == 1
    assert client.post("/banjarmasin/staff/notifications/read", data={}).status_code == 303
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(func.count(StaffNotification.id)).where(
            StaffNotification.user_id == liaison.id, StaffNotification.read_at.is_(None))) == 0
    assert 'class="badge unread"' not in client.get("/banjarmasin/staff/notifications").text


def test_preferences_page_saves_the_choice(app, db, bjm, people, login_as):
    liaison = people["liaison"]
    client = login_as(bjm, liaison)
    page = client.get("/banjarmasin/staff/notifications/preferences")
    assert page.status_code == 200
    resp = client.post("/banjarmasin/staff/notifications/preferences",
                       data={"mode-disposition": "digest",
                             "mode-citizen": "off", "mode-escalation": "immediate"})
    assert resp.status_code == 303
    with tenant_scope(bjm.id):
        assert rules.preferences_of(liaison) == {"disposition": "digest", "citizen": "off", "escalation": "immediate"}

"""The staff pages through HTTP: the whole path of a report, refusals, stale forms, inbox filters, templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.complaints import access, service, views_staff
from app.complaints.models import ComplaintEvent, FollowUp, FollowUpStatus, ResponseTemplate, Status, Visibility
from app.complaints.workflow import TRANSITIONS, StaleComplaint, TransitionError, check, status_label
from app.tenancy.scope import tenant_scope
from tests.web.staff_support import (
    agency_id,
    fresh,
    hidden_version,
    login,
    make_staff,
    post_action,
    submit,
    verify_and_dispose,
)


@pytest.fixture()
def officer(bjm, make_user):
    return make_staff(make_user, bjm, "officer", name="Faturrahim")


@pytest.fixture()
def pupr(bjm, make_user):
    return make_staff(make_user, bjm, "liaison", agency_code="pupr", name="Admin PUPR")


def translated(app, message, locale="id") -> str:
    """The message as the page shows it (escaped), in the tenant's default language."""
    with app.test_request_context(), force_locale(locale):
        return str(escape(str(message)))


def event_count(db, tenant, c_id) -> int:
    with tenant_scope(tenant.id):
        return db.session.scalar(select(func.count(ComplaintEvent.id)).filter_by(complaint_id=c_id))


# ---------------------------------------------------------------- the whole path

def test_officer_verifies_disposes_liaison_answers_officer_publishes(app, db, bjm, officer, pupr):
    c = submit(db, bjm)
    unit = login(app, bjm, officer)

    page = unit.get(f"/{bjm.slug}/staff/complaints/{c.id}")
    assert page.status_code == 200
    version = hidden_version(page.text, "verify")
    assert version == str(c.version)
    resp = post_action(unit, bjm, c.id, "verify", "verify", version, title="Jalan berlubang di Jl. Kayu Tangi",
                       complaint_class="pengawasan", category_id="", tags="jalan, Lubang ,")
    assert resp.status_code == 302, resp.text[:500]
    c = fresh(db, bjm, c.id)
    assert c.status == Status.VERIFIED
    assert c.complaint_class == "pengawasan" and c.tags == ["jalan", "lubang"]

    page = unit.get(f"/{bjm.slug}/staff/complaints/{c.id}")
    resp = post_action(unit, bjm, c.id, "dispose", "dispose", hidden_version(page.text, "dispose"),
                       agency_ids=str(agency_id(db, bjm, "pupr")), instruction="Mohon ditinjau minggu ini.")
    assert resp.status_code == 302
    assert fresh(db, bjm, c.id).status == Status.DISPOSED

    liaison = login(app, bjm, pupr)
    page = liaison.get(f"/{bjm.slug}/staff/complaints/{c.id}")
    assert page.status_code == 200
    assert f'action="/banjarmasin/staff/complaints/{c.id}/verify"' not in page.text  # no unit actions
    v = hidden_version(page.text, "followup")
    resp = post_action(liaison, bjm, c.id, "followup", "followup", v, body="Tim akan menambal lubang besok.",
                       save="1")
    assert resp.status_code == 302
    resp = post_action(liaison, bjm, c.id, "followup", "followup", v,
                       body="Tim PUPR telah menambal lubang pada hari Kamis.", send="1")
    assert resp.status_code == 302
    with tenant_scope(bjm.id):
        fu = db.session.execute(select(FollowUp).filter_by(complaint_id=c.id)).scalar_one()
        assert fu.status == FollowUpStatus.SUBMITTED
        fu_id = fu.id

    page = unit.get(f"/{bjm.slug}/staff/complaints/{c.id}")
    assert "Tim PUPR telah menambal lubang" in page.text
    resp = post_action(unit, bjm, c.id, f"followups/{fu_id}/publish", f"publish_followup-{fu_id}",
                       hidden_version(page.text, f"publish_followup-{fu_id}"), body="")
    assert resp.status_code == 302
    c = fresh(db, bjm, c.id)
    assert c.status == Status.ANSWERED
    with tenant_scope(bjm.id):
        assert db.session.get(FollowUp, fu_id).status == FollowUpStatus.PUBLISHED
        public = [e.kind for e in access.timeline(c, for_staff=False)]
    assert public == ["submit", "verify", "dispose", "publish_followup"]
    page = unit.get(f"/{bjm.slug}/staff/complaints/{c.id}")
    assert translated(app, TRANSITIONS["publish_followup"].label) in page.text
    assert translated(app, status_label(Status.ANSWERED)) in page.text


def test_liaison_may_only_note_and_write_followups(app, db, bjm, officer, pupr):
    c = verify_and_dispose(db, bjm, submit(db, bjm), officer)
    liaison = login(app, bjm, pupr)
    version = fresh(db, bjm, c.id).version
    for path, prefix, fields in [("close", "close", {}), ("edit", "edit", {"title": "Judul baru sekali"}),
                                 ("public-reply", "public_reply", {"message": "Halo"})]:
        resp = post_action(liaison, bjm, c.id, path, prefix, version, **fields)
        assert resp.status_code == 403, path
    assert liaison.get(f"/{bjm.slug}/staff/templates").status_code == 403
    resp = post_action(liaison, bjm, c.id, "note", "note", version, message="Sudah dicek lapangan.")
    assert resp.status_code == 302
    assert fresh(db, bjm, c.id).status == Status.DISPOSED


def test_dashboard_shows_counts_and_the_work_queue(app, db, bjm, officer, pupr):
    a = submit(db, bjm, title="Lampu jalan mati di Teluk Dalam")
    b = verify_and_dispose(db, bjm, submit(db, bjm, title="Saluran tersumbat di Pasar Lama"), officer)
    page = login(app, bjm, officer).get(f"/{bjm.slug}/staff/")
    assert page.status_code == 200
    assert a.code in page.text  # to verify: waits for the unit
    assert b.code not in page.text  # at the agency: not the unit's turn
    assert "/banjarmasin/staff/complaints?deadline=overdue" in page.text.replace("&amp;", "&")
    page = login(app, bjm, pupr).get(f"/{bjm.slug}/staff/")
    assert b.code in page.text and a.code not in page.text


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize(("path", "prefix", "action"), [
    ("close", "close", "close"),
    ("dispose", "dispose", "dispose"),
    ("resume", "resume", "resume"),
])
def test_illegal_transition_is_refused_with_409_and_changes_nothing(app, db, bjm, officer, path, prefix, action):
    c = submit(db, bjm)
    before_events = event_count(db, bjm, c.id)
    unit = login(app, bjm, officer)
    resp = post_action(unit, bjm, c.id, path, prefix, c.version, agency_ids=str(agency_id(db, bjm, "pupr")))
    assert resp.status_code == 409
    with pytest.raises(TransitionError) as err:
        check(action, Status.SUBMITTED, "officer")
    assert translated(app, err.value.message) in resp.text
    assert f"/banjarmasin/staff/complaints/{c.id}" in resp.text  # a link to reload
    version = c.version
    c = fresh(db, bjm, c.id)
    assert (c.status, c.version) == (Status.SUBMITTED, version)
    assert event_count(db, bjm, c.id) == before_events


def test_publishing_a_followup_twice_is_refused(app, db, bjm, officer, pupr):
    c = verify_and_dispose(db, bjm, submit(db, bjm), officer)
    with tenant_scope(bjm.id):
        fu = service.save_followup_draft(fresh(db, bjm, c.id), service.Actor.of(pupr), "Sudah ditangani petugas.",
                                         submit=True)
        db.session.commit()
        fu_id = fu.id
    unit = login(app, bjm, officer)
    version = fresh(db, bjm, c.id).version
    path, prefix = f"followups/{fu_id}/publish", f"publish_followup-{fu_id}"
    assert post_action(unit, bjm, c.id, path, prefix, version).status_code == 302
    resp = post_action(unit, bjm, c.id, path, prefix, fresh(db, bjm, c.id).version)
    assert resp.status_code == 409
    assert fresh(db, bjm, c.id).status == Status.ANSWERED


def test_second_of_two_forms_loaded_at_the_same_version_is_told_it_changed(app, db, bjm, officer, make_user):
    c = submit(db, bjm)
    first, second = login(app, bjm, officer), login(app, bjm, make_staff(make_user, bjm, "officer"))
    page_a = first.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    page_b = second.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    v = hidden_version(page_a, "verify")
    assert hidden_version(page_b, "hold") == v == str(c.version)

    ok = post_action(first, bjm, c.id, "verify", "verify", v, title="Judul dari petugas pertama",
                     complaint_class="pengaduan")
    assert ok.status_code == 302
    events = event_count(db, bjm, c.id)
    stale = post_action(second, bjm, c.id, "hold", "hold", v, message="Mohon lengkapi alamat.")
    assert stale.status_code == 409
    assert translated(app, StaleComplaint().message) in stale.text
    c = fresh(db, bjm, c.id)
    assert (c.status, c.title) == (Status.VERIFIED, "Judul dari petugas pertama")
    assert event_count(db, bjm, c.id) == events


def test_a_stale_edit_does_not_overwrite_the_first(app, db, bjm, officer, make_user):
    c = submit(db, bjm)
    with tenant_scope(bjm.id):
        service.verify(fresh(db, bjm, c.id), service.Actor.of(officer))
        db.session.commit()
    first, second = login(app, bjm, officer), login(app, bjm, make_staff(make_user, bjm, "tenant_admin"))
    v = hidden_version(first.get(f"/{bjm.slug}/staff/complaints/{c.id}").text, "edit")
    assert hidden_version(second.get(f"/{bjm.slug}/staff/complaints/{c.id}").text, "edit") == v
    assert post_action(first, bjm, c.id, "edit", "edit", v, title="Judul versi pertama",
                       complaint_class="pengaduan").status_code == 302
    resp = post_action(second, bjm, c.id, "edit", "edit", v, title="Judul versi kedua", complaint_class="aspirasi")
    assert resp.status_code == 409
    c = fresh(db, bjm, c.id)
    assert (c.title, c.complaint_class) == ("Judul versi pertama", "pengaduan")


def test_stale_data_on_commit_answers_409(app, db, bjm, officer, monkeypatch):
    c = submit(db, bjm)

    def boom(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'complaint' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(service, "note", boom)
    resp = post_action(login(app, bjm, officer), bjm, c.id, "note", "note", c.version, message="Catatan")
    assert resp.status_code == 409
    assert translated(app, StaleComplaint().message) in resp.text


def test_missing_input_rerenders_with_400_and_the_field_error(app, db, bjm, officer):
    c = submit(db, bjm)
    unit = login(app, bjm, officer)
    resp = post_action(unit, bjm, c.id, "hold", "hold", c.version, message="")
    assert resp.status_code == 400
    assert 'class="errors"' in resp.text
    resp = post_action(unit, bjm, c.id, "verify", "verify", c.version, title="abc", complaint_class="pengaduan")
    assert resp.status_code == 400
    assert fresh(db, bjm, c.id).status == Status.SUBMITTED


def test_merge_uses_the_primary_tracking_code(app, db, bjm, ktg, officer):
    primary, dup = submit(db, bjm), submit(db, bjm, title="Jalan berlubang (laporan ganda)")
    other = submit(db, ktg)
    unit = login(app, bjm, officer)
    resp = post_action(unit, bjm, dup.id, "merge", "merge", dup.version, primary_code=other.code)
    assert resp.status_code == 400  # another region's code is simply unknown here
    resp = post_action(unit, bjm, dup.id, "merge", "merge", dup.version, primary_code=primary.code.lower())
    assert resp.status_code == 302
    dup = fresh(db, bjm, dup.id)
    assert dup.status == Status.MERGED and dup.merged_into_id == primary.id


def test_public_reply_without_javascript_sends_the_chosen_template(app, db, bjm, officer):
    c = submit(db, bjm)
    with tenant_scope(bjm.id):
        t = ResponseTemplate(title="Terima kasih", body="Terima kasih, laporan Anda sedang kami proses.")
        db.session.add(t)
        db.session.commit()
        t_id = t.id
    unit = login(app, bjm, officer)
    page = unit.get(f"/{bjm.slug}/staff/complaints/{c.id}")
    assert "Terima kasih" in page.text
    resp = post_action(unit, bjm, c.id, "public-reply", "public_reply", c.version, template_id=str(t_id), message="")
    assert resp.status_code == 302
    with tenant_scope(bjm.id):
        ev = db.session.execute(select(ComplaintEvent).filter_by(complaint_id=c.id, kind="public_reply")).scalar_one()
        assert ev.message == "Terima kasih, laporan Anda sedang kami proses."
        assert ev.visibility == Visibility.PUBLIC


def test_response_templates_list_create_edit_deactivate(app, db, bjm, ktg, officer, make_user):
    unit = login(app, bjm, officer)
    base = f"/{bjm.slug}/staff/templates"
    assert unit.get(base).status_code == 200
    resp = unit.post(f"{base}/new", data={"title": "Mohon data", "body": "Mohon lengkapi alamat lokasi kejadian.",
                                         "active": "y"})
    assert resp.status_code == 302
    assert unit.post(f"{base}/new", data={"title": "mohon data", "body": "Teks lain yang cukup panjang."}
                     ).status_code == 400  # titles are unique
    with tenant_scope(bjm.id):
        t_id = db.session.execute(select(ResponseTemplate.id).filter_by(title="Mohon data")).scalar_one()
    resp = unit.post(f"{base}/{t_id}/edit", data={"title": "Mohon data lokasi",
                                                  "body": "Mohon lengkapi alamat dan patokan lokasi.", "active": "y"})
    assert resp.status_code == 302
    assert unit.post(f"{base}/{t_id}/active", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    with tenant_scope(bjm.id):
        t = db.session.get(ResponseTemplate, t_id)
        assert (t.title, t.active) == ("Mohon data lokasi", False)
    assert "Mohon data lokasi" in unit.get(base).text
    other = login(app, ktg, make_staff(make_user, ktg, "officer"))
    assert other.get(f"/{ktg.slug}/staff/templates/{t_id}/edit").status_code == 404
    assert other.post(f"/{ktg.slug}/staff/templates/{t_id}/active", data={"active": "1"}).status_code == 404


# ---------------------------------------------------------------- inbox filters

def codes_in(html: str, *complaints) -> list[str]:
    return [c.code for c in complaints if c.code in html]


def test_inbox_filters_by_status(app, db, bjm, officer):
    a = submit(db, bjm)
    b = verify_and_dispose(db, bjm, submit(db, bjm), officer)
    unit = login(app, bjm, officer)
    html = unit.get(f"/{bjm.slug}/staff/complaints?status=disposed").text
    assert codes_in(html, a, b) == [b.code]
    html = unit.get(f"/{bjm.slug}/staff/complaints?status=submitted").text
    assert codes_in(html, a, b) == [a.code]
    html = unit.get(f"/{bjm.slug}/staff/complaints?status=nonsense").text
    assert codes_in(html, a, b) == [a.code, b.code]


def test_inbox_filters_overdue_and_due_soon(app, db, bjm, officer, monkeypatch):
    # Due 27 March (DOMAIN.md example); due 2 April; due 6 April (3 April is Good Friday).
    late = submit(db, bjm, when=datetime(2026, 3, 17, 7, 0, tzinfo=UTC))
    soon = submit(db, bjm, when=datetime(2026, 3, 30, 2, 0, tzinfo=UTC))
    fine = submit(db, bjm, when=datetime(2026, 3, 31, 2, 0, tzinfo=UTC))
    unit = login(app, bjm, officer)
    # Wednesday 1 April, 11.00 WITA (frozen_time does not reach into the test client's request).
    monkeypatch.setattr(views_staff, "utcnow", lambda: datetime(2026, 4, 1, 3, 0, tzinfo=UTC))
    overdue = unit.get(f"/{bjm.slug}/staff/complaints?deadline=overdue").text
    due_soon = unit.get(f"/{bjm.slug}/staff/complaints?deadline=due_soon").text
    everything = unit.get(f"/{bjm.slug}/staff/complaints?sort=due").text
    assert codes_in(overdue, late, soon, fine) == [late.code]
    assert codes_in(due_soon, late, soon, fine) == [soon.code]
    assert everything.index(late.code) < everything.index(soon.code) < everything.index(fine.code)
    assert 'class="badge overdue"' in everything and 'class="badge soon"' in everything


def test_inbox_free_text_is_case_insensitive_over_code_title_and_description(app, db, bjm, officer):
    road = submit(db, bjm, title="Jalan Berlubang di Veteran")
    drain = submit(db, bjm, title="Saluran tersumbat", description="Air meluap ke RUMAH warga setiap hujan deras.")
    unit = login(app, bjm, officer)
    url = f"/{bjm.slug}/staff/complaints?q="
    assert codes_in(unit.get(url + "berLUBANG").text, road, drain) == [road.code]
    assert codes_in(unit.get(url + "rumah warga").text, road, drain) == [drain.code]
    assert codes_in(unit.get(url + drain.code.lower()).text, road, drain) == [drain.code]
    assert codes_in(unit.get(url + "%25").text, road, drain) == []  # a literal %, not a wildcard


def test_inbox_date_range_uses_the_tenants_local_dates(app, db, bjm, officer):
    # 17 March 23.30 WITA and 18 March 00.30 WITA: one hour apart, two local days.
    late_17 = submit(db, bjm, when=datetime(2026, 3, 17, 15, 30, tzinfo=UTC))
    early_18 = submit(db, bjm, when=datetime(2026, 3, 17, 16, 30, tzinfo=UTC))
    unit = login(app, bjm, officer)
    url = f"/{bjm.slug}/staff/complaints"
    assert codes_in(unit.get(f"{url}?date_from=2026-03-18&date_to=2026-03-18").text,
                    late_17, early_18) == [early_18.code]
    assert codes_in(unit.get(f"{url}?date_to=2026-03-17").text, late_17, early_18) == [late_17.code]
    assert codes_in(unit.get(f"{url}?date_from=2026-03-17").text, late_17, early_18) == [late_17.code, early_18.code]


def test_inbox_filters_by_class_category_and_agency_and_paginates(app, db, bjm, officer):
    asp = submit(db, bjm, complaint_class="aspirasi")
    at_pupr = verify_and_dispose(db, bjm, submit(db, bjm), officer, "pupr")
    at_dishub = verify_and_dispose(db, bjm, submit(db, bjm), officer, "dishub")
    unit = login(app, bjm, officer)
    url = f"/{bjm.slug}/staff/complaints"
    assert codes_in(unit.get(f"{url}?class=aspirasi").text, asp, at_pupr, at_dishub) == [asp.code]
    html = unit.get(f"{url}?agency={agency_id(db, bjm, 'pupr')}").text
    assert codes_in(html, asp, at_pupr, at_dishub) == [at_pupr.code]
    with tenant_scope(bjm.id):
        from app.agencies.models import Category

        jalan = db.session.execute(select(Category).filter_by(code="jalan")).scalar_one()
        service.edit(fresh(db, bjm, at_dishub.id), service.Actor.of(officer), category_id=jalan.id)
        db.session.commit()
        jalan_id = jalan.id
    html = unit.get(f"{url}?category={jalan_id}").text
    assert codes_in(html, asp, at_pupr, at_dishub) == [at_dishub.code]
    for _ in range(24):
        submit(db, bjm)
    first = unit.get(url).text
    second = unit.get(f"{url}?page=2").text
    assert first.count('<td class="code">') == 25 and second.count('<td class="code">') == 2
    assert asp.code not in first and asp.code in second  # newest first: the oldest is on page 2
    oldest = unit.get(f"{url}?sort=oldest").text
    assert asp.code in oldest


def test_inbox_never_shows_the_reporters_identity(app, db, bjm, officer):
    submit(db, bjm)
    html = login(app, bjm, officer).get(f"/{bjm.slug}/staff/complaints").text
    for secret in ("Siti Norhayati", "siti.rahmah@contoh.id", "081234567890", "+6281234567890"):
        assert secret not in html


def test_attachment_download_headers(app, db, bjm, officer):
    c = submit(db, bjm, with_photo=True)
    with tenant_scope(bjm.id):
        att = access.attachments(fresh(db, bjm, c.id), officer)[0]
    resp = login(app, bjm, officer).get(f"/{bjm.slug}/staff/complaints/{c.id}/attachments/{att.id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Disposition"].startswith("inline")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.data.startswith(b"\x89PNG")


def test_followup_form_is_hidden_while_the_agency_answer_is_under_review(app, db, bjm, officer, pupr):
    c = verify_and_dispose(db, bjm, submit(db, bjm), officer)
    liaison = login(app, bjm, pupr)
    form_action = f'action="/banjarmasin/staff/complaints/{c.id}/followup"'
    assert form_action in liaison.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    with tenant_scope(bjm.id):
        service.save_followup_draft(fresh(db, bjm, c.id), service.Actor.of(pupr), "Sudah ditangani petugas.",
                                    submit=True)
        db.session.commit()
    page = liaison.get(f"/{bjm.slug}/staff/complaints/{c.id}").text
    assert form_action not in page
    assert "Sudah ditangani petugas." in page  # still readable, just not editable

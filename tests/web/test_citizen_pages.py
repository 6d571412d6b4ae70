"""The citizen pages through HTTP: submit, confirmation, tracking, reply/rate/reopen, transparency."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from app.complaints import service
from app.complaints.models import Complaint, ComplaintEvent, Follower, Rating, Status
from app.notifications.models import Notification
from app.tenancy.scope import tenant_scope
from tests.web.citizen_support import (
    REPORTER,
    counts,
    drive,
    form_data,
    local_year,
    post_report,
    the_complaint,
    token_from,
)


@pytest.fixture(autouse=True)
def english(client):
    """Assertions read the English texts; one test checks the Indonesian page."""
    with client.session_transaction() as session:
        session["lang"] = "en"


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer", name="Faturrahim")


def submitted(client, db, tenant, **overrides):
    """A report sent through the form; returns (complaint, private token)."""
    resp = post_report(client, tenant, **overrides)
    assert resp.status_code == 303, resp.text[:2000]
    return the_complaint(db, tenant), token_from(resp.headers["Location"])


def esc(text: str) -> str:
    return str(escape(text))


# ---------------------------------------------------------------- submit

def test_report_form_offers_three_classes_privacy_choices_and_a_hidden_honeypot(client, bjm):
    page = client.get("/banjarmasin/lapor")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.text
    for value in ("aspirasi", "informasi", "pengaduan", "public", "anonim", "rahasia"):
        assert f'value="{value}"' in html
    assert 'value="pengawasan"' not in html  # set by staff only
    assert 'class="hp"' in html and 'name="hp_note"' in html
    assert 'name="submission_key"' in html
    assert "Roads and bridges" in html  # categories labelled in the visitor's language
    assert "<legend>" in html
    assert "//cdn" not in html and "https://" not in html.split("<main", 1)[1]


def test_submit_creates_one_report_with_a_local_year_code_an_event_and_an_email_confirmation(client, db, bjm, ktg):
    resp = post_report(client, bjm)
    assert resp.status_code == 303
    code = f"BJM-{local_year(bjm):02d}-00001"
    assert f"/banjarmasin/lapor/diterima/{code}?t=" in resp.headers["Location"]
    c = the_complaint(db, bjm)
    assert c.code == code and c.status == Status.SUBMITTED
    assert c.latitude == pytest.approx(-3.3194) and c.reporter_email == REPORTER["email"]
    assert counts(db, bjm) == (1, 1, 0)
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(ComplaintEvent.kind).filter_by(complaint_id=c.id)) == "submit"
        notes = db.session.execute(select(Notification).filter_by(channel="email")).scalars().all()
        assert [n.recipient for n in notes] == [REPORTER["email"]]
        assert code in notes[0].body
    assert counts(db, ktg) == (0, 0, 0)


def test_confirmation_page_shows_code_private_link_deadline_and_confirmation(client, db, bjm):
    resp = post_report(client, bjm)
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200
    c = the_complaint(db, bjm)
    assert 'class="code-big"' in page.text and c.code in page.text
    assert f"http://localhost/banjarmasin/lacak/{c.code}?t={c.access_token}" in page.text
    assert "WITA" in page.text  # the deadline, in the tenant's zone
    assert "your email address" in page.text and "your mobile number" in page.text
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"


def test_confirmation_page_needs_the_right_token(client, db, bjm):
    post_report(client, bjm)
    c = the_complaint(db, bjm)
    assert client.get(f"/banjarmasin/lapor/diterima/{c.code}").status_code == 404
    assert client.get(f"/banjarmasin/lapor/diterima/{c.code}?t=wrong").status_code == 404


def test_double_submit_with_the_same_key_creates_one_report(client, db, bjm):
    key = "a" * 32
    first = post_report(client, bjm, submission_key=key)
    again = post_report(client, bjm, submission_key=key)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert counts(db, bjm) == (1, 1, 0)


def test_honeypot_filled_creates_nothing(client, db, bjm):
    resp = post_report(client, bjm, hp_note="http://cheap-pills.example")
    assert resp.status_code == 400
    assert counts(db, bjm) == (0, 0, 0)


def test_invalid_report_answers_400_with_errors_at_the_fields_and_writes_nothing(app, client, db, bjm):
    from tests.web.citizen_support import jpeg_bytes

    resp = post_report(client, bjm, files=[(jpeg_bytes(), "foto.jpg")], title="x", description="pendek",
                       consent=None, reporter_email="", reporter_phone="", complaint_class="pengawasan")
    assert resp.status_code == 400
    html = resp.text
    assert esc("Write a short title (at least 5 characters).") in html
    assert esc("Describe what happened (at least 20 characters).") in html
    assert esc("Accept the terms to send your report.") in html
    assert esc("Give an email address or a mobile number") in html
    assert esc("Choose the kind of report.") in html  # pengawasan is not a citizen's choice
    assert esc("choose your files again") in html
    # the error sits with its field, and the summary links to it
    at_title = html[html.index('id="title"'):html.index('id="description"')]
    assert esc("Write a short title (at least 5 characters).") in at_title
    assert 'href="#title"' in html
    assert counts(db, bjm) == (0, 0, 0)
    # the input is kept
    assert 'value="Siti Norhayati Rahmah"' in html


def test_field_errors_are_shown_in_the_tenants_language(app, client, db, bjm):
    with client.session_transaction() as session:
        session.pop("lang", None)
    resp = post_report(client, bjm, title="x")
    assert resp.status_code == 400
    assert '<html lang="id">' in resp.text
    with app.test_request_context(), force_locale("id"):
        expected = esc(gettext("Write a short title (at least 5 characters)."))
    assert expected in resp.text


def test_bad_coordinates_and_email_are_refused(client, db, bjm):
    resp = post_report(client, bjm, latitude="51.5", longitude="abc", reporter_email="not-an-email")
    assert resp.status_code == 400
    assert esc("The map pin is outside Indonesia.") in resp.text
    assert esc("Enter a number such as 114.5908.") in resp.text
    assert esc("Enter a valid email address.") in resp.text
    assert counts(db, bjm) == (0, 0, 0)


def test_signed_in_citizen_gets_contact_prefilled_and_the_report_linked(client, db, bjm, make_user, login_as):
    citizen = make_user(bjm, "citizen", email="warga@contoh.id", name="Rahmat Hidayat", phone="085245678901")
    login_as(bjm, citizen)
    page = client.get("/banjarmasin/lapor")
    assert 'value="warga@contoh.id"' in page.text and 'value="085245678901"' in page.text
    form = form_data(reporter_name="Rahmat Hidayat", reporter_email="warga@contoh.id", reporter_phone="")
    resp = client.post("/banjarmasin/lapor", data=form)
    assert resp.status_code == 303
    assert the_complaint(db, bjm).reporter_user_id == citizen.id


def test_only_one_of_email_and_phone_is_needed(client, db, bjm):
    c, _ = submitted(client, db, bjm, reporter_email="")
    with tenant_scope(bjm.id):
        followers = db.session.execute(select(Follower.channel).filter_by(complaint_id=c.id)).scalars().all()
    assert followers == ["sms"]


# ---------------------------------------------------------------- track

def test_lookup_form_redirects_a_known_code_and_refuses_an_unknown_one(client, db, bjm):
    c, _ = submitted(client, db, bjm)
    assert client.get("/banjarmasin/lacak").status_code == 200
    resp = client.get(f"/banjarmasin/lacak?kode={c.code.lower()}")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/banjarmasin/lacak/{c.code}")
    missing = client.get("/banjarmasin/lacak?kode=BJM-26-99999")
    assert missing.status_code == 404 and "No report of" in missing.text


def test_tracking_by_code_of_a_confidential_report_shows_status_only_and_never_identity(client, db, bjm):
    c, _ = submitted(client, db, bjm, privacy="rahasia", title="Pungutan liar di kantor kelurahan X")
    page = client.get(f"/banjarmasin/lacak/{c.code}")
    assert page.status_code == 200
    assert "Awaiting verification" in page.text and "WITA" in page.text
    assert "Report received" in page.text  # the public timeline
    assert "Pungutan liar" not in page.text and "rawan kecelakaan" not in page.text
    for secret in (REPORTER["name"], "Siti", REPORTER["email"], REPORTER["phone"]):
        assert secret not in page.text
    assert "Add information" not in page.text
    assert "This report is confidential" in page.text


def test_tracking_by_code_shows_content_only_after_verification_and_never_identity(client, db, bjm, make_user):
    c, _ = submitted(client, db, bjm)
    page = client.get(f"/banjarmasin/lacak/{c.code}")
    assert page.status_code == 200
    # Codes are guessable: before the unit has verified (and possibly marked it rahasia), no content.
    assert "rawan kecelakaan" not in page.text and c.title not in page.text
    assert "once the complaint unit has verified it" in page.text
    assert "This report is confidential" not in page.text  # it is not (yet): say why nothing shows
    officer = make_user(bjm, "officer")
    with tenant_scope(bjm.id):
        service.verify(db.session.get(Complaint, c.id), service.Actor.of(officer))
        db.session.commit()
    page = client.get(f"/banjarmasin/lacak/{c.code}")
    assert "rawan kecelakaan" in page.text and c.title in page.text
    for secret in (REPORTER["name"], REPORTER["email"], REPORTER["phone"], c.access_token):
        assert secret not in page.text
    assert f"/banjarmasin/lacak/{c.code}/informasi" not in page.text


def test_tracking_with_the_private_link_shows_the_actions(client, db, bjm):
    c, token = submitted(client, db, bjm, privacy="rahasia")
    page = client.get(f"/banjarmasin/lacak/{c.code}?t={token}")
    assert page.status_code == 200
    assert "rawan kecelakaan" in page.text  # the reporter reads their own confidential report
    assert f'action="/banjarmasin/lacak/{c.code}/informasi"' in page.text
    assert f'name="t" value="{token}"' in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_wrong_token_and_other_tenant_answer_404(client, db, bjm, ktg):
    c, token = submitted(client, db, bjm)
    assert client.get(f"/banjarmasin/lacak/{c.code}?t=nope").status_code == 404
    assert client.get(f"/katingan/lacak/{c.code}").status_code == 404
    assert client.get(f"/katingan/lacak/{c.code}?t={token}").status_code == 404
    assert client.get(f"/katingan/lapor/diterima/{c.code}?t={token}").status_code == 404
    resp = client.post(f"/katingan/lacak/{c.code}/informasi", data={"t": token, "info-message": "Tambahan"})
    assert resp.status_code == 404
    assert counts(db, bjm)[1] == 1


# ---------------------------------------------------------------- citizen actions

def test_add_information_resumes_a_report_on_hold(client, db, bjm, officer):
    c, token = submitted(client, db, bjm)
    drive(db, bjm, c, officer, "hold")
    page = client.get(f"/banjarmasin/lacak/{c.code}?t={token}")
    assert "More information is needed" in page.text and "foto lokasi yang lebih jelas" in page.text
    resp = client.post(f"/banjarmasin/lacak/{c.code}/informasi",
                       data={"t": token, "info-message": "Lokasi tepat di depan Masjid Raya, tiang nomor 12."})
    assert resp.status_code == 303
    assert the_complaint(db, bjm).status == Status.SUBMITTED
    page = client.get(resp.headers["Location"])
    assert "Thank you: your information was added." in page.text
    assert "tiang nomor 12" in page.text


def test_an_action_without_the_token_or_with_empty_input_changes_nothing(client, db, bjm):
    c, token = submitted(client, db, bjm)
    assert client.post(f"/banjarmasin/lacak/{c.code}/informasi", data={"info-message": "Halo"}).status_code == 404
    resp = client.post(f"/banjarmasin/lacak/{c.code}/informasi", data={"t": token, "info-message": "  "})
    assert resp.status_code == 400 and esc("Write a message.") in resp.text
    assert counts(db, bjm)[1] == 1


def test_reply_to_the_answer_sends_the_report_back_to_the_agency(client, db, bjm, officer):
    c, token = submitted(client, db, bjm)
    early = client.post(f"/banjarmasin/lacak/{c.code}/balas", data={"t": token, "reply-message": "Terima kasih"})
    assert early.status_code == 303  # not answered yet: refused with a message, nothing written
    assert "is not possible while the report is" in client.get(early.headers["Location"]).text
    drive(db, bjm, c, officer, "verify", "dispose", "publish")
    page = client.get(f"/banjarmasin/lacak/{c.code}?t={token}")
    assert "Lampu sudah diganti" in page.text and "Reply to the answer" in page.text
    resp = client.post(f"/banjarmasin/lacak/{c.code}/balas",
                       data={"t": token, "reply-message": "Lampu di tiang sebelahnya masih mati."})
    assert resp.status_code == 303
    c = the_complaint(db, bjm)
    assert c.status == Status.DISPOSED
    with tenant_scope(bjm.id):
        kinds = db.session.execute(select(ComplaintEvent.kind).filter_by(complaint_id=c.id)).scalars().all()
    assert kinds.count("citizen_reply") == 1


def test_rating_is_accepted_once(client, db, bjm, officer):
    c, token = submitted(client, db, bjm)
    drive(db, bjm, c, officer, "verify", "dispose", "publish")
    assert "Rate the handling" in client.get(f"/banjarmasin/lacak/{c.code}?t={token}").text
    bad = client.post(f"/banjarmasin/lacak/{c.code}/nilai", data={"t": token, "rate-score": "9"})
    assert bad.status_code == 400 and esc("Choose a rating from 1 to 5.") in bad.text
    first = client.post(f"/banjarmasin/lacak/{c.code}/nilai",
                        data={"t": token, "rate-score": "4", "rate-comment": "Cepat ditangani"})
    assert first.status_code == 303
    page = client.get(first.headers["Location"])
    assert "Thank you for your rating." in page.text and "Rate the handling" not in page.text
    again = client.post(f"/banjarmasin/lacak/{c.code}/nilai", data={"t": token, "rate-score": "1"})
    assert again.status_code == 303
    assert "You have already rated this answer." in client.get(again.headers["Location"]).text
    with tenant_scope(bjm.id):
        assert db.session.execute(select(Rating.score)).scalars().all() == [4]


def test_citizen_reopens_a_closed_report(client, db, bjm, officer):
    c, token = submitted(client, db, bjm)
    drive(db, bjm, c, officer, "verify", "dispose", "publish", "close")
    page = client.get(f"/banjarmasin/lacak/{c.code}?t={token}")
    assert "Reopen the report" in page.text
    empty = client.post(f"/banjarmasin/lacak/{c.code}/buka-kembali", data={"t": token, "reopen-reason": ""})
    assert empty.status_code == 400
    resp = client.post(f"/banjarmasin/lacak/{c.code}/buka-kembali",
                       data={"t": token, "reopen-reason": "Lampu mati lagi sejak kemarin malam."})
    assert resp.status_code == 303
    c = the_complaint(db, bjm)
    assert c.status == Status.DISPOSED and c.reopen_count == 1
    assert "The report was reopened" in client.get(resp.headers["Location"]).text


# ---------------------------------------------------------------- transparency

def test_transparency_lists_public_and_anonymous_reports_but_not_confidential_ones(client, db, bjm, ktg, officer):
    public, _ = submitted(client, db, bjm, title="Drainase tersumbat di Sungai Miai")
    anon, _ = submitted(client, db, bjm, privacy="anonim", title="Parkir liar di Pasar Lama",
                        reporter_name="Budi Santoso", reporter_email="budi@contoh.id")
    secret, _ = submitted(client, db, bjm, privacy="rahasia", title="Pungutan liar di kantor kelurahan")
    unverified, _ = submitted(client, db, bjm, title="Belum diperiksa unit pengaduan")
    drive(db, bjm, public, officer, "verify", "dispose", "publish")
    drive(db, bjm, anon, officer, "verify")
    drive(db, bjm, secret, officer, "verify")

    page = client.get("/banjarmasin/transparansi")
    assert page.status_code == 200
    html = page.text
    assert "Drainase tersumbat" in html and "by Siti" in html
    assert "Lampu sudah diganti" in html  # the published answer
    assert "Parkir liar di Pasar Lama" in html and "Anonymous reporter" in html
    assert "Budi" not in html and "budi@contoh.id" not in html
    assert "Pungutan liar" not in html and secret.code not in html
    assert "Belum diperiksa" not in html  # listed once checked by the unit
    assert "Norhayati" not in html and REPORTER["email"] not in html and REPORTER["phone"] not in html
    assert "100%" in html  # one answered report, answered within the deadline
    assert "Drainase" not in client.get("/katingan/transparansi").text
    assert unverified.code


def test_transparency_is_paginated(client, db, bjm, officer):
    for i in range(21):
        c, _ = submitted(client, db, bjm, title=f"Laporan nomor {i:02d} tentang jalan")
        drive(db, bjm, c, officer, "verify")
    first = client.get("/banjarmasin/transparansi")
    assert "Laporan nomor 20" in first.text and "Laporan nomor 00" not in first.text
    assert "Page 1 of 2" in first.text
    second = client.get("/banjarmasin/transparansi?page=2")
    assert "Laporan nomor 00" in second.text
    assert client.get("/banjarmasin/transparansi?page=3").status_code == 404


def test_home_page_has_the_calls_to_action_and_the_deadlines(client, bjm):
    page = client.get("/banjarmasin/")
    assert page.status_code == 200
    for path in ("/banjarmasin/lapor", "/banjarmasin/lacak", "/banjarmasin/transparansi"):
        assert f'href="{path}"' in page.text
    assert "within 3 working days" in page.text
    assert "14 working days" in page.text and "60 working days" in page.text
    assert "day 0" in page.text


"""Following a public report (double opt-in, public progress only, unfollow) and "Laporan saya"
(signed-in citizens, one-time links): enumeration, isolation, rate limits, and the reporter-only paths
(private links, the SMS/WhatsApp gateway's matching) refusing followers."""

from __future__ import annotations

import re
import tempfile

import pytest
from sqlalchemy import func, select

from app.agencies.models import Agency
from app.complaints import links, service
from app.complaints.models import Complaint, ContactLink, Follower, FollowerKind, FollowUp, Privacy
from app.integrations import inbound
from app.myreports import following
from app.notifications.models import Notification
from app.tenancy.scope import tenant_scope
from tests.conftest import REPO, login
from tests.factories import submit_complaint
from tests.web.citizen_support import form_data

SECRET_REPLY = "Mohon kirim foto KTP Anda untuk verifikasi lanjutan."
FAN = "pengikut@contoh.id"


def _public_report(db, tenant, make_user, privacy=Privacy.PUBLIC, verify=True, **fields):
    """A report of ``tenant`` (verified by an officer unless ``verify`` is False): (code, token, officer)."""
    officer = make_user(tenant, "officer")
    with tenant_scope(tenant.id):
        reporter = {"reporter_name": "Rina Maulida", "reporter_email": "rina@contoh.id",
                    "reporter_phone": "081255500011"}
        c, _ = submit_complaint(privacy=privacy, commit=False, **{**reporter, **fields})
        if verify:
            service.verify(c, service.Actor.of(officer))
        db.session.commit()
        return c.code, c.access_token, officer


def _messages(db, tenant, recipient, template_hint: str | None = None) -> list[Notification]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        rows = db.session.scalars(select(Notification).filter_by(recipient=recipient).order_by(Notification.id)).all()
        for r in rows:
            r.body, r.subject  # noqa: B018  (load while bound)
        return [r for r in rows if template_hint is None or template_hint in r.body]


def _link_in(body: str, slug: str, path: str) -> str:
    match = re.search(rf"https?://[^\s]+/{slug}/{path}[^\s]*", body)
    assert match, body
    return match.group(0).split(f"/{slug}/", 1)[1]


def _followers(db, tenant, code) -> list[Follower]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        c = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        rows = db.session.scalars(select(Follower).filter_by(complaint_id=c.id).order_by(Follower.id)).all()
        for r in rows:
            r.kind, r.recipient, r.user_id  # noqa: B018
        return rows


def _dispose(db, tenant, code, officer) -> None:
    """A public status change: the report goes to the public works agency."""
    with tenant_scope(tenant.id):
        c = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        service.dispose(c, service.Actor.of(officer),
                        [db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()])
        db.session.commit()


def _follow(client, db, tenant, code, contact=FAN) -> str:
    """Ask to follow and confirm through the message; returns the confirm path used."""
    resp = client.post(f"/{tenant.slug}/lacak/{code}/ikuti", data={"contact": contact})
    assert resp.status_code == 303
    body = _messages(db, tenant, following.parse_contact(contact)[1])[-1].body
    path = _link_in(body, tenant.slug, f"lacak/{code}/ikuti/")
    assert client.get(f"/{tenant.slug}/{path}").status_code == 200
    done = client.post(f"/{tenant.slug}/{path}")
    assert done.status_code == 303
    client.get(done.headers["Location"])  # shows (and so clears) the flash
    return path


# ---------------------------------------------------------------- who may be followed


@pytest.mark.parametrize("privacy,verify", [(Privacy.CONFIDENTIAL, True), (Privacy.PUBLIC, False)])
def test_rahasia_and_unverified_reports_cannot_be_followed(client, db, bjm, make_user, privacy, verify):
    code, _, _ = _public_report(db, bjm, make_user, privacy=privacy, verify=verify)
    assert client.get(f"/banjarmasin/lacak/{code}/ikuti").status_code == 404
    assert client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": FAN}).status_code == 404
    assert _messages(db, bjm, FAN) == []


def test_the_follow_page_of_an_anonim_report_shows_no_identity(client, db, bjm, make_user):
    code, token, _ = _public_report(db, bjm, make_user, privacy=Privacy.ANONYMOUS)
    page = client.get(f"/banjarmasin/lacak/{code}/ikuti")
    assert page.status_code == 200 and code in page.text
    for secret in ("Rina", "rina@contoh.id", "081255500011", "+6281255500011", token):
        assert secret not in page.text


@pytest.mark.parametrize("privacy,verify,offered", [
    (Privacy.PUBLIC, True, True), (Privacy.ANONYMOUS, True, True),
    (Privacy.CONFIDENTIAL, True, False), (Privacy.PUBLIC, False, False)])
def test_the_public_tracking_page_offers_follow_only_for_followable_reports(client, db, bjm, make_user, privacy,
                                                                           verify, offered):
    code, token, _ = _public_report(db, bjm, make_user, privacy=privacy, verify=verify)
    follow = f'href="/banjarmasin/lacak/{code}/ikuti"'
    assert (follow in client.get(f"/banjarmasin/lacak/{code}").text) is offered
    # The reporter's own page (private link) never offers to follow their own report.
    assert follow not in client.get(f"/banjarmasin/lacak/{code}?t={token}").text


# ---------------------------------------------------------------- double opt-in


def test_following_needs_the_confirmation_link_and_the_link_works_once(client, db, bjm, make_user):
    code, token, _ = _public_report(db, bjm, make_user)
    resp = client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": "  Pengikut@Contoh.ID "})
    assert resp.status_code == 303
    assert {f.kind for f in _followers(db, bjm, code)} == {FollowerKind.REPORTER}  # nothing before the confirm
    [msg] = _messages(db, bjm, FAN)
    assert token not in msg.body and "rina" not in msg.body.lower()
    path = _link_in(msg.body, "banjarmasin", f"lacak/{code}/ikuti/")
    # Opening the link (a mail scanner does) changes nothing: a button must be pressed.
    assert client.get(f"/banjarmasin/{path}").status_code == 200
    assert {f.kind for f in _followers(db, bjm, code)} == {FollowerKind.REPORTER}
    assert client.post(f"/banjarmasin/{path}").status_code == 303
    fans = [f for f in _followers(db, bjm, code) if f.kind == FollowerKind.FOLLOWER]
    assert [(f.channel, f.recipient, f.user_id) for f in fans] == [("email", FAN, None)]
    # Used: the link works no more.
    assert client.get(f"/banjarmasin/{path}").status_code == 404
    assert client.post(f"/banjarmasin/{path}").status_code == 404
    with tenant_scope(bjm.id):
        assert db.session.scalar(select(ContactLink.token_hash)) not in path  # only the hash is stored


def test_the_answer_is_the_same_whether_or_not_the_contact_already_follows(client, db, bjm, make_user):
    code, _, _ = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    again = client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": FAN})
    fresh = client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": "baru@contoh.id"})
    assert again.status_code == fresh.status_code == 303
    assert again.headers["Location"] == fresh.headers["Location"]
    page_a = _without_csrf(client.get(again.headers["Location"]).text)
    page_b = _without_csrf(client.get(fresh.headers["Location"]).text)
    assert page_a == page_b
    # The reporter's own address gets the same answer, and confirming it adds no second row.
    mine = client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": "rina@contoh.id"})
    assert mine.headers["Location"] == fresh.headers["Location"]
    path = _link_in(_messages(db, bjm, "rina@contoh.id", "/ikuti/")[-1].body, "banjarmasin", f"lacak/{code}/ikuti/")
    assert client.post(f"/banjarmasin/{path}").status_code == 303
    rina = [f for f in _followers(db, bjm, code) if f.recipient == "rina@contoh.id"]
    assert [f.kind for f in rina] == [FollowerKind.REPORTER]


def test_a_contact_gets_at_most_a_few_links_an_hour_with_the_same_answer(client, db, bjm, make_user):
    code, _, _ = _public_report(db, bjm, make_user)
    answers = {client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": FAN}).headers["Location"]
               for _ in range(following.PER_CONTACT_PER_HOUR + 2)}
    assert len(answers) == 1
    assert len(_messages(db, bjm, FAN)) == following.PER_CONTACT_PER_HOUR


def test_a_bad_contact_is_refused_at_the_field(client, db, bjm, make_user):
    code, _, _ = _public_report(db, bjm, make_user)
    resp = client.post(f"/banjarmasin/lacak/{code}/ikuti", data={"contact": "bukan nomor"})
    assert resp.status_code == 400 and 'class="errors"' in resp.text


# ---------------------------------------------------------------- what followers hear


def test_followers_hear_public_progress_only_with_an_unfollow_link(client, db, bjm, make_user):
    code, token, officer = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    liaison = make_user(bjm, "liaison", agency_code="pupr")
    with tenant_scope(bjm.id):
        c = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        actor = service.Actor.of(officer)
        service.public_reply(c, actor, SECRET_REPLY)  # to the reporter: not for followers
        service.dispose(c, actor, [db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()])
        service.save_followup_draft(c, service.Actor.of(liaison), "Lampu sudah diganti oleh petugas.", submit=True)
        fu = db.session.execute(select(FollowUp).filter_by(complaint_id=c.id)).scalar_one()
        service.publish_followup(c, actor, fu.id)
        db.session.commit()
    msgs = _messages(db, bjm, FAN)[1:]  # after the confirmation request
    assert len(msgs) == 2  # disposed, answered; the reply to the reporter is not among them
    text = "\n".join(m.subject + m.body for m in msgs)
    assert SECRET_REPLY not in text
    assert token not in text and "?t=" not in text
    assert "Rina" not in text and "rina@contoh.id" not in text
    assert "Lampu sudah diganti" in text  # the published answer is public
    for m in msgs:
        assert f"/banjarmasin/lacak/{code}" in m.body and "/banjarmasin/berhenti-mengikuti/" in m.body
    # The reporter still gets the private link, and the reply.
    reporter = "\n".join(m.body for m in _messages(db, bjm, "rina@contoh.id"))
    assert token in reporter and SECRET_REPLY in reporter


def test_a_report_made_rahasia_later_tells_its_followers_nothing(client, db, bjm, make_user):
    code, _, officer = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    with tenant_scope(bjm.id):
        c = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        c.confidential = True
        db.session.commit()
    _dispose(db, bjm, code, officer)
    assert len(_messages(db, bjm, FAN)) == 1  # only the confirmation request


def test_the_unfollow_link_works_without_sign_in_after_a_confirm(client, db, bjm, make_user):
    code, _, officer = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    _dispose(db, bjm, code, officer)
    path = _link_in(_messages(db, bjm, FAN)[-1].body, "banjarmasin", "berhenti-mengikuti/")
    assert client.get(f"/banjarmasin/{path}").status_code == 200
    assert any(f.kind == FollowerKind.FOLLOWER for f in _followers(db, bjm, code))
    assert client.post(f"/banjarmasin/{path}").status_code == 200
    assert [f.kind for f in _followers(db, bjm, code)] == [FollowerKind.REPORTER, FollowerKind.REPORTER]
    assert client.post(f"/banjarmasin/{path}").status_code == 404
    assert client.get(f"/banjarmasin/{path}").status_code == 404
    # A forged or altered token removes nothing.
    assert client.post(f"/banjarmasin/{path[:-3]}abc").status_code == 404


# ---------------------------------------------------------------- reporter-only paths


def test_private_link_refuses_a_follower(client, db, bjm, make_user):
    code, token, _ = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    with tenant_scope(bjm.id):
        rows = db.session.scalars(select(Follower).order_by(Follower.id)).all()
        fan = next(f for f in rows if f.kind == FollowerKind.FOLLOWER)
        reporter = next(f for f in rows if f.kind == FollowerKind.REPORTER)
        assert token in links.private_link(reporter)
        with pytest.raises(links.NotTheReporter):
            links.private_link(fan)
        with pytest.raises(links.NotTheReporter):
            links.own_complaint(fan)
        with pytest.raises(PermissionError):
            links.unfollow_token(reporter)
        c = db.session.get(Complaint, fan.complaint_id)
        with pytest.raises(links.NotTheReporter):
            links.account_link(c, type("U", (), {"id": 12345})())


def test_a_merge_sends_the_duplicates_followers_no_private_link(client, db, bjm, make_user):
    dup_code, dup_token, officer = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, dup_code)
    with tenant_scope(bjm.id):
        primary, _ = submit_complaint(title="Lampu jalan padam di Jl. Veteran", commit=False,
                                      reporter_email="budi@contoh.id")
        dup = db.session.scalars(select(Complaint).filter_by(code=dup_code)).one()
        actor = service.Actor.of(officer)
        service.merge(dup, primary, actor)
        service.verify(primary, actor)
        db.session.commit()
        primary_token = primary.access_token
        # Nothing was copied to the primary.
        assert db.session.scalar(select(func.count(Follower.id)).filter_by(complaint_id=primary.id)) == 1
    text = "\n".join(m.body for m in _messages(db, bjm, FAN)[1:])
    assert dup_token not in text and primary_token not in text and "?t=" not in text


def test_the_gateway_appends_only_to_the_senders_own_reports_not_followed_ones(app, client, db, bjm, make_user):
    code, _, _ = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code, contact="0899 111 2222")
    assert any(f.channel == "sms" and f.kind == FollowerKind.FOLLOWER for f in _followers(db, bjm, code))
    with tenant_scope(bjm.id):
        token = inbound.create_token()
        db.session.commit()
    resp = client.post("/banjarmasin/inbound/sms", headers={"Authorization": f"Bearer {token}"}, json={
        "message_id": "gw-77", "from": "08991112222",
        "text": f"Tambahan untuk {code}: lampunya sekarang berkedip dan tiangnya miring."})
    assert resp.status_code == 201 and resp.get_json()["code"] != code  # a new report, not an addition


# ---------------------------------------------------------------- one-time list link


def _list_path(db, tenant, recipient) -> str:
    body = _messages(db, tenant, recipient, "laporan-saya")[-1].body
    return _link_in(body, tenant.slug, "laporan-saya/tautan/")


def _ask_list(client, contact, slug="banjarmasin"):
    return client.post(f"/{slug}/laporan-saya/tautan", data={"contact": contact})


def test_the_list_link_answer_is_the_same_with_or_without_reports(client, db, bjm, make_user):
    _public_report(db, bjm, make_user)
    known, unknown = _ask_list(client, "rina@contoh.id"), _ask_list(client, "tidakada@contoh.id")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert _without_csrf(client.get(known.headers["Location"]).text) == _without_csrf(
        client.get(unknown.headers["Location"]).text)


def _without_csrf(html: str) -> str:
    """The CSRF token carries a timestamp: two pages a second apart differ only there."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)


def test_the_list_link_lists_filed_and_followed_reports_once(client, db, bjm, make_user):
    code, token, _ = _public_report(db, bjm, make_user)
    other, other_token, _ = _public_report(db, bjm, make_user, title="Saluran air tersumbat di Gang Mawar",
                                           reporter_name="Budi Santoso", reporter_email="budi@contoh.id",
                                           reporter_phone=None)
    _follow(client, db, bjm, other, contact="rina@contoh.id")  # the reporter of ``code`` follows ``other``
    assert _ask_list(client, "Rina@Contoh.id").status_code == 303
    path = _list_path(db, bjm, "rina@contoh.id")
    assert client.get(f"/banjarmasin/{path}").status_code == 200
    page = client.post(f"/banjarmasin/{path}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.text
    assert code in html and f"?t={token}" in html  # their own report with its private link
    assert other in html and other_token not in html and "berhenti-mengikuti" in html  # followed: public only
    assert client.post(f"/banjarmasin/{path}").status_code == 404  # once
    assert client.get(f"/banjarmasin/{path}").status_code == 404


def test_a_list_link_of_one_region_is_useless_in_another(client, db, bjm, ktg, make_user):
    code, _, _ = _public_report(db, bjm, make_user)
    _ask_list(client, "rina@contoh.id")
    path = _list_path(db, bjm, "rina@contoh.id")
    assert client.get(f"/katingan/{path}").status_code == 404
    resp = client.post(f"/katingan/{path}")
    assert resp.status_code == 404 and code not in resp.text
    assert client.post(f"/banjarmasin/{path}").status_code == 200  # still unused at home


def test_an_unfollow_link_of_one_region_is_useless_in_another(client, db, bjm, ktg, make_user):
    code, _, officer = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    _dispose(db, bjm, code, officer)
    path = _link_in(_messages(db, bjm, FAN)[-1].body, "banjarmasin", "berhenti-mengikuti/")
    assert client.post(f"/katingan/{path}").status_code == 404
    assert any(f.kind == FollowerKind.FOLLOWER for f in _followers(db, bjm, code))


# ---------------------------------------------------------------- signed-in citizens


def _citizen_files_a_report(client, tenant, make_user, email):
    user = make_user(tenant, "citizen", email=email)
    login(client, tenant, email)
    resp = client.post(f"/{tenant.slug}/lapor", data=form_data(reporter_email=email))
    assert resp.status_code == 303
    return user


def test_a_signed_in_citizen_sees_their_reports_and_follows(client, db, bjm, ktg, make_user):
    code, token, _ = _public_report(db, bjm, make_user)
    user = _citizen_files_a_report(client, bjm, make_user, "warga@banjarmasin.example")
    with tenant_scope(bjm.id):
        mine = db.session.scalars(select(Complaint).filter_by(reporter_user_id=user.id)).one()
        mine_code, mine_token = mine.code, mine.access_token
    _follow(client, db, bjm, code, contact="warga@banjarmasin.example")  # asked and confirmed signed in
    page = client.get("/banjarmasin/laporan-saya")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert mine_code in page.text and f"?t={mine_token}" in page.text
    assert code in page.text and token not in page.text
    assert "/banjarmasin/laporan-saya" in client.get("/banjarmasin/account").text
    # Another citizen of the region, and one of another region with the same email, see none of it.
    client.post("/banjarmasin/logout")
    make_user(ktg, "citizen", email="warga@banjarmasin.example")
    login(client, ktg, "warga@banjarmasin.example")
    other = client.get("/katingan/laporan-saya").text
    assert mine_code not in other and code not in other


def test_an_account_email_alone_lists_nothing(client, db, bjm, make_user):
    """Account emails are not verified: reports sent without signing in are not listed by email."""
    _public_report(db, bjm, make_user)  # filed by rina@contoh.id without an account
    make_user(bjm, "citizen", email="rina@contoh.id")
    login(client, bjm, "rina@contoh.id")
    page = client.get("/banjarmasin/laporan-saya")
    assert page.status_code == 200 and "?t=" not in page.text


def test_without_an_account_the_page_offers_the_one_time_link(client, db, bjm):
    page = client.get("/banjarmasin/laporan-saya")
    assert page.status_code == 200 and 'action="/banjarmasin/laporan-saya/tautan"' in page.text


# ---------------------------------------------------------------- per-address rate limit


@pytest.fixture(scope="module")
def limited():
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db, limiter
    from app.tenancy.files import load_tenant_config, sync_tenant

    folder = tempfile.mkdtemp(prefix="lapor-mine16-")
    application = create_app({
        "APP_ENV": "testing", "TESTING": True, "SECRET_KEY": "mine16-limit-test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/test.db", "REDIS_URL": None, "JOBS_INLINE": True,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "MY_REPORTS_LINK_RATE_LIMIT": "2 per minute", "FOLLOW_RATE_LIMIT": "2 per minute",
        "MAIL_SERVER": None, "SMS_GATEWAY_URL": None,
    })
    try:
        with application.app_context():
            upgrade(directory=str(REPO / "migrations"))
            sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
            db.session.commit()
            db.session.remove()
        limiter.reset()
        yield application
    finally:
        limiter.reset()
        limiter.enabled = False
        with application.app_context():
            db.engine.dispose()


def test_the_list_link_form_is_limited_per_address(limited):
    client = limited.test_client()
    answers = [client.post("/banjarmasin/laporan-saya/tautan", data={"contact": f"w{i}@contoh.id"}).status_code
               for i in range(3)]
    assert answers == [303, 303, 429]


def test_a_corrected_reporter_contact_that_followed_becomes_the_reporters_own(client, db, bjm, make_user):
    """The complaint unit corrects the reporter's email to an address that already followed the report:
    that row becomes the reporter's (private link), not a follower left without one."""
    from app.privacy import service as pdp

    code, token, officer = _public_report(db, bjm, make_user)
    _follow(client, db, bjm, code)
    with tenant_scope(bjm.id):
        c = db.session.scalars(select(Complaint).filter_by(code=code)).one()
        pdp.correct_identity(c, service.Actor.of(officer), name="Rina Maulida", email=FAN,
                             phone="081255500011")
        db.session.commit()
    rows = {(f.recipient, f.kind) for f in _followers(db, bjm, code)}
    assert rows == {(FAN, FollowerKind.REPORTER), ("+6281255500011", FollowerKind.REPORTER)}
    with tenant_scope(bjm.id):
        fan = db.session.scalars(select(Follower).filter_by(recipient=FAN)).one()
        assert token in links.private_link(fan)

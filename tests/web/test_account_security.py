"""Two-factor authentication, server-side sessions, login backoff and the security audit log,
through the real pages (tenant staff and central administrators)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.accounts import mfa, services
from app.accounts.audit import Action, PlatformSecurityEvent, SecurityEvent
from app.accounts.models import PlatformAdmin, User, UserSession
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.conftest import DEMO_PASSWORD, central_login, login
from tests.mfa_support import SECRETS, complete_mfa, mark_used, next_code, remember_secret, secret_from_page
from tests.web.test_accounts import text_in

WRONG = "Wrong email or password."


def _user(db, tenant, user_id) -> User:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        user = db.session.get(User, user_id)
        user.totp_secret, user.recovery_codes, user.failed_logins  # noqa: B018 (load while bound)
        return user


def _events(db, tenant, action=None) -> list[SecurityEvent]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        stmt = select(SecurityEvent).order_by(SecurityEvent.id)
        if action:
            stmt = stmt.filter_by(action=action)
        return list(db.session.scalars(stmt))


def _password_step(client, tenant, email, password=DEMO_PASSWORD, remember=False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post(f"/{tenant.slug}/login", data=data)


def _enrol(db, tenant, user):
    """A user who has enrolled (through the pages); returns (signed-in client, secret)."""
    from flask import current_app

    client = current_app.test_client()
    assert login(client, tenant, user.email).status_code == 302
    return client, SECRETS[(f"/{tenant.slug}", user.email.lower())]


@pytest.fixture()
def admin(bjm, make_user):
    return make_user(bjm, "tenant_admin", name="Novri Gitayanti")


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer", name="Rahmadi Noor")


# ------------------------------------------------------------------ two-factor: administrators must enrol


def test_tenant_admin_must_enrol_before_reaching_anything(app, db, bjm, admin, client):
    resp = _password_step(client, bjm, admin.email)
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/login/2fa/setup"
    for url in ("/banjarmasin/staff/", "/banjarmasin/account", "/banjarmasin/staff/users"):
        assert client.get(url).status_code == 302, url  # not signed in yet
    page = client.get("/banjarmasin/login/2fa/setup")
    assert page.status_code == 200 and "<svg" in page.text and "otpauth" not in page.text.split("<svg")[0]
    secret = secret_from_page(page.text)
    assert client.post("/banjarmasin/login/2fa/setup", data={"code": "000000"}).status_code == 200
    assert client.get("/banjarmasin/staff/").status_code == 302
    done = client.post("/banjarmasin/login/2fa/setup", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.headers["Location"].startswith("/banjarmasin/account/2fa/recovery-codes")
    codes_page = client.get(done.headers["Location"])
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", codes_page.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/banjarmasin/staff/users", follow_redirects=True).status_code == 200
    stored = _user(db, bjm, admin.id)
    assert stored.totp_secret == secret and len(stored.recovery_codes) == 10
    assert not any(code.replace("-", "") in str(stored.recovery_codes) for code in codes)  # hashed
    # Shown once: opening the page again offers new codes but does not repeat the old ones.
    again = client.get("/banjarmasin/account/2fa/recovery-codes")
    assert not any(code in again.text for code in codes)
    assert [e.action for e in _events(db, bjm)][-3:] == [Action.MFA_ENROLLED, Action.LOGIN, Action.MFA_RECOVERY_RENEWED]


def test_enrolled_admin_needs_a_current_code_and_a_code_works_once(app, db, bjm, admin):
    _, secret = _enrol(db, bjm, admin)
    browser = app.test_client()
    resp = _password_step(browser, bjm, admin.email)
    assert resp.headers["Location"] == "/banjarmasin/login/2fa"
    assert browser.get("/banjarmasin/staff/").status_code == 302
    wrong = browser.post("/banjarmasin/login/2fa", data={"code": "123456"})
    assert wrong.status_code == 200 and browser.get("/banjarmasin/staff/").status_code == 302
    code = next_code("/banjarmasin", admin.email)
    assert browser.post("/banjarmasin/login/2fa", data={"code": code}).status_code == 302
    assert browser.get("/banjarmasin/staff/").status_code == 200
    # Replay: the same code, seen by someone else, does not sign in a second browser.
    thief = app.test_client()
    _password_step(thief, bjm, admin.email)
    assert thief.post("/banjarmasin/login/2fa", data={"code": code}).status_code == 200
    assert thief.get("/banjarmasin/staff/").status_code == 302
    assert len(_events(db, bjm, Action.MFA_FAILED)) == 2


def test_replay_protection_rejects_the_last_used_step_and_older_ones():
    secret = pyotp.random_base32()
    now = 1_800_000_000
    code = pyotp.TOTP(secret).at(now)
    step = mfa.accepted_step(secret, code, None, now=now)
    assert step == now // 30
    assert mfa.accepted_step(secret, code, step, now=now) is None
    assert mfa.accepted_step(secret, pyotp.TOTP(secret).at(now - 30), step, now=now) is None
    assert mfa.accepted_step(secret, pyotp.TOTP(secret).at(now + 30), step, now=now) == step + 1
    assert mfa.accepted_step(secret, pyotp.TOTP(secret).at(now - 120), None, now=now) is None  # too old


def test_a_recovery_code_signs_in_once(app, db, bjm, admin):
    client, _ = _enrol(db, bjm, admin)
    page = client.get("/banjarmasin/account/2fa/recovery-codes")  # first visit creates them
    code = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.text)[0]
    for attempt in (1, 2):
        browser = app.test_client()
        _password_step(browser, bjm, admin.email)
        resp = browser.post("/banjarmasin/login/2fa", data={"code": code.upper()})
        assert (resp.status_code == 302) is (attempt == 1), attempt
    assert len(_user(db, bjm, admin.id).recovery_codes) == 9
    assert len(_events(db, bjm, Action.MFA_RECOVERY_USED)) == 1


def test_officer_signs_in_without_a_second_factor_and_may_turn_it_on_and_off(app, db, bjm, officer, client):
    resp = _password_step(client, bjm, officer.email)
    assert resp.headers["Location"] == "/banjarmasin/staff/"
    assert client.get("/banjarmasin/account").status_code == 200
    page = client.get("/banjarmasin/account/2fa/setup")
    secret = secret_from_page(page.text)
    done = client.post("/banjarmasin/account/2fa/setup", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and _user(db, bjm, officer.id).totp_secret == secret
    remember_secret("/banjarmasin", officer.email, secret)
    mark_used("/banjarmasin", officer.email)  # the enrolment used the current step
    browser = app.test_client()
    first = _password_step(browser, bjm, officer.email)
    assert first.headers["Location"] == "/banjarmasin/login/2fa"
    assert complete_mfa(browser, first, officer.email, "/banjarmasin").status_code == 302
    assert browser.get("/banjarmasin/staff/").status_code == 200
    assert browser.post("/banjarmasin/account/2fa/disable", data={"password": "wrong"}).status_code == 200
    assert browser.post("/banjarmasin/account/2fa/disable", data={"password": DEMO_PASSWORD}).status_code == 302
    assert _user(db, bjm, officer.id).totp_secret is None
    assert _password_step(app.test_client(), bjm, officer.email).headers["Location"] == "/banjarmasin/staff/"


def test_administrators_cannot_turn_the_second_factor_off(app, db, bjm, admin):
    client, _ = _enrol(db, bjm, admin)
    assert client.post("/banjarmasin/account/2fa/disable", data={"password": DEMO_PASSWORD}).status_code == 403
    assert _user(db, bjm, admin.id).totp_secret


def test_an_admin_whose_second_factor_was_removed_is_signed_out(app, db, bjm, admin):
    client, _ = _enrol(db, bjm, admin)
    db.session.expire_all()
    with tenant_scope(bjm.id):
        db.session.get(User, admin.id).totp_secret = None
        db.session.commit()
    assert client.get("/banjarmasin/staff/").status_code == 302


def test_the_pending_second_step_belongs_to_one_region(app, db, bjm, ktg, admin, client):
    _enrol(db, bjm, admin)
    _password_step(client, bjm, admin.email)
    assert client.get("/katingan/login/2fa").status_code == 302
    assert client.post("/katingan/login/2fa", data={"code": next_code("/banjarmasin", admin.email)}
                       ).headers["Location"] == "/katingan/login"


def test_central_admin_must_enrol_and_then_verify(app, db, client):
    services.create_platform_admin("pusat@lapor.example", "Admin Pusat", "central-password-1")
    db.session.commit()
    resp = client.post("/central/login", data={"email": "pusat@lapor.example", "password": "central-password-1"})
    assert resp.headers["Location"] == "/central/login/2fa/setup"
    assert client.get("/central/").status_code == 302
    assert complete_mfa(client, resp, "pusat@lapor.example", "/central").status_code == 302
    assert client.get("/central/").status_code == 200
    second = app.test_client()
    resp = second.post("/central/login", data={"email": "pusat@lapor.example", "password": "central-password-1"})
    assert resp.headers["Location"] == "/central/login/2fa"
    assert second.post("/central/login/2fa", data={"code": "000000"}).status_code == 200
    assert complete_mfa(second, resp, "pusat@lapor.example", "/central").status_code == 302
    assert second.get("/central/").status_code == 200
    actions = [e.action for e in db.session.scalars(select(PlatformSecurityEvent).order_by(PlatformSecurityEvent.id))]
    assert actions == [Action.MFA_ENROLLED, Action.LOGIN, Action.MFA_FAILED, Action.LOGIN]


# ------------------------------------------------------------------ server-side sessions


def test_signing_out_ends_the_session_on_the_server(app, db, bjm, officer, client):
    assert login(client, bjm, officer.email).status_code == 302
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)  # a stolen copy of the cookie
    assert copy.get("/banjarmasin/staff/").status_code == 200
    client.post("/banjarmasin/logout")
    assert copy.get("/banjarmasin/staff/").status_code == 302
    with tenant_scope(bjm.id):
        rows = list(db.session.scalars(select(UserSession).filter_by(user_id=officer.id)))
    assert len(rows) == 1 and rows[0].revoked_at is not None


def test_sign_out_everywhere_ends_every_browser_and_the_remember_me_cookie(app, db, bjm, officer):
    laptop, phone = app.test_client(), app.test_client()
    assert _password_step(laptop, bjm, officer.email, remember=True).status_code == 302
    assert login(phone, bjm, officer.email).status_code == 302
    remember = laptop.get_cookie("remember_token").value
    page = phone.get("/banjarmasin/account")
    assert "revoke-all" in page.text and page.text.count("/revoke\"") == 1  # the laptop; not this browser
    assert phone.post("/banjarmasin/account/sessions/revoke-all").status_code == 302
    assert phone.get("/banjarmasin/staff/").status_code == 302
    assert laptop.get("/banjarmasin/staff/").status_code == 302
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/banjarmasin/staff/").status_code == 302
    assert _events(db, bjm, Action.LOGOUT_EVERYWHERE)


def test_a_remember_me_cookie_restores_a_valid_session(app, db, bjm, officer):
    laptop = app.test_client()
    _password_step(laptop, bjm, officer.email, remember=True)
    browser_restarted = app.test_client()
    browser_restarted.set_cookie("remember_token", laptop.get_cookie("remember_token").value)
    assert browser_restarted.get("/banjarmasin/staff/").status_code == 200


def test_one_other_device_can_be_signed_out_from_the_account_page(app, db, bjm, officer):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, bjm, officer.email)
    login(phone, bjm, officer.email)
    with tenant_scope(bjm.id):
        first = db.session.scalars(select(UserSession).filter_by(user_id=officer.id).order_by(UserSession.id)).first()
    assert f"/banjarmasin/account/sessions/{first.id}/revoke" in phone.get("/banjarmasin/account").text
    assert phone.post(f"/banjarmasin/account/sessions/{first.id}/revoke").status_code == 302
    assert laptop.get("/banjarmasin/staff/").status_code == 302
    assert phone.get("/banjarmasin/staff/").status_code == 200


def test_a_session_id_of_another_user_is_not_found(app, db, bjm, officer, make_user):
    other = make_user(bjm, "officer")
    other_browser, me = app.test_client(), app.test_client()
    login(other_browser, bjm, other.email)
    login(me, bjm, officer.email)
    with tenant_scope(bjm.id):
        theirs = db.session.scalars(select(UserSession).filter_by(user_id=other.id)).one()
    assert me.post(f"/banjarmasin/account/sessions/{theirs.id}/revoke").status_code == 404
    assert other_browser.get("/banjarmasin/staff/").status_code == 200


def test_changing_the_password_ends_the_other_sessions_only(app, db, bjm, officer):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, bjm, officer.email)
    login(phone, bjm, officer.email)
    bad = laptop.post("/banjarmasin/account/password", data={"current": "nope", "password": "a-new-password-1",
                                                            "confirm": "a-new-password-1"})
    assert bad.status_code == 200 and phone.get("/banjarmasin/staff/").status_code == 200
    resp = laptop.post("/banjarmasin/account/password", data={
        "current": DEMO_PASSWORD, "password": "a-new-password-1", "confirm": "a-new-password-1"})
    assert resp.status_code == 302
    assert laptop.get("/banjarmasin/staff/").status_code == 200
    assert phone.get("/banjarmasin/staff/").status_code == 302
    assert login(app.test_client(), bjm, officer.email, "a-new-password-1").status_code == 302
    assert _events(db, bjm, Action.PASSWORD_CHANGED)


def test_a_role_change_by_the_tenant_admin_ends_the_users_sessions_and_is_audited(app, db, bjm, admin, officer):
    admin_client, _ = _enrol(db, bjm, admin)
    officer_client = app.test_client()
    login(officer_client, bjm, officer.email)
    users_page = admin_client.get("/banjarmasin/staff/users", follow_redirects=True)
    assert f"/banjarmasin/staff/settings/staff/{officer.id}/role" in users_page.text
    resp = admin_client.post(f"/banjarmasin/staff/settings/staff/{officer.id}/role",
                             data={"u-role": "tenant_admin", "u-agency_id": ""})
    assert resp.status_code == 303
    assert _user(db, bjm, officer.id).role == "tenant_admin"
    assert officer_client.get("/banjarmasin/staff/").status_code == 302
    # As a new administrator, the next sign-in asks for enrolment.
    assert _password_step(app.test_client(), bjm, officer.email).headers["Location"] == "/banjarmasin/login/2fa/setup"
    (event,) = _events(db, bjm, Action.ROLE_CHANGED)
    assert (event.user_id, event.by_user_id, event.detail) == (officer.id, admin.id,
                                                              {"old": "officer", "new": "tenant_admin"})


def test_a_liaison_needs_an_agency_and_an_admin_cannot_change_their_own_role(app, db, bjm, admin, officer):
    client, _ = _enrol(db, bjm, admin)
    client.post(f"/banjarmasin/staff/settings/staff/{officer.id}/role", data={"u-role": "liaison", "u-agency_id": ""})
    assert _user(db, bjm, officer.id).role == "officer"
    client.post(f"/banjarmasin/staff/settings/staff/{admin.id}/role", data={"u-role": "officer", "u-agency_id": ""})
    assert _user(db, bjm, admin.id).role == "tenant_admin"


def test_deactivating_a_staff_account_ends_its_sessions(app, db, bjm, admin, officer):
    admin_client, _ = _enrol(db, bjm, admin)
    officer_client = app.test_client()
    login(officer_client, bjm, officer.email)
    assert admin_client.post(f"/banjarmasin/staff/settings/staff/{officer.id}/active",
                             data={"active": "0"}).status_code == 303
    assert officer_client.get("/banjarmasin/staff/").status_code == 302
    assert _password_step(app.test_client(), bjm, officer.email).status_code == 200
    assert admin_client.post(f"/banjarmasin/staff/settings/staff/{officer.id}/active",
                             data={"active": "1"}).status_code == 303
    assert login(app.test_client(), bjm, officer.email).status_code == 302
    assert [e.action for e in _events(db, bjm) if e.action.startswith("user.")] == [
        Action.USER_DEACTIVATED, Action.USER_REACTIVATED]


def test_central_admin_signs_out_everywhere(app, db):
    services.create_platform_admin("pusat@lapor.example", "Admin Pusat", "central-password-1")
    db.session.commit()
    one, two = app.test_client(), app.test_client()
    assert central_login(one, "pusat@lapor.example", "central-password-1").status_code == 302
    assert central_login(two, "pusat@lapor.example", "central-password-1").status_code == 302
    assert "sessions/revoke-all" in one.get("/central/account").text
    one.post("/central/account/sessions/revoke-all")
    assert one.get("/central/").status_code == 302 and two.get("/central/").status_code == 302


# ------------------------------------------------------------------ backoff


def test_five_failures_lock_the_account_with_the_same_message_as_an_unknown_email(app, db, bjm, officer, client):
    message = text_in(app, WRONG)
    for _ in range(5):
        resp = _password_step(client, bjm, officer.email, "wrong-password")
        assert message in resp.text
    user = _user(db, bjm, officer.id)
    assert user.failed_logins == 5 and user.locked_until > utcnow() + timedelta(seconds=50)
    locked = _password_step(client, bjm, officer.email)  # the right password, while locked
    unknown = _password_step(client, bjm, "nobody@contoh.id")
    assert locked.status_code == unknown.status_code == 200
    assert message in locked.text and message in unknown.text
    assert client.get("/banjarmasin/staff/").status_code == 302
    # Refused attempts during the lock do not extend it.
    assert _user(db, bjm, officer.id).locked_until == user.locked_until
    assert _events(db, bjm, Action.LOGIN_LOCKED)


def test_the_lock_ends_by_itself_and_a_success_clears_the_count(app, db, bjm, officer, client):
    for _ in range(5):
        _password_step(client, bjm, officer.email, "wrong-password")
    db.session.expire_all()
    with tenant_scope(bjm.id):
        db.session.get(User, officer.id).locked_until = utcnow() - timedelta(seconds=1)  # a minute later
        db.session.commit()
    assert _password_step(client, bjm, officer.email).status_code == 302
    assert _user(db, bjm, officer.id).failed_logins == 0


def test_the_lock_grows_but_never_beyond_the_cap(app):
    with app.app_context():
        assert [services.lock_minutes(n) for n in range(1, 12)] == [0, 0, 0, 0, 1, 2, 4, 8, 15, 15, 15]
        assert services.lock_minutes(10_000) == 15


def test_a_password_reset_lifts_the_lock(app, db, bjm, officer, client):
    for _ in range(6):
        _password_step(client, bjm, officer.email, "wrong-password")
    db.session.expire_all()
    with tenant_scope(bjm.id):
        services.reset_password(db.session.get(User, officer.id), "a-fresh-password-1")
        db.session.commit()
    assert login(client, bjm, officer.email, "a-fresh-password-1").status_code == 302


def test_wrong_second_factor_codes_count_towards_the_lock(app, db, bjm, admin):
    _enrol(db, bjm, admin)
    browser = app.test_client()
    _password_step(browser, bjm, admin.email)
    for _ in range(5):
        browser.post("/banjarmasin/login/2fa", data={"code": "000000"})
    assert services.is_locked(_user(db, bjm, admin.id))
    resp = browser.post("/banjarmasin/login/2fa", data={"code": next_code("/banjarmasin", admin.email)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/login"
    assert browser.get("/banjarmasin/staff/").status_code == 302


# ------------------------------------------------------------------ audit log


def test_audit_log_records_sign_ins_and_failures_without_secrets(app, db, bjm, officer, make_user, client):
    citizen = make_user(bjm, "citizen")
    _password_step(client, bjm, officer.email, "a-guessed-password")
    _password_step(client, bjm, "nobody@contoh.id", "another-guess")
    _password_step(client, bjm, citizen.email, "citizen-guess")
    login(client, bjm, officer.email)
    events = _events(db, bjm)
    assert [(e.action, e.user_id) for e in events] == [
        (Action.LOGIN_FAILED, officer.id), (Action.LOGIN_FAILED, None), (Action.LOGIN_FAILED, None),
        (Action.LOGIN, officer.id)]
    dump = repr([(e.detail, e.ip) for e in events])
    for secret in ("a-guessed-password", "another-guess", DEMO_PASSWORD, "nobody@contoh.id", citizen.email):
        assert secret not in dump
    assert all(e.ip == "127.0.0.1" for e in events)


def test_a_refused_page_is_audited(app, db, bjm, officer, client):
    login(client, bjm, officer.email)
    assert client.get("/banjarmasin/staff/users").status_code == 403
    (event,) = _events(db, bjm, Action.ACCESS_DENIED)
    assert event.user_id == officer.id and event.detail == {"path": "/banjarmasin/staff/users", "method": "GET"}


def test_tenant_admin_sees_only_their_regions_security_log(app, db, bjm, ktg, admin, make_user):
    ktg_officer = make_user(ktg, "officer", name="Petugas Katingan Yang Gagal")
    _password_step(app.test_client(), ktg, ktg_officer.email, "wrong-password")
    bjm_officer = make_user(bjm, "officer", name="Petugas Banjarmasin Yang Masuk")
    login(app.test_client(), bjm, bjm_officer.email)
    client, _ = _enrol(db, bjm, admin)
    page = client.get("/banjarmasin/staff/audit", follow_redirects=True)  # the one audit trail, security filter
    assert page.status_code == 200
    assert "Petugas Banjarmasin Yang Masuk" in page.text and "Petugas Katingan Yang Gagal" not in page.text
    assert "login.success" in page.text and "login.failure" not in page.text
    # Actions are shown as translated labels, Indonesian by default.
    assert "Berhasil masuk" in page.text and "Gagal masuk" not in page.text
    # Details too: the admin's own sign-in enrolled the second factor.
    assert "Faktor kedua: diatur saat masuk" in page.text and "second_factor" not in page.text


def test_only_tenant_admins_open_the_security_log(app, db, bjm, officer, client):
    login(client, bjm, officer.email)
    assert client.get("/banjarmasin/staff/audit").status_code == 403


def test_central_admin_sees_the_platform_security_log(app, db, client):
    admin = services.create_platform_admin("pusat@lapor.example", "Admin Pusat Tercatat", "central-password-1")
    db.session.commit()
    client.post("/central/login", data={"email": "pusat@lapor.example", "password": "wrong-password-x"})
    central_login(client, "pusat@lapor.example", "central-password-1")
    page = client.get("/central/audit")
    assert page.status_code == 200
    assert "login.failure" in page.text and "Admin Pusat Tercatat" in page.text
    assert "Gagal masuk" in page.text
    assert "wrong-password-x" not in page.text
    row = db.session.scalars(select(PlatformSecurityEvent).filter_by(action=Action.LOGIN_FAILED)).one()
    assert row.admin_id == admin.id


def test_demo_admins_are_enrolled_with_the_printed_key(app, db, demo_data):
    from app.demo import DEMO_PASSWORD as DEMO
    from app.demo import DEMO_TOTP_SECRET

    lines = "\n".join(demo_data)  # what seed_demo printed (seeded once per run: tests/conftest.py)
    assert DEMO_TOTP_SECRET in lines and "otpauth://totp/" in lines
    remember_secret("/central", "pusat@lapor.demo", DEMO_TOTP_SECRET)
    client = app.test_client()
    assert central_login(client, "pusat@lapor.demo", DEMO).status_code == 302
    assert client.get("/central/").status_code == 200
    admin = db.session.scalars(select(PlatformAdmin).filter_by(email="pusat@lapor.demo")).one()
    assert admin.totp_secret == DEMO_TOTP_SECRET


def test_the_cli_removes_a_lost_second_factor_and_ends_the_sessions(app, db, bjm, admin):
    client, _ = _enrol(db, bjm, admin)
    db.session.expire_all()  # the CLI shares this test's session: forget what it loaded before the sign-in
    result = app.test_cli_runner().invoke(args=["accounts", "reset-2fa", "--tenant", "banjarmasin",
                                                "--email", admin.email.upper()])
    assert result.exit_code == 0, result.output
    assert _user(db, bjm, admin.id).totp_secret is None
    assert client.get("/banjarmasin/staff/").status_code == 302
    resp = _password_step(app.test_client(), bjm, admin.email)
    assert resp.headers["Location"] == "/banjarmasin/login/2fa/setup"
    assert app.test_cli_runner().invoke(args=["accounts", "reset-2fa", "--email", "nobody@x.id"]).exit_code == 1

"""Signing in and out, roles, password reset and central administrators, through the real pages."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import itsdangerous
import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import PlatformAdmin, User
from app.notifications.models import Notification
from app.tenancy.scope import tenant_scope
from tests.conftest import DEMO_PASSWORD, central_login, login
from tests.mfa_support import complete_mfa


def text_in(app, msgid: str, locale: str = "id") -> str:
    """``msgid`` as a page in ``locale`` shows it (translated once catalogs exist, HTML-escaped)."""
    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(msgid)))


@pytest.fixture()
def bjm_officer(bjm, make_user):
    return make_user(bjm, "officer", name="Rahmadi Noor")


@pytest.fixture()
def ktg_officer(ktg, make_user):
    return make_user(ktg, "officer", name="Yuliana Dewi")


# ------------------------------------------------------------------ signing in


def test_officer_signs_in_to_own_region_and_lands_on_the_staff_desk(app, bjm, bjm_officer, client):
    resp = login(client, bjm, bjm_officer.email)
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/staff/"
    desk = client.get("/banjarmasin/staff/")
    assert desk.status_code == 200 and "Rahmadi Noor" in desk.text


def test_each_region_signs_in_its_own_users(app, ktg, ktg_officer, client):
    assert login(client, ktg, ktg_officer.email).status_code == 302
    assert client.get("/katingan/staff/").status_code == 200


def test_credentials_of_one_region_do_not_sign_in_at_another(app, ktg, bjm_officer, client):
    resp = login(client, ktg, bjm_officer.email)
    assert resp.status_code == 200
    assert text_in(app, "Wrong email or password.") in resp.text
    assert client.get("/katingan/staff/").status_code == 302


def test_the_same_email_in_two_regions_is_two_accounts_with_their_own_passwords(app, bjm, ktg, make_user, client):
    make_user(bjm, "officer", email="cordelia@contoh.id", name="Cordelia Banjarmasin", password="banjar-password-1")
    make_user(ktg, "officer", email="cordelia@contoh.id", name="Cordelia Katingan", password="katingan-password-1")
    assert login(client, ktg, "cordelia@contoh.id", "banjar-password-1").status_code == 200
    assert login(client, ktg, "cordelia@contoh.id", "katingan-password-1").status_code == 302
    assert "Cordelia Katingan" in client.get("/katingan/staff/").text


def test_wrong_password_and_unknown_email_get_the_same_message(app, bjm, bjm_officer, client):
    wrong = login(client, bjm, bjm_officer.email, "not-the-password")
    unknown = login(client, bjm, "nobody@contoh.id")
    message = text_in(app, "Wrong email or password.")
    assert wrong.status_code == unknown.status_code == 200
    assert message in wrong.text and message in unknown.text
    assert client.get("/banjarmasin/staff/").status_code == 302


def test_email_is_matched_without_regard_to_case(bjm, bjm_officer, client):
    assert login(client, bjm, bjm_officer.email.upper()).status_code == 302


@pytest.mark.parametrize("email", ["petugas@example.invalid", "petugas@banjarmasin.test", "petugas@localhost",
                                   "petugas@@banjarmasin.example", "petugas@banjarmasin"])
def test_create_user_refuses_an_email_the_sign_in_form_refuses(app, db, bjm, client, email):
    # Before, the CLI created such an account and the sign-in form refused its address for good.
    result = app.test_cli_runner().invoke(args=[
        "accounts", "create-user", "--tenant", "banjarmasin", "--email", email, "--name", "Petugas Baru",
        "--role", "officer", "--password", "kata-sandi-panjang-1"], input=None)
    assert result.exit_code == 1 and "not a valid email address" in result.output
    with tenant_scope(bjm.id):
        assert db.session.scalars(select(User).filter(User.email == email.lower())).first() is None
    page = client.post("/banjarmasin/login", data={"email": email, "password": "kata-sandi-panjang-1"})
    assert page.status_code == 200 and text_in(app, "Enter a valid email address.") in page.text
    with tenant_scope(bjm.id), pytest.raises(ValueError):
        services.create_user(email, "Petugas Baru", "officer", password="kata-sandi-panjang-1")
    with pytest.raises(ValueError):
        services.create_platform_admin(email, "Admin Pusat", "kata-sandi-panjang-1")


def test_create_user_accepts_an_address_the_sign_in_form_accepts_and_it_signs_in(app, db, bjm, client):
    result = app.test_cli_runner().invoke(args=[
        "accounts", "create-user", "--tenant", "banjarmasin", "--email", " Petugas.Baru@Banjarmasin.Example ",
        "--name", "Petugas Baru", "--role", "officer", "--password", "kata-sandi-panjang-1"])
    assert result.exit_code == 0, result.output
    resp = login(client, bjm, "petugas.baru@banjarmasin.example", "kata-sandi-panjang-1")
    assert resp.status_code == 302 and "/staff" in resp.headers["Location"]


def test_sign_in_follows_a_local_next_but_never_another_site(bjm, bjm_officer, app):
    local = app.test_client().post("/banjarmasin/login?next=/banjarmasin/staff/users",
                                   data={"email": bjm_officer.email, "password": DEMO_PASSWORD})
    assert local.headers["Location"] == "/banjarmasin/staff/users"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        resp = app.test_client().post(f"/banjarmasin/login?next={target}",
                                      data={"email": bjm_officer.email, "password": DEMO_PASSWORD})
        location = resp.headers["Location"]
        assert not urlsplit(location).netloc and not location.startswith(("//", "/\\")), target


def test_passwords_are_stored_as_argon2id(db, bjm, bjm_officer):
    with tenant_scope(bjm.id):
        stored = db.session.get(User, bjm_officer.id).password_hash
    assert stored.startswith("$argon2id$")
    assert DEMO_PASSWORD not in stored


def test_deactivated_user_is_signed_out_at_the_next_request(db, bjm, bjm_officer, login_as):
    client = login_as(bjm, bjm_officer)
    with tenant_scope(bjm.id):
        db.session.get(User, bjm_officer.id).active = False
        db.session.commit()
    assert client.get("/banjarmasin/staff/").status_code == 302


# ------------------------------------------------------------------ regions and roles


def test_banjarmasin_officer_session_is_not_valid_in_katingan(app, bjm, ktg, bjm_officer, login_as):
    client = login_as(bjm, bjm_officer)
    resp = client.get("/katingan/staff/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/katingan/login")
    home = client.get("/katingan/")
    assert home.status_code == 200 and "Rahmadi Noor" not in home.text
    assert client.get("/katingan/account").status_code == 302
    assert client.get("/banjarmasin/staff/").status_code == 200  # still signed in at home


@pytest.mark.parametrize("role", ["liaison", "officer", "citizen"])
def test_only_tenant_admins_see_the_staff_accounts_page(bjm, make_user, login_as, role):
    client = login_as(bjm, make_user(bjm, role))
    assert client.get("/banjarmasin/staff/users").status_code == 403


def test_tenant_admin_sees_own_regions_staff_accounts_only(bjm, ktg, make_user, login_as):
    make_user(ktg, "officer", name="Petugas Katingan")
    make_user(bjm, "liaison", name="Penghubung Banjarmasin", agency_code="pupr")
    client = login_as(bjm, make_user(bjm, "tenant_admin"))
    page = client.get("/banjarmasin/staff/users", follow_redirects=True)
    assert page.status_code == 200
    assert "Penghubung Banjarmasin" in page.text and "Petugas Katingan" not in page.text


def test_citizen_cannot_open_the_staff_desk(bjm, make_user, login_as):
    client = login_as(bjm, make_user(bjm, "citizen"))
    assert client.get("/banjarmasin/staff/").status_code == 403


def test_anonymous_visitor_is_sent_to_the_regions_sign_in(client, bjm):
    for url in ("/banjarmasin/staff/", "/banjarmasin/account"):
        resp = client.get(url)
        assert resp.status_code == 302, url
        assert resp.headers["Location"].startswith("/banjarmasin/login?next="), url


# ------------------------------------------------------------------ rate limit


def test_too_many_sign_in_attempts_answer_429(limited_app):
    client = limited_app.test_client()
    data = {"email": "petugas@banjarmasin.example", "password": "wrong-password"}
    codes = [client.post("/banjarmasin/login", data=data).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    blocked = client.post("/banjarmasin/login", data={**data, "password": DEMO_PASSWORD})
    assert blocked.status_code == 429
    assert client.get("/banjarmasin/login").status_code == 200  # only POSTs count


def test_sign_in_attempts_are_also_limited_per_email_across_addresses(limited_app):
    data = {"email": "petugas@banjarmasin.example", "password": "wrong-password"}
    codes = [limited_app.test_client().post("/banjarmasin/login", data=data,
                                            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]


# ------------------------------------------------------------------ signing out


def _session_cookie(client):
    return client.get_cookie("session").value


def test_logout_ends_the_session_even_for_a_copied_cookie(app, bjm, bjm_officer, login_as):
    client = login_as(bjm, bjm_officer)
    stolen = _session_cookie(client)
    assert client.get("/banjarmasin/staff/").status_code == 200
    resp = client.post("/banjarmasin/logout")
    assert resp.status_code == 302
    assert client.get("/banjarmasin/staff/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    resp = replay.get("/banjarmasin/staff/")
    assert resp.status_code == 302 and "/banjarmasin/login" in resp.headers["Location"]


def test_logout_is_post_only(client, bjm):
    assert client.get("/banjarmasin/logout").status_code == 405


# ------------------------------------------------------------------ password reset


def _reset_link(db, tenant, email) -> str:
    with tenant_scope(tenant.id):
        db.session.expire_all()
        notes = db.session.scalars(
            select(Notification).where(Notification.recipient == email, Notification.event_key.like("user:%:reset:%"))
        ).all()
    assert len(notes) == 1
    assert notes[0].status == "sent" and notes[0].channel == "email"
    match = re.search(r"https?://\S+/password/reset/\S+", notes[0].body)
    assert match, notes[0].body
    return match.group(0)


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_password_reset_email_link_works_once(app, db, bjm, bjm_officer, client):
    resp = client.post("/banjarmasin/password/forgot", data={"email": bjm_officer.email})
    assert resp.status_code == 302
    link = _path(_reset_link(db, bjm, bjm_officer.email))
    assert link.startswith("/banjarmasin/password/reset/")
    assert client.get(link).status_code == 200
    done = client.post(link, data={"password": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert done.status_code == 302 and done.headers["Location"] == "/banjarmasin/login"
    assert login(client, bjm, bjm_officer.email, "a-brand-new-password").status_code == 302
    assert login(app.test_client(), bjm, bjm_officer.email, DEMO_PASSWORD).status_code == 200
    again = app.test_client().post(link, data={"password": "third-password-123", "confirm": "third-password-123"})
    assert again.status_code == 302 and again.headers["Location"] == "/banjarmasin/password/forgot"
    assert login(app.test_client(), bjm, bjm_officer.email, "third-password-123").status_code == 200


def test_forgot_password_for_an_unknown_email_sends_nothing_and_says_the_same(app, db, bjm, bjm_officer, client):
    known = client.post("/banjarmasin/password/forgot", data={"email": bjm_officer.email}, follow_redirects=True)
    unknown = client.post("/banjarmasin/password/forgot", data={"email": "nobody@contoh.id"}, follow_redirects=True)
    message = text_in(app, "If the address has an account, we have sent a link to reset the password.")
    assert message in known.text and message in unknown.text
    with tenant_scope(bjm.id):
        assert db.session.scalars(select(Notification).filter_by(recipient="nobody@contoh.id")).first() is None


def test_password_reset_signs_out_existing_sessions(app, db, bjm, bjm_officer, login_as):
    client = login_as(bjm, bjm_officer)
    with app.test_request_context(), tenant_scope(bjm.id):
        token = services.make_reset_token(db.session.get(User, bjm_officer.id))
    resp = app.test_client().post(f"/banjarmasin/password/reset/{token}",
                                  data={"password": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/login"
    assert client.get("/banjarmasin/staff/").status_code == 302


def test_expired_reset_token_is_refused(app, db, bjm, bjm_officer, client, monkeypatch):
    hour_ago = int(time.time()) - app.config["PASSWORD_RESET_MAX_AGE"] - 5
    with app.test_request_context(), tenant_scope(bjm.id):
        with monkeypatch.context() as m:
            m.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: hour_ago)
            token = services.make_reset_token(db.session.get(User, bjm_officer.id))
        fresh = services.make_reset_token(db.session.get(User, bjm_officer.id))
    resp = client.get(f"/banjarmasin/password/reset/{token}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/password/forgot"
    assert client.get(f"/banjarmasin/password/reset/{fresh}").status_code == 200  # the control


def test_reset_token_of_another_region_is_refused(app, db, bjm, ktg, bjm_officer, make_user, client):
    make_user(ktg, "officer", email=bjm_officer.email)  # even with the same address in Katingan
    client.post("/banjarmasin/password/forgot", data={"email": bjm_officer.email})
    token = _path(_reset_link(db, bjm, bjm_officer.email)).rsplit("/", 1)[1]
    resp = client.post(f"/katingan/password/reset/{token}",
                       data={"password": "a-brand-new-password", "confirm": "a-brand-new-password"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/katingan/password/forgot"
    assert login(app.test_client(), ktg, bjm_officer.email, "a-brand-new-password").status_code == 200
    assert login(app.test_client(), bjm, bjm_officer.email, "a-brand-new-password").status_code == 200


def test_tampered_reset_token_is_refused(client, bjm):
    assert client.get("/banjarmasin/password/reset/not-a-token").status_code == 302


# ------------------------------------------------------------------ central administrators


def _create_admin(app, *args):
    return app.test_cli_runner().invoke(args=["accounts", "create-central-admin", *args])


def test_cli_creates_a_central_admin_who_signs_in_to_the_console(app, db, client):
    result = _create_admin(app, "--email", "Pusat@Lapor.example", "--name", "Admin Pusat",
                           "--password", "central-password-1")
    assert result.exit_code == 0, result.output
    admin = db.session.scalars(select(PlatformAdmin).filter_by(email="pusat@lapor.example")).one()
    assert admin.password_hash.startswith("$argon2id$")
    resp = client.post("/central/login", data={"email": "pusat@lapor.example", "password": "central-password-1"})
    # Central administrators must enrol a second factor before anything else.
    assert resp.status_code == 302 and resp.headers["Location"] == "/central/login/2fa/setup"
    assert client.get("/central/").status_code == 302
    resp = complete_mfa(client, resp, "pusat@lapor.example", "/central")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/central/account/2fa/recovery-codes")
    console = client.get("/central/")
    assert console.status_code == 200
    assert text_in(app, "Central console") in console.text


def test_cli_refuses_a_short_password_and_a_duplicate_email(app, db):
    assert _create_admin(app, "--email", "a@lapor.example", "--name", "A", "--password", "short").exit_code == 1
    assert _create_admin(app, "--email", "a@lapor.example", "--name", "A", "--password", "long-enough-1").exit_code == 0
    dup = _create_admin(app, "--email", "a@lapor.example", "--name", "A", "--password", "long-enough-1")
    assert dup.exit_code == 1 and "Error" in dup.output


def test_central_admin_wrong_password_is_refused(app, db, client):
    _create_admin(app, "--email", "b@lapor.example", "--name", "B", "--password", "long-enough-1")
    resp = client.post("/central/login", data={"email": "b@lapor.example", "password": "wrong-password"})
    assert resp.status_code == 200 and text_in(app, "Wrong email or password.") in resp.text
    assert client.get("/central/").status_code == 302


def test_tenant_admin_cannot_reach_the_central_console(bjm, make_user, login_as):
    client = login_as(bjm, make_user(bjm, "tenant_admin"))
    resp = client.get("/central/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/central/login")


def test_central_admin_cannot_use_a_regions_staff_pages(app, db, bjm, client):
    _create_admin(app, "--email", "c@lapor.example", "--name", "C", "--password", "long-enough-1")
    assert central_login(client, "c@lapor.example", "long-enough-1").status_code == 302
    # Signed in on the platform only: a region's pages see nobody (on SQLite and PostgreSQL alike) ...
    resp = client.get("/banjarmasin/staff/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/banjarmasin/login")
    assert client.get("/central/").status_code == 200  # ... and the platform session is still there.


# ------------------------------------------------------------------ input purpose (WCAG 2.2 SC 1.3.5)

def _inputs(html: str) -> dict[str, str]:
    """name → the whole <input> tag, for each named input of a page."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<input[^>]*\bname="([a-z_]+)"[^>]*>', html)}


@pytest.mark.parametrize(("path", "expected"), [
    ("/banjarmasin/login", {"email": "username", "password": "current-password"}),
    ("/banjarmasin/password/forgot", {"email": "email"}),
    ("/banjarmasin/register", {"name": "name", "email": "email", "phone": "tel", "password": "new-password",
                               "confirm": "new-password"}),
])
def test_account_forms_name_each_inputs_purpose_for_password_managers(client, bjm, path, expected):
    """The hints live on the form fields (render_kw), so every page that renders a field carries them."""
    inputs = _inputs(client.get(path).get_data(as_text=True))
    for name, purpose in expected.items():
        assert f'autocomplete="{purpose}"' in inputs[name], inputs[name]


def test_central_sign_in_shows_email_and_password_only(app, db, client):
    inputs = _inputs(client.get("/central/login").get_data(as_text=True))
    assert set(inputs) - {"csrf_token"} == {"email", "password"}  # no "remember me" for the central console
    assert 'autocomplete="current-password"' in inputs["password"]


def test_change_password_form_tells_current_from_new(bjm, bjm_officer, login_as):
    inputs = _inputs(login_as(bjm, bjm_officer).get("/banjarmasin/account/password").get_data(as_text=True))
    assert 'autocomplete="current-password"' in inputs["current"]
    assert 'autocomplete="new-password"' in inputs["password"] and 'autocomplete="new-password"' in inputs["confirm"]

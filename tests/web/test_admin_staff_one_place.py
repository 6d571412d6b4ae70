"""One staff administration under the region administrator (issue 17): users, roles, invitations (send again,
withdraw), two-factor reset and deactivation on the settings' staff page, each through the one account operation,
with ONE audit trail page; the old addresses redirect permanently."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.accounts.audit import Action, SecurityEvent
from app.accounts.models import Role, User
from app.notifications.models import Notification
from app.onboarding.models import TenantAuditEvent
from app.tenancy.scope import tenant_scope
from tests.conftest import login

PAGE = "/banjarmasin/staff/settings/staff"
TRAIL = "/banjarmasin/staff/settings/audit"


@pytest.fixture()
def admin(bjm, make_user):
    return make_user(bjm, Role.TENANT_ADMIN, name="Novri Gitayanti")


@pytest.fixture()
def admin_client(app, bjm, admin):
    client = app.test_client()
    assert login(client, bjm, admin.email).status_code == 302
    return client


def _user(db, tenant, user_id) -> User:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return db.session.get(User, user_id)


def _security(db, tenant, action) -> list[SecurityEvent]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return list(db.session.scalars(select(SecurityEvent).filter_by(action=action).order_by(SecurityEvent.id)))


def _invitation_paths(db, tenant, email) -> list[str]:
    with tenant_scope(tenant.id):
        notes = db.session.scalars(select(Notification).filter_by(recipient=email)
                                   .where(Notification.event_key.like("%:invitation%")).order_by(Notification.id))
        return [urlsplit(re.search(r"https?://\S+", n.body).group(0)).path for n in notes]


def _set_password(app, path: str) -> str:
    """Use an invitation link: "set" (on to sign in) or "refused" (invalid, expired or used)."""
    resp = app.test_client().post(path, data={"password": "a-new-password-1", "confirm": "a-new-password-1"})
    assert resp.status_code == 302
    return "set" if resp.headers["Location"].endswith("/login") else "refused"


def _invite(admin_client, email="baru@banjarmasinkota.go.id"):
    resp = admin_client.post(f"{PAGE}/invite", data={"invite-name": "Petugas Baru", "invite-email": email,
                                                    "invite-role": "officer", "invite-agency_id": ""})
    assert resp.status_code == 303


def _invited(db, tenant, email="baru@banjarmasinkota.go.id") -> User:
    with tenant_scope(tenant.id):
        return db.session.scalars(select(User).filter_by(email=email)).one()


def test_the_old_addresses_redirect_permanently_to_the_one_place(admin_client):
    resp = admin_client.get("/banjarmasin/staff/users")
    assert resp.status_code in (301, 308) and resp.headers["Location"] == PAGE
    resp = admin_client.get("/banjarmasin/staff/audit")
    assert resp.status_code in (301, 308) and resp.headers["Location"] == f"{TRAIL}?trail=security"
    assert admin_client.get(resp.headers["Location"]).status_code == 200


def test_an_invitation_sent_again_replaces_the_earlier_link(app, db, bjm, admin_client):
    _invite(admin_client)
    user = _invited(db, bjm)
    page = admin_client.get(PAGE).text
    assert f"{PAGE}/{user.id}/invitation" in page and f"{PAGE}/{user.id}/mfa-reset" not in page
    assert admin_client.post(f"{PAGE}/{user.id}/invitation", data={"action": "resend"}).status_code == 303
    first, second = _invitation_paths(db, bjm, user.email)
    assert _set_password(app, first) == "refused"
    assert _set_password(app, second) == "set"
    assert _user(db, bjm, user.id).password_hash is not None
    with tenant_scope(bjm.id):
        kinds = db.session.scalars(select(TenantAuditEvent.kind).order_by(TenantAuditEvent.id)).all()
    assert kinds[-2:] == ["staff.invited", "staff.invitation_resent"]
    # Once a password is set there is no invitation to send again.
    resp = admin_client.post(f"{PAGE}/{user.id}/invitation", data={"action": "resend"})
    assert resp.status_code == 303 and len(_invitation_paths(db, bjm, user.email)) == 2


def test_a_withdrawn_invitation_link_stops_working_and_the_account_is_inactive(app, db, bjm, admin, admin_client):
    _invite(admin_client)
    user = _invited(db, bjm)
    (link,) = _invitation_paths(db, bjm, user.email)
    assert admin_client.post(f"{PAGE}/{user.id}/invitation", data={"action": "revoke"}).status_code == 303
    assert _user(db, bjm, user.id).active is False
    assert _set_password(app, link) == "refused" and _user(db, bjm, user.id).password_hash is None
    (event,) = _security(db, bjm, Action.USER_DEACTIVATED)  # the one deactivation, audited once
    assert (event.user_id, event.by_user_id) == (user.id, admin.id)
    # Sending it again reactivates the account with a new working link.
    assert admin_client.post(f"{PAGE}/{user.id}/invitation", data={"action": "resend"}).status_code == 303
    assert _user(db, bjm, user.id).active is True
    new_link = _invitation_paths(db, bjm, user.email)[-1]
    assert _set_password(app, new_link) == "set"


def test_an_administrator_resets_a_staff_members_second_factor_once(app, db, bjm, admin, admin_client, make_user):
    officer = make_user(bjm, Role.OFFICER, name="Petugas Kehilangan Ponsel")
    with tenant_scope(bjm.id):
        db.session.get(User, officer.id).totp_secret = "JBSWY3DPEHPK3PXP"
        db.session.commit()
    page = admin_client.get(PAGE).text
    assert f"{PAGE}/{officer.id}/mfa-reset" in page
    assert admin_client.post(f"{PAGE}/{officer.id}/mfa-reset").status_code == 303
    user = _user(db, bjm, officer.id)
    assert user.totp_secret is None and not user.mfa_enabled
    (event,) = _security(db, bjm, Action.MFA_DISABLED)
    assert (event.user_id, event.by_user_id) == (officer.id, admin.id)
    # Nothing left to reset, and one's own second factor is reset on the account page only.
    assert admin_client.post(f"{PAGE}/{officer.id}/mfa-reset").status_code == 303
    assert admin_client.post(f"{PAGE}/{admin.id}/mfa-reset").status_code == 303
    assert len(_security(db, bjm, Action.MFA_DISABLED)) == 1
    assert _user(db, bjm, admin.id).mfa_enabled


def test_the_one_audit_trail_shows_set_up_changes_and_account_events_together(db, bjm, admin, admin_client,
                                                                                make_user):
    officer = make_user(bjm, Role.OFFICER, name="Petugas Dinonaktifkan")
    _invite(admin_client)
    assert admin_client.post(f"{PAGE}/{officer.id}/active", data={"active": "0"}).status_code == 303
    page = admin_client.get(TRAIL).text
    assert "staff.invited" in page and "user.deactivated" in page and "login.success" in page
    assert "Petugas Dinonaktifkan" in page and "Novri Gitayanti" in page
    setup = admin_client.get(f"{TRAIL}?trail=setup").text
    assert "staff.invited" in setup and "user.deactivated" not in setup
    security = admin_client.get(f"{TRAIL}?trail=security").text
    assert "user.deactivated" in security and "staff.invited" not in security
    assert 'aria-current="page"' in security


def test_staff_administration_stays_with_the_administrator_and_the_region(app, bjm, ktg, make_user, admin_client,
                                                                          login_as):
    stranger = make_user(ktg, Role.OFFICER)
    for path in (f"{PAGE}/{stranger.id}/mfa-reset", f"{PAGE}/{stranger.id}/invitation"):
        assert admin_client.post(path, data={"action": "resend"}).status_code == 404
    officer_client = login_as(bjm, make_user(bjm, Role.OFFICER))
    assert officer_client.get(TRAIL).status_code == 403
    assert officer_client.post(f"{PAGE}/{stranger.id}/mfa-reset").status_code == 403

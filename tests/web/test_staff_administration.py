"""Staff accounts are administered in one place (the settings' staff page), each account operation has one
implementation with one audit trail, and the password rule holds for every way an account gets a password."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.audit import Action, SecurityEvent
from app.accounts.models import Role, User
from app.onboarding.models import TenantAuditEvent
from app.tenancy.scope import tenant_scope
from tests.conftest import login

PAGE = "/banjarmasin/staff/settings/staff"


@pytest.fixture()
def admin(bjm, make_user):
    return make_user(bjm, Role.TENANT_ADMIN, name="Novri Gitayanti")


@pytest.fixture()
def admin_client(app, bjm, admin):
    client = app.test_client()
    assert login(client, bjm, admin.email).status_code == 302
    return client


def _security_events(db, tenant, action: str) -> list[SecurityEvent]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return list(db.session.scalars(select(SecurityEvent).filter_by(action=action).order_by(SecurityEvent.id)))


def _flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def _setup_events(db, tenant) -> list[str]:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return [e.kind for e in db.session.scalars(select(TenantAuditEvent).order_by(TenantAuditEvent.id))]


def test_one_page_lists_invites_changes_roles_and_deactivates(admin_client, bjm, make_user):
    officer = make_user(bjm, Role.OFFICER, name="Petugas Satu")
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert "Petugas Satu" in text
    for action in (f"{PAGE}/invite", f"{PAGE}/{officer.id}/role", f"{PAGE}/{officer.id}/active"):
        assert action in text, action


def test_the_old_staff_list_redirects_to_the_one_page(admin_client, bjm, make_user, login_as):
    resp = admin_client.get("/banjarmasin/staff/users")
    assert resp.status_code == 301 and resp.headers["Location"] == PAGE
    dashboard = admin_client.get("/banjarmasin/staff/")  # the header's Administration link leads there
    assert 'href="/banjarmasin/staff/settings/"' in dashboard.text and "/banjarmasin/staff/users" not in dashboard.text
    officer_client = login_as(bjm, make_user(bjm, Role.OFFICER))
    assert officer_client.get("/banjarmasin/staff/users").status_code == 403  # still for administrators only
    assert officer_client.get(PAGE).status_code == 403


def test_a_deactivation_is_audited_once_and_ends_the_sessions(app, db, bjm, admin, admin_client, make_user):
    officer = make_user(bjm, Role.OFFICER)
    officer_client = app.test_client()
    assert login(officer_client, bjm, officer.email).status_code == 302
    before = _setup_events(db, bjm)
    assert admin_client.post(f"{PAGE}/{officer.id}/active", data={"active": "0"}).status_code == 303
    assert officer_client.get("/banjarmasin/staff/").status_code == 302
    (event,) = _security_events(db, bjm, Action.USER_DEACTIVATED)
    assert (event.user_id, event.by_user_id) == (officer.id, admin.id)
    assert _setup_events(db, bjm) == before  # not a second trail
    # Deactivating again changes nothing and records nothing.
    assert admin_client.post(f"{PAGE}/{officer.id}/active", data={"active": "0"}).status_code == 303
    assert len(_security_events(db, bjm, Action.USER_DEACTIVATED)) == 1
    assert admin_client.post(f"{PAGE}/{officer.id}/active", data={"active": "1"}).status_code == 303
    assert len(_security_events(db, bjm, Action.USER_REACTIVATED)) == 1


def test_an_administrator_cannot_deactivate_themselves(db, bjm, admin, admin_client):
    resp = admin_client.post(f"{PAGE}/{admin.id}/active", data={"active": "0"})
    assert resp.status_code == 303 and resp.headers["Location"] == PAGE
    assert len(_flashes(admin_client)) == 1
    db.session.expire_all()
    with tenant_scope(bjm.id):
        assert db.session.get(User, admin.id).active is True
    assert _security_events(db, bjm, Action.USER_DEACTIVATED) == []


def test_a_role_change_on_the_one_page_is_audited_in_the_security_log(db, bjm, admin, admin_client, make_user):
    officer = make_user(bjm, Role.OFFICER)
    resp = admin_client.post(f"{PAGE}/{officer.id}/role", data={"u-role": "liaison", "u-agency_id": ""})
    assert resp.status_code == 303 and len(_flashes(admin_client)) == 1  # refused, said once
    assert _security_events(db, bjm, Action.ROLE_CHANGED) == []
    assert admin_client.post(f"{PAGE}/{officer.id}/role", data={"u-role": "tenant_admin", "u-agency_id": ""}
                             ).status_code == 303
    (event,) = _security_events(db, bjm, Action.ROLE_CHANGED)
    assert (event.user_id, event.by_user_id, event.detail) == (officer.id, admin.id,
                                                              {"old": "officer", "new": "tenant_admin"})


def test_another_regions_staff_member_is_not_found(ktg, make_user, admin_client):
    stranger = make_user(ktg, Role.OFFICER)
    assert admin_client.post(f"{PAGE}/{stranger.id}/active", data={"active": "0"}).status_code == 404
    assert admin_client.post(f"{PAGE}/{stranger.id}/role", data={"u-role": "officer"}).status_code == 404


@pytest.mark.parametrize("password", ["short", "x" * 201])
def test_create_user_enforces_the_password_rule(db, bjm, password):
    assert services.password_problem(password)
    with tenant_scope(bjm.id), pytest.raises(services.AccountError) as refused:
        services.create_user("baru@banjarmasinkota.go.id", "Baru", Role.OFFICER, password=password)
    assert "password" in refused.value.errors
    assert isinstance(refused.value, ValueError)  # the CLI reports it like any other refusal


def test_the_same_rule_guards_the_forms_and_the_cli(app, client, bjm):
    assert services.password_problem("a-long-enough-password") is None
    resp = client.post("/banjarmasin/register", data={
        "name": "Warga", "email": "warga@example.id", "password": "pendek", "confirm": "pendek"})
    assert resp.status_code == 200 and "10" in resp.text and "200" in resp.text
    result = app.test_cli_runner().invoke(args=["accounts", "create-user", "--tenant", "banjarmasin", "--email",
                                                "x@banjarmasinkota.go.id", "--name", "X", "--role", "officer",
                                                "--password", "pendek"])
    assert result.exit_code == 1 and "10" in result.output


def test_mfa_reset_is_one_function_with_one_audit_entry(db, bjm, make_user):
    officer = make_user(bjm, Role.OFFICER)
    with tenant_scope(bjm.id):
        user = db.session.get(User, officer.id)
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        user.recovery_codes = ["x"]
        services.reset_mfa(user, by_cli=True)
        assert user.totp_secret is None and user.recovery_codes == [] and not user.mfa_enabled
    (event,) = _security_events(db, bjm, Action.MFA_DISABLED)
    assert event.user_id == officer.id and event.detail == {"by_cli": True}

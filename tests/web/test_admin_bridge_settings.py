"""The SP4N-LAPOR! bridge settings page (issue 17): the region administrator switches the bridge on or off and
sets its address and token; the token is stored encrypted and never shown back; "test connection" really calls
the configured address (a real local HTTP server here) through the outbound rules; the last sync and recent
errors are shown. The files and environment remain the fallback."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.accounts.models import Role
from app.crypto import decrypt
from app.integrations import sp4n
from app.integrations.models import BridgeSettings
from app.onboarding.models import TenantAuditEvent
from app.tenancy.scope import tenant_scope
from tests.conftest import login
from tests.jobs.test_sp4n import StandIn, submit_and_verify
from tests.local_http import LocalServer

PAGE = "/banjarmasin/staff/integrations/sp4n"
TOKEN = "tok-bjm"  # noqa: S105 (the stand-in's token)
SECRET = "rahasia-token-bjm-123456"  # noqa: S105 (a token that must never appear in a page or a log)


@pytest.fixture()
def admin(bjm, make_user):
    return make_user(bjm, Role.TENANT_ADMIN, name="Admin Jembatan")


@pytest.fixture()
def admin_client(app, bjm, admin):
    client = app.test_client()
    assert login(client, bjm, admin.email).status_code == 302
    return client


@pytest.fixture()
def no_env(app, monkeypatch):
    monkeypatch.setitem(app.config, "SP4N_TOKENS", {})
    monkeypatch.setitem(app.config, "SP4N_BASE_URL", None)
    monkeypatch.setitem(app.config, "SP4N_ALLOW_PRIVATE_HOSTS", True)


def _raw_token(db, tenant) -> str | None:
    with tenant_scope(tenant.id):
        return db.session.execute(text("SELECT token FROM bridge_settings WHERE tenant_id = :t"),
                                  {"t": tenant.id}).scalar_one_or_none()


def _row(db, tenant) -> BridgeSettings | None:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        return db.session.scalars(select(BridgeSettings)).one_or_none()


def _save(client, **data):
    form = {"enabled": "y", "base_url": "", "token": ""}
    form.update(data)
    if form.get("enabled") is None:
        form.pop("enabled")
    return client.post(PAGE, data=form)


def test_the_administrator_sets_the_bridge_and_the_token_is_stored_encrypted(db, bjm, admin_client, no_env):
    page = admin_client.get(PAGE)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert "Nonaktif" in page.text  # off, from the region's files
    resp = _save(admin_client, base_url="https://sp4n.example.go.id/api", token=SECRET)
    assert resp.status_code == 303
    raw = _raw_token(db, bjm)
    assert raw.startswith("gAAAAA") and SECRET not in raw and decrypt(raw) == SECRET
    page = admin_client.get(PAGE).text
    assert SECRET not in page and SECRET[:-4] not in page and "…3456" in page
    assert "https://sp4n.example.go.id/api" in page
    with tenant_scope(bjm.id):
        assert sp4n.bridge_settings(bjm) == ("https://sp4n.example.go.id/api", SECRET)
        (event,) = db.session.scalars(select(TenantAuditEvent).filter_by(kind="bridge.updated")).all()
    assert SECRET not in repr((event.before, event.after)) and event.after["token"] == "…3456"
    # Saving again without a token keeps the stored one; switching off keeps it too.
    assert _save(admin_client, enabled=None, base_url="https://sp4n.example.go.id/api").status_code == 303
    assert decrypt(_raw_token(db, bjm)) == SECRET and _row(db, bjm).enabled is False
    with tenant_scope(bjm.id):
        assert sp4n.bridge_settings(bjm) is None


def test_a_bad_address_is_refused_with_the_field_named(db, bjm, admin_client, no_env):
    resp = _save(admin_client, base_url="ftp://sp4n.example.go.id", token=SECRET)
    assert resp.status_code == 400 and "http(s)://" in resp.text
    assert _row(db, bjm) is None and SECRET not in resp.text


def test_the_files_and_environment_remain_the_fallback(app, db, bjm, admin_client, monkeypatch):
    monkeypatch.setitem(app.config, "SP4N_TOKENS", {"banjarmasin": "env-token-9876"})
    monkeypatch.setitem(app.config, "SP4N_BASE_URL", "https://national.example.go.id/v1")
    with tenant_scope(bjm.id):
        bjm.settings = {**bjm.settings, "sp4n": {"enabled": True}}
        db.session.commit()
        assert sp4n.bridge_settings(bjm) == ("https://national.example.go.id/v1", "env-token-9876")
    page = admin_client.get(PAGE).text
    assert "env-token-9876" not in page and "…9876" in page and "national.example.go.id" in page
    assert _save(admin_client, enabled=None).status_code == 303  # the page's "off" wins over the file's "on"
    with tenant_scope(bjm.id):
        assert sp4n.bridge_settings(bjm) is None
    assert _save(admin_client, token="page-token-1111").status_code == 303
    with tenant_scope(bjm.id):
        assert sp4n.bridge_settings(bjm) == ("https://national.example.go.id/v1", "page-token-1111")
    assert admin_client.post(PAGE, data={"enabled": "y", "clear_token": "y"}).status_code == 303
    with tenant_scope(bjm.id):
        assert sp4n.bridge_settings(bjm) == ("https://national.example.go.id/v1", "env-token-9876")


def test_test_connection_really_calls_the_configured_address(db, bjm, admin_client, no_env):
    standin = StandIn()
    with standin.server:
        _save(admin_client, enabled=None, base_url=standin.server.url + "/api", token=TOKEN)
        resp = admin_client.post(f"{PAGE}/test")
        assert resp.status_code == 303
        (request,) = standin.server.requests
        assert (request.method, request.path) == ("GET", "/api/reports?limit=1")
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        page = admin_client.get(PAGE).text
        assert "Berfungsi" in page and "HTTP 200" in page
        row = _row(db, bjm)
        assert row.last_test_ok is True and row.errors == []

        # A token the national system refuses: the answer is shown and kept among the recent errors.
        _save(admin_client, enabled=None, base_url=standin.server.url + "/api", token="wrong-token")
        admin_client.post(f"{PAGE}/test")
        row = _row(db, bjm)
        assert row.last_test_ok is False and "HTTP 401" in row.last_test_message
        assert [e["kind"] for e in row.errors] == ["test"] and "wrong-token" not in repr(row.errors)
        page = admin_client.get(PAGE).text
        assert "SP4N-LAPOR! menjawab HTTP 401." in page and "Gagal" in page


def test_test_connection_follows_the_outbound_rules(app, db, bjm, admin_client, no_env, monkeypatch):
    """A loopback address is refused unless the platform allows private hosts, as for every outbound call."""
    hits = []
    with LocalServer(lambda *a: (hits.append(a), (200, {}))[1]) as server:
        _save(admin_client, base_url=server.url, token=TOKEN)
        monkeypatch.setitem(app.config, "SP4N_ALLOW_PRIVATE_HOSTS", False)
        admin_client.post(f"{PAGE}/test")
        assert hits == []
        row = _row(db, bjm)
        assert row.last_test_ok is False and "Alamat ini ditolak" in row.last_test_message
        monkeypatch.setitem(app.config, "SP4N_ALLOW_PRIVATE_HOSTS", True)
        admin_client.post(f"{PAGE}/test")
        assert len(hits) == 1 and _row(db, bjm).last_test_ok is True


def test_last_sync_and_push_and_pull_errors_are_shown(app, db, bjm, admin_client, make_user, no_env):
    from app.jobs.outbox import relay

    standin = StandIn()
    with standin.server:
        _save(admin_client, base_url=standin.server.url + "/api", token=TOKEN)
        standin.fail_next = 1
        submit_and_verify(db, bjm, make_user(bjm, "officer"))
        assert relay()["failed"] == 1
        assert [e["kind"] for e in _row(db, bjm).errors] == ["push"]
        assert relay()["ran"] == 1
        standin.fail_next = 1
        assert sp4n.pull_all_tenants()["errors"] == 1
        row = _row(db, bjm)
        assert [e["kind"] for e in row.errors] == ["pull", "push"]
        assert row.last_sync_at is not None and row.last_sync_counts["errors"] == 1
        page = admin_client.get(PAGE).text
        assert "SP4N-LAPOR! menjawab HTTP 503." in page and "Mengambil perkembangan" in page


def test_only_the_administrator_of_the_region_opens_the_page(bjm, ktg, make_user, login_as, no_env):
    client = login_as(bjm, make_user(bjm, Role.OFFICER))
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/test").status_code == 403
    assert client.get("/katingan/staff/integrations/sp4n").status_code == 302  # not signed in there

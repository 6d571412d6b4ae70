"""Liveness, readiness and the development outbox page."""

from __future__ import annotations

import pytest

from app.notifications.service import queue_message
from app.tenancy.scope import tenant_scope


def test_healthz_answers_ok_without_touching_anything(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in resp.headers


def test_readyz_reports_the_database_ok(app, client):
    resp = client.get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert ("redis" in body["checks"]) == bool(app.config["REDIS_URL"])


def test_readyz_answers_503_when_redis_is_configured_but_unreachable(client, monkeypatch, app):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    resp = client.get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error: ")
    assert "127.0.0.1" not in resp.text  # no connection details leak


@pytest.fixture()
def stored_messages(db, bjm, ktg):
    for tenant, recipient in ((bjm, "warga-bjm@contoh.id"), (ktg, "warga-ktg@contoh.id")):
        with tenant_scope(tenant.id):
            queue_message(event_key="test:1", channel="email", recipient=recipient, template_key="password_reset",
                          context={"link": "http://localhost/reset"})
            db.session.commit()


@pytest.mark.parametrize(("app_env", "testing"), [("testing", True), ("development", False)])
def test_dev_outbox_lists_stored_messages_in_development_and_testing(app, client, monkeypatch, stored_messages,
                                                                      app_env, testing):
    monkeypatch.setitem(app.config, "APP_ENV", app_env)
    monkeypatch.setitem(app.config, "TESTING", testing)
    from app.onboarding.mail import queue_platform_mail

    with app.test_request_context():
        queue_platform_mail("test.invite", "pejabat@kapuaskab.go.id", "Undangan", "Tautan: http://x/undangan")
    resp = client.get("/dev/outbox")
    assert resp.status_code == 200
    assert "warga-bjm@contoh.id" in resp.text and "warga-ktg@contoh.id" in resp.text
    assert "pejabat@kapuaskab.go.id" in resp.text  # platform mail (invitations) too


def test_dev_outbox_does_not_exist_in_production(app, client, monkeypatch, stored_messages):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    monkeypatch.setitem(app.config, "TESTING", False)
    resp = client.get("/dev/outbox")
    assert resp.status_code == 404
    assert "warga-bjm@contoh.id" not in resp.text


def test_favicon_and_robots_are_platform_files_not_regions(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    icon.close()  # a file response
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    assert "Disallow: /*/staff/" in robots.text
    assert 'rel="icon"' in client.get("/").text


def test_assets_are_compressed_but_html_is_not(client, bjm):
    css = client.get("/static/app.css", headers={"Accept-Encoding": "br, gzip"})
    assert css.status_code == 200 and css.headers["Content-Encoding"] in ("br", "gzip")
    assert len(css.data) < 5000  # about 10 KB uncompressed
    # HTML pages carry CSRF tokens beside visitor-controlled text: never compressed (BREACH).
    page = client.get("/banjarmasin/lapor", headers={"Accept-Encoding": "br, gzip"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers

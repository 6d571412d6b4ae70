"""Web hardening: CSRF on every POST route, security headers and a Content-Security-Policy that the
pages actually keep (no inline script or style, checked by crawling the demo), safe attachment
responses, production cookies and the reverse-proxy set-up."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import select

from app.accounts.audit import Action, SecurityEvent
from app.tenancy.scope import tenant_scope
from tests.conftest import central_login, csrf_token_from, login
from tests.mfa_support import remember_secret
from tests.web.staff_support import make_staff, submit

#: POST endpoints that may be called without a CSRF token, with the reason. None today: the app has
#: no API or webhook endpoints yet; an Open311/REST API with token authentication would be listed here.
CSRF_EXEMPT: dict[str, str] = {
    "tenant.inbound.receive_sms": "SMS gateway endpoint: authenticated by the tenant's bearer token, no cookies",
    "tenant.inbound.receive_whatsapp": "WhatsApp gateway endpoint: authenticated by the tenant's bearer token",
    "tenant.open311.create_request": "Open311 POST: authenticated by the region's API key (api_key field or "
                                     "header), no cookies",
    "open311_platform.create_request": "Open311 POST on the platform door: authenticated by the region's API key",
    "tenant.api.submit": "REST API: authenticated by the region's API key (Authorization header), no cookies",
    "tenant.api.transition": "REST API: authenticated by the region's API key (Authorization header), no cookies",
}


def _fill(rule) -> str:
    """A URL for ``rule``; the CSRF check runs before the view, so the ids need not exist."""
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", "banjarmasin" if name == "tenant" else "1", url)
    return url


# ------------------------------------------------------------------ CSRF


def test_every_post_route_refuses_a_request_without_a_csrf_token(app, db, bjm, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint not in CSRF_EXEMPT]
    assert len(rules) >= 30
    client = app.test_client()
    for rule in rules:
        url = _fill(rule)
        resp = client.post(url, data={"email": "x@contoh.id", "password": "x", "code": "123456"})
        assert resp.status_code == 400, f"POST {url} ({rule.endpoint}) without a CSRF token → {resp.status_code}"


def test_a_post_with_the_pages_csrf_token_is_accepted(app, db, bjm, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = app.test_client()
    token = csrf_token_from(client.get("/banjarmasin/login").text)
    resp = client.post("/banjarmasin/login", data={"email": "nobody@contoh.id", "password": "x", "csrf_token": token})
    assert resp.status_code == 200  # the form ran (and refused the credentials), not a CSRF 400


# ------------------------------------------------------------------ headers


def test_every_response_carries_strict_security_headers(app, db, bjm, client):
    for url in ("/", "/banjarmasin/", "/banjarmasin/login", "/central/login", "/no-such-page", "/static/app.css"):
        resp = client.get(url)
        csp = resp.headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert resp.headers["X-Content-Type-Options"] == "nosniff", url
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert "camera=()" in resp.headers["Permissions-Policy"], url
        assert "Strict-Transport-Security" not in resp.headers, url  # off outside production
        resp.close()


def test_hsts_is_sent_over_https_when_configured(app, db, bjm, client, monkeypatch):
    monkeypatch.setitem(app.config, "HSTS_SECONDS", 31536000)
    assert "max-age=31536000" in client.get("/banjarmasin/", base_url="https://localhost").headers[
        "Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/banjarmasin/").headers


def test_signed_in_pages_are_not_cached(app, db, bjm, make_user):
    client = app.test_client()
    login(client, bjm, make_staff(make_user, bjm, "officer").email)
    assert client.get("/banjarmasin/staff/").headers["Cache-Control"] == "no-store"


def test_the_regions_colour_comes_from_a_stylesheet_not_an_inline_style(app, db, bjm, client):
    bjm.branding = {**(bjm.branding or {}), "primary_color": "#12ab34"}
    db.session.commit()
    home = client.get("/banjarmasin/")
    assert "<style" not in home.text and "/banjarmasin/brand.css" in home.text
    css = client.get("/banjarmasin/brand.css")
    assert css.mimetype == "text/css" and "--brand: #12ab34" in css.text
    bjm.branding = {**bjm.branding, "primary_color": "red; } body { display: none"}
    db.session.commit()
    assert "display" not in client.get("/banjarmasin/brand.css").text


def test_production_cookies_are_secure_httponly_and_samesite():
    from app.config import load_config

    cfg = load_config({"APP_ENV": "production", "SECRET_KEY": "k" * 48,
                       "SECRETS_KEY": "a7Yd0n2v1bB9xMHhm0lV3vWq3a8m5lR2q4l0Qd8QkqE="})
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["REMEMBER_COOKIE_SECURE"]
    assert cfg["SESSION_COOKIE_HTTPONLY"] and cfg["REMEMBER_COOKIE_HTTPONLY"]
    assert cfg["SESSION_COOKIE_SAMESITE"] == cfg["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert cfg["HSTS_SECONDS"] >= 31536000


# ------------------------------------------------------------------ attachments


def test_a_pdf_attachment_is_a_sandboxed_download(app, db, bjm, make_user):
    from app.complaints.models import Attachment
    from app.complaints.uploads import prepare_upload, save_attachments
    from tests.web.citizen_support import pdf_bytes

    c = submit(db, bjm)
    with tenant_scope(bjm.id):
        from app.complaints.models import ComplaintEvent

        event = db.session.scalars(select(ComplaintEvent).filter_by(complaint_id=c.id)).first()
        pdf = prepare_upload("surat <script>.pdf", pdf_bytes(text="<script>alert(1)</script>"))
        [att] = save_attachments(c, event, [pdf], public=False)
        db.session.commit()
        att_id = att.id
        assert db.session.get(Attachment, att_id).content_type == "application/pdf"
    client = app.test_client()
    login(client, bjm, make_staff(make_user, bjm, "officer").email)
    resp = client.get(f"/banjarmasin/staff/complaints/{c.id}/attachments/{att_id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


def test_uploads_are_stored_outside_the_served_static_folder(app):
    from pathlib import Path

    uploads = Path(app.config["UPLOAD_DIR"]).resolve()
    static = Path(app.static_folder).resolve()
    assert static not in uploads.parents and uploads != static


# ------------------------------------------------------------------ reverse proxy


def test_without_proxyfix_a_forwarded_address_is_ignored(app, db, bjm, client):
    client.post("/banjarmasin/login", data={"email": "nobody@contoh.id", "password": "x"},
                headers={"X-Forwarded-For": "203.0.113.9"})
    with tenant_scope(bjm.id):
        event = db.session.scalars(select(SecurityEvent).filter_by(action=Action.LOGIN_FAILED)).one()
    assert event.ip == "127.0.0.1"


def test_proxyfix_trusts_the_configured_number_of_proxies():
    from flask import request

    from app import create_app

    proxied = create_app({"APP_ENV": "testing", "SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                          "PROXY_FIX_X_FOR": 1, "PROXY_FIX_X_PROTO": 1, "RATELIMIT_ENABLED": False})
    proxied.add_url_rule("/_whoami", "whoami_for_test", lambda: f"{request.remote_addr} {request.scheme}")
    resp = proxied.test_client().get("/_whoami", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9",
                                                          "X-Forwarded-Proto": "https"})
    assert resp.text == "203.0.113.9 https"  # the last hop only: the one proxy we trust


# ------------------------------------------------------------------ crawling the demo


class _PageAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> inline event handler")
        if "style" in attrs:
            self.problems.append(f"<{tag} style=…> inline style")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.problems.append("inline <script>")
        href = attrs.get("href") or ""
        if href.strip().lower().startswith("javascript:"):
            self.problems.append("javascript: link")
        if tag == "a" and href:
            self.links.append(href)


def _crawl(client, start: list[str], prefix: str, limit: int = 45) -> dict[str, list[str]]:
    seen, queue, problems = set(), deque(start), {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        resp = client.get(url)
        resp.close()
        assert resp.status_code < 500, url
        assert "Content-Security-Policy" in resp.headers, url
        if resp.mimetype != "text/html":
            continue
        audit = _PageAudit()
        audit.feed(resp.text)
        if audit.problems:
            problems[url] = audit.problems
        for href in audit.links:
            target = urldefrag(href)[0]
            parts = urlsplit(target)
            if not parts.netloc and target.startswith(prefix) and "/lang/" not in target and target not in seen:
                queue.append(target)
    assert len(seen) >= min(limit, 8), seen
    return problems


@pytest.fixture()
def demo(app, db, demo_data):
    from app.demo import DEMO_TOTP_SECRET
    from app.tenancy.models import Tenant

    remember_secret("/central", "pusat@lapor.demo", DEMO_TOTP_SECRET)
    remember_secret("/banjarmasin", "admin@banjarmasin.demo", DEMO_TOTP_SECRET)
    return {t.slug: t for t in db.session.scalars(select(Tenant))}


def test_no_demo_page_has_inline_script_or_style(app, db, demo):
    from app.demo import DEMO_PASSWORD

    bjm = demo["banjarmasin"]
    public = app.test_client()
    problems = _crawl(public, ["/", "/banjarmasin/", "/banjarmasin/lapor", "/banjarmasin/login", "/central/login",
                               "/daftar"], "/")
    officer = app.test_client()
    assert login(officer, bjm, "koordinator@banjarmasin.demo", DEMO_PASSWORD).status_code == 302
    problems |= _crawl(officer, ["/banjarmasin/staff/", "/banjarmasin/account"], "/banjarmasin/")
    admin = app.test_client()
    assert login(admin, bjm, "admin@banjarmasin.demo", DEMO_PASSWORD).status_code == 302
    problems |= _crawl(admin, ["/banjarmasin/staff/settings/staff", "/banjarmasin/staff/settings/audit",
                               "/banjarmasin/account/2fa/recovery-codes"], "/banjarmasin/staff", limit=12)
    central = app.test_client()
    assert central_login(central, "pusat@lapor.demo", DEMO_PASSWORD).status_code == 302
    problems |= _crawl(central, ["/central/", "/central/audit", "/central/account"], "/central", limit=25)
    enrol = app.test_client()  # the enrolment page with its QR code
    assert enrol.post("/banjarmasin/login", data={"email": "petugas@banjarmasin.demo", "password": DEMO_PASSWORD}
                      ).status_code == 302
    problems |= _crawl(enrol, ["/banjarmasin/staff/", "/banjarmasin/account/2fa/setup"], "/banjarmasin/account",
                       limit=3)
    assert not problems, problems


def test_the_crawl_would_notice_an_inline_script():
    audit = _PageAudit()
    audit.feed('<p style="x"><script>alert(1)</script><a href="#" onclick="x()">x</a>'
               '<script type="application/json">{}</script><script src="/static/a.js"></script>')
    assert sorted(audit.problems) == ["<a onclick=…> inline event handler", "<p style=…> inline style",
                                      "inline <script>"]

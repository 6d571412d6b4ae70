"""Web hardening in one place: security headers and the Content-Security-Policy, the reverse-proxy
set-up (ProxyFix), session bookkeeping before each request and the audit of refused pages (403)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app.accounts import audit
from app.accounts.loader import touch_session
from app.extensions import db

#: No inline script or style anywhere: templates load app.css and the static scripts only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def tile_origin(tile_url: str | None) -> str | None:
    """The scheme and host of the map tiles (``MAP_TILE_URL``), or None when they are served here or off.
    Leaflet's subdomain placeholder ``{s}`` becomes a wildcard."""
    parts = urlsplit(tile_url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


@lru_cache(maxsize=8)
def csp_for(tile_url: str | None) -> str:
    """The policy, with the configured tile server allowed as an image source (and nothing else)."""
    origin = tile_origin(tile_url)
    return CSP.replace("img-src 'self' data:;", f"img-src 'self' data: {origin};") if origin else CSP
PERMISSIONS_POLICY = "camera=(), microphone=(), payment=(), usb=(), interest-cohort=()"


def private_response(response):
    """A page or file that carries a secret (a private link's token, personal data): kept out of caches and
    out of the Referer header of any link followed from it."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def security_headers(response):
    """Strict headers on every response (pages, files, errors)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp_for(current_app.config.get("MAP_TILE_URL")))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")  # old browsers; frame-ancestors for the rest
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")

    hsts = current_app.config.get("HSTS_SECONDS")
    if hsts and request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts)}; includeSubDomains")
    if request.endpoint != "static" and "Cache-Control" not in headers and g.get("_login_user") is not None \
            and getattr(g._login_user, "is_authenticated", False):
        # Signed-in pages hold personal data: never kept by shared caches or the back button.
        headers["Cache-Control"] = "no-store"
    return response


def audit_forbidden() -> None:
    """Record a refused page (403) of a signed-in account, in its tenant's or the platform's log."""


    try:
        if not current_user.is_authenticated:
            return
        account = current_user._get_current_object()
        db.session.rollback()  # whatever the refused view started is not kept
        audit.record(audit.Action.ACCESS_DENIED, account, path=request.path, method=request.method)
        db.session.commit()
    except Exception:  # noqa: BLE001 (the refusal page must be shown even if the log write fails)
        db.session.rollback()


def init_app(app: Flask) -> None:

    app.before_request(touch_session)
    app.after_request(security_headers)
    hops = {k: int(app.config.get(f"PROXY_FIX_{k.upper()}", 0) or 0) for k in ("x_for", "x_proto", "x_host",
                                                                                 "x_port", "x_prefix")}
    if any(hops.values()):
        # Outermost, so the tenant host mapping sees the host the client asked for.
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)

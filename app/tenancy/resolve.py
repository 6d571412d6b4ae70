"""Request → tenant: path prefix ``/<slug>/``, a tenant's own domain, or a platform subdomain."""

from __future__ import annotations

import re
import time

from flask import Blueprint, Flask, abort, g, render_template, request
from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Tenant, TenantDomain, TenantStatus
from app.tenancy.rls import deny_platform_tables, restore_platform_tables
from app.tenancy.scope import bind_tenant, unbind_tenant

#: Slugs that name platform pages and can never be tenants.
RESERVED_SLUGS = frozenset(
    {"static", "central", "daftar", "signup", "healthz", "readyz", "login", "logout", "api", "dev", "lang", "auth",
     "favicon.ico", "robots.txt", "open311"}
)


#: Platform URLs that a tenant's own host serves as they are (not mapped under ``/<slug>/``).
PLATFORM_PATHS_ON_TENANT_HOSTS = frozenset({"/healthz", "/readyz", "/api/v1/openapi.json"})

_SLUG_CHARS = re.compile(r"[\w\-]+", re.ASCII)

#: While a tenant is suspended its staff may still sign in and read (the data is kept), but not act.
SUSPENDED_OPEN_ENDPOINTS = frozenset({"tenant.accounts.login", "tenant.accounts.logout",
                                      "tenant.accounts.set_language"})
SUSPENDED_READABLE_PREFIXES = ("tenant.staff.", "tenant.complaints_staff.", "tenant.settings.",
                               "tenant.onboarding_tenant.", "tenant.command_center.", "tenant.accounts.account",
                               "tenant.integrations.", "tenant.privacy_staff.")


class TenantSuspended(Exception):
    def __init__(self, tenant: Tenant, staff_area: bool = False):
        self.tenant = tenant
        #: True for a change attempted on a staff page (the page says "read only", not "go away").
        self.staff_area = staff_area


def _suspended_allows(endpoint: str | None) -> bool:
    """Whether a suspended tenant still serves this request; raises the suspension page otherwise."""
    endpoint = endpoint or ""
    if endpoint in SUSPENDED_OPEN_ENDPOINTS:
        return True
    if endpoint.startswith(SUSPENDED_READABLE_PREFIXES):
        return request.method in ("GET", "HEAD")
    return False


def make_tenant_blueprint() -> Blueprint:
    """The parent of every tenant blueprint; its URL prefix carries the slug."""
    bp = Blueprint("tenant", __name__, url_prefix="/<tenant>")
    bp.url_value_preprocessor(_bind_tenant_from_url)
    bp.url_defaults(_add_tenant_slug)
    return bp


def _bind_tenant_from_url(endpoint, values) -> None:
    slug = (values or {}).pop("tenant", None)
    # A slug is short and plain; other path values (NUL bytes included) are not sent to the database.
    plain = slug and len(slug) <= 63 and _SLUG_CHARS.fullmatch(slug)
    tenant = db.session.execute(select(Tenant).filter_by(slug=slug)).scalar_one_or_none() if plain else None
    if tenant is None or tenant.status == TenantStatus.PENDING:
        abort(404)
    if tenant.status == TenantStatus.SUSPENDED and not _suspended_allows(endpoint):
        raise TenantSuspended(tenant, staff_area=(endpoint or "").startswith(SUSPENDED_READABLE_PREFIXES))
    g.tenant = tenant
    g._tenant_token = bind_tenant(tenant.id)
    # A region's request never needs the platform's tables (row-level security hides them).
    g._platform_token = deny_platform_tables()


def _add_tenant_slug(endpoint, values) -> None:
    if "tenant" not in values and getattr(g, "tenant", None) is not None:
        values["tenant"] = g.tenant.slug


def _release_tenant(exc=None) -> None:
    token = g.pop("_tenant_token", None)
    if token is not None:
        unbind_tenant(token)
    token = g.pop("_platform_token", None)
    if token is not None:
        restore_platform_tables(token)


class TenantHostMiddleware:
    """Map a tenant's own domain or ``<slug>.<BASE_DOMAIN>`` onto the ``/<slug>/`` routes.

    Path-prefixed URLs keep working on those hosts, so ``url_for`` needs no host awareness.
    """

    def __init__(self, wsgi_app, flask_app: Flask, ttl: float = 60.0):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.ttl = ttl
        self._cache: tuple[float, dict[str, str]] = (0.0, {})

    def _domains(self) -> dict[str, str]:
        stamp, mapping = self._cache
        if time.monotonic() - stamp > self.ttl:
            with self.flask_app.app_context():
                rows = db.session.execute(select(TenantDomain.host, Tenant.slug).join(Tenant)).all()
                mapping = {host.lower(): slug for host, slug in rows}
                db.session.remove()
            self._cache = (time.monotonic(), mapping)
        return mapping

    def invalidate(self) -> None:
        self._cache = (0.0, {})

    def slug_for_host(self, host: str) -> str | None:
        host = host.split(":", 1)[0].lower()
        base = self.flask_app.config["BASE_DOMAIN"].lower()
        if base and host.endswith("." + base):
            sub = host[: -len(base) - 1]
            if sub and "." not in sub and sub not in {"www"}:
                return sub
        if host in (base, "localhost", "127.0.0.1"):
            return None
        try:
            return self._domains().get(host)
        except Exception:  # noqa: BLE001 (database down: path routing still works; /readyz reports it)
            return None

    def __call__(self, environ, start_response):
        slug = self.slug_for_host(environ.get("HTTP_HOST", ""))
        if slug:
            path = environ.get("PATH_INFO", "") or "/"
            if not (path == f"/{slug}" or path.startswith(f"/{slug}/") or path.startswith("/static/")
                    or path in PLATFORM_PATHS_ON_TENANT_HOSTS):
                environ["PATH_INFO"] = f"/{slug}{path}"
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    app.teardown_request(_release_tenant)
    app.wsgi_app = TenantHostMiddleware(app.wsgi_app, app)

    @app.errorhandler(TenantSuspended)
    def _suspended(exc: TenantSuspended):
        return render_template("errors/suspended.html", suspended_tenant=exc.tenant, staff_area=exc.staff_area), 503

    @app.before_request
    def _unbound_outside_tenant_routes() -> None:
        # Platform routes run with no tenant bound; nothing may leak in from a previous request.
        if request.blueprint is None or not request.blueprint.startswith("tenant"):
            g.pop("tenant", None)

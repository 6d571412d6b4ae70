"""Logging and Sentry. Logs and error reports carry ids and tracking codes, never personal data."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g, has_request_context

from app.tenancy.scope import bound_tenant_id

#: Keys whose values never leave the process in an error report.
SCRUB_KEYS = {"name", "email", "phone", "password", "contact", "reporter", "nik", "address", "recipient", "body"}


def _request_tenant_slug() -> str | None:
    """The request's region slug. Logging must never fail: when the row is expired (after a commit or a
    rollback) and cannot be reloaded (the database is down), the region's id stands in."""
    tenant = getattr(g, "tenant", None) if has_request_context() else None
    if tenant is None:
        return None
    slug = vars(tenant).get("slug")
    if slug is not None:
        return slug
    try:
        return tenant.slug
    except Exception:  # noqa: BLE001 (database unreachable: the id is known without a query)
        identity = sa.inspect(tenant).identity
        return f"tenant#{identity[0]}" if identity else None


class TenantLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant = _request_tenant_slug() or bound_tenant_id() or "-"
        return True


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry before_send: drop request bodies, cookies, user fields and personal keys."""
    request = event.get("request") or {}
    for key in ("data", "cookies", "query_string", "env"):
        request.pop(key, None)
    headers = request.get("headers") or {}
    for key in list(headers):
        if key.lower() in {"cookie", "authorization", "x-api-key", "x-forwarded-for", "x-real-ip"}:
            headers.pop(key)
    event.pop("user", None)
    for exc in (event.get("exception") or {}).get("values", []):
        for frame in (exc.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    extra = event.get("extra") or {}
    for key in list(extra):
        if key.lower() in SCRUB_KEYS:
            extra[key] = "[scrubbed]"
    for crumb in (event.get("breadcrumbs") or {}).get("values", []):
        if crumb.get("category") in {"query", "redis"}:
            crumb.pop("data", None)
    slug = _request_tenant_slug()
    if slug is not None:
        event.setdefault("tags", {})["tenant"] = slug
    return event


class NoResultRows(logging.Filter):
    """SQLAlchemy logs every fetched row at DEBUG: rows hold reporters' names and contacts, drop them.
    (Statement parameters are hidden by the engine's ``hide_parameters``.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


def init_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(tenant)s] %(name)s: %(message)s"))
    handler.addFilter(TenantLogFilter())
    root = logging.getLogger("app")
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    root.propagate = False
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, NoResultRows) for f in engine_log.filters):
        engine_log.addFilter(NoResultRows())


def init_sentry(app: Flask) -> bool:
    """Start Sentry for the web app and the worker when SENTRY_DSN is set."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.redis import RedisIntegration
    from sentry_sdk.integrations.rq import RqIntegration
    from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["APP_ENV"],
        integrations=[FlaskIntegration(), SqlalchemyIntegration(), RqIntegration(), RedisIntegration()],
        # The successor of send_default_pii=False: no user, bodies, cookies, query strings,
        # SQL parameters, queue payloads or frame variables leave the process.
        data_collection={
            "user_info": False,
            "http_bodies": [],
            "cookies": {"mode": "off"},
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
        },
        before_send=scrub_event,
        traces_sample_rate=0.0,
    )
    return True

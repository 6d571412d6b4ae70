"""Liveness, readiness and the development message outbox."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory
from sqlalchemy import select, text

from app.extensions import db
from app.tenancy.scope import tenant_scope

bp = Blueprint("ops", __name__, template_folder="templates")


@bp.route("/favicon.ico")
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page declares."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.route("/robots.txt")
def robots():
    """Staff and tracking pages are not for search engines; the public pages are."""
    body = "User-agent: *\nDisallow: /*/staff/\nDisallow: /*/lacak/\nDisallow: /central/\n"
    return current_app.response_class(body, mimetype="text/plain")


@bp.route("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """The database and, if configured, Redis answer; 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    if current_app.config["REDIS_URL"]:
        from app.jobs.queue import redis_connection

        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503


@bp.route("/dev/outbox")
def dev_outbox():
    """Development only: messages the development adapters stored instead of sending."""
    from app.notifications.models import Notification
    from app.notifications.service import dev_outbox_enabled

    if not dev_outbox_enabled():
        abort(404)
    from app.onboarding.models import PlatformMessage
    from app.tenancy.models import Tenant

    # Tenant by tenant, each in its own scope: row-level security lets the runtime role see one tenant at
    # a time, and a development page needs no privileged cross-tenant path.
    rows = []
    for tenant_id in db.session.execute(select(Tenant.id)).scalars().all():
        with tenant_scope(tenant_id):
            rows += db.session.execute(
                select(Notification).order_by(Notification.id.desc()).limit(100)).scalars().all()
    rows = sorted(rows, key=lambda n: n.id, reverse=True)[:100]
    # Platform mail (applications, approvals, invitations) has no tenant and its own table.
    platform = db.session.execute(
        select(PlatformMessage).order_by(PlatformMessage.id.desc()).limit(100)
    ).scalars().all()
    return render_template("ops/dev_outbox.html", rows=rows, platform=platform)

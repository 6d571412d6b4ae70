"""Liveness, readiness and the development message outbox (blueprint "ops", so endpoints stay ``ops.*``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, send_from_directory

from app.notifications.service import dev_outbox_enabled
from app.platform import service

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
    checks = service.readiness()
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503


@bp.route("/dev/outbox")
def dev_outbox():
    """Development only: messages the development adapters stored instead of sending."""
    if not dev_outbox_enabled():
        abort(404)
    rows, platform = service.dev_outbox()
    return render_template("ops/dev_outbox.html", rows=rows, platform=platform)

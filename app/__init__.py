"""Application factory: config, extensions, tenancy, i18n, blueprints, CLI."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app import i18n
from app.accounts.models import configure_password_hashing
from app.config import load_config
from app.extensions import compress, csrf, db, limiter, login_manager, migrate
from app.inputs import CleanRequest
from app.jobs.outbox import relay_after_request
from app.observability import init_logging, init_sentry
from app.tenancy import resolve, rls
from app.tenancy.resolve import make_tenant_blueprint
from app.tenancy.rls import install_tenant_setting


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.request_class = CleanRequest  # no NUL or control characters in form fields and query strings
    app.config.update(load_config(overrides))
    configure_password_hashing(app.config["PASSWORD_HASH_PARAMS"])

    from app import models  # noqa: F401  (registers every model with the metadata)

    init_logging(app)
    db.init_app(app)
    with app.app_context():
        _configure_engine(db.engine, pooled=app.config["DATABASE_PGBOUNCER"])
    rls.init_reporting(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.login_view = None
    csrf.init_app(app)
    compress.init_app(app)
    app.after_request(_read_files_before_compressing)
    limiter.init_app(app)

    i18n.init_app(app)
    resolve.init_app(app)
    from app import web_security

    web_security.init_app(app)  # after resolve: ProxyFix must wrap the tenant host mapping
    _register_blueprints(app)
    _register_errors(app)

    from app import wiring
    from app.cli import register_cli

    wiring.register_all(app)
    register_cli(app)
    wiring.register_cli(app)
    app.after_request(relay_after_request)

    sentry = init_sentry(app)
    log = logging.getLogger("app")
    mode = "RQ via REDIS_URL" if not app.config["JOBS_INLINE"] else "in-process (no Redis)"
    log.info("jobs run %s; sentry %s", mode, "on" if sentry else "off")
    return app


def _configure_engine(engine, pooled: bool = False) -> None:
    """PostgreSQL: the bound tenant goes into each transaction (row-level security; ``pooled``: behind
    pgbouncer's transaction pooling).
    SQLite: enforce foreign keys (tenant-safe references) and let SAVEPOINTs work."""
    install_tenant_setting(engine, pooled=pooled)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, record):
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")


def _register_blueprints(app: Flask) -> None:
    from app.accounts import loader  # noqa: F401  (registers the user loader)
    from app.accounts.views import bp as accounts_bp
    from app.api.open311 import bp as open311_bp
    from app.api.open311 import platform_bp as open311_platform_bp
    from app.api.openapi import bp as api_docs_bp
    from app.api.rest import bp as api_bp
    from app.api.views import bp as api_keys_bp
    from app.central.views import bp as central_bp
    from app.central.views_compare import bp as central_compare_bp
    from app.command_center.views import bp as command_center_bp
    from app.complaints.views_home import bp as public_bp
    from app.complaints.views_public import bp as complaints_public_bp
    from app.complaints.views_staff import bp as complaints_staff_bp
    from app.integrations.views import bp as integrations_bp
    from app.integrations.views import inbound_bp
    from app.myreports.views import bp as myreports_bp
    from app.onboarding.views import bp as onboarding_bp
    from app.onboarding.views import tenant_bp as onboarding_tenant_bp
    from app.platform.views import bp as ops_bp
    from app.privacy.views import public_bp as privacy_public_bp
    from app.privacy.views import staff_bp as privacy_staff_bp
    from app.settings.views import bp as settings_bp
    from app.settings.views import public_bp as branding_bp
    from app.staff.views import bp as staff_bp

    tenant_bp = make_tenant_blueprint()
    tenant_bp.register_blueprint(public_bp)
    tenant_bp.register_blueprint(accounts_bp)
    tenant_bp.register_blueprint(staff_bp)
    tenant_bp.register_blueprint(complaints_public_bp)
    tenant_bp.register_blueprint(complaints_staff_bp)
    tenant_bp.register_blueprint(onboarding_tenant_bp)
    tenant_bp.register_blueprint(integrations_bp)
    tenant_bp.register_blueprint(inbound_bp)
    tenant_bp.register_blueprint(api_keys_bp)
    tenant_bp.register_blueprint(open311_bp)
    tenant_bp.register_blueprint(api_bp)
    tenant_bp.register_blueprint(privacy_public_bp)
    tenant_bp.register_blueprint(privacy_staff_bp)
    tenant_bp.register_blueprint(settings_bp)
    tenant_bp.register_blueprint(branding_bp)
    tenant_bp.register_blueprint(command_center_bp)
    tenant_bp.register_blueprint(myreports_bp)
    app.register_blueprint(tenant_bp)
    app.register_blueprint(central_bp)
    app.register_blueprint(central_compare_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(open311_platform_bp)
    app.register_blueprint(api_docs_bp)


def _register_errors(app: Flask) -> None:
    def render(code: int):
        def handler(exc):
            from app.api.errors import unrouted_error

            if getattr(exc, "response", None) is not None:  # a view built its own answer (the limited report form)
                return exc.response

            # an unknown URL or method under the REST API or Open311: no route, so no blueprint handler
            response = unrouted_error(exc)
            if response is not None:
                return response
            if code == 403:
                from app.web_security import audit_forbidden

                audit_forbidden()
            return render_template(f"errors/{code}.html", tenant=getattr(g, "tenant", None)), code

        return handler

    for code in (400, 403, 404, 405, 409, 413, 429, 500):
        app.register_error_handler(code, render(code))


    app.register_error_handler(DBAPIError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)

    @app.context_processor
    def _inject_tenant() -> dict:
        return {"tenant": getattr(g, "tenant", None)}


#: Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER = 30


def _machine_outage_answer(retry_after: int):
    """The database-unavailable 503 for the REST API, Open311 or the inbound gateway, in that interface's
    error format with ``Retry-After``; None for a web page. Needs no database."""

    from app.api.errors import error_response, is_api_path, is_open311_path

    message = _("The service is temporarily unavailable; retry in %(seconds)s seconds.", seconds=retry_after)
    headers = {"Retry-After": str(retry_after)}
    if is_api_path():
        return error_response(503, "service_unavailable", message, headers=headers)
    if is_open311_path():
        from app.api.open311 import errors_answer

        return errors_answer(503, [message], headers)
    if request.blueprint == "tenant.inbound":
        from app.integrations.views import gateway_error

        return gateway_error(message, 503, headers)
    return None


def _database_unavailable(exc):
    """The database cannot be reached: a translated 503 page instead of a stack trace.

    Only disconnects, pool time-outs and a write refused because the server is read-only (SQLSTATE 25006:
    during a failover, the new leader a moment before its promotion ends) are an outage; any other
    database error is a bug (500). The page touches nothing that needs the database: no signed-in user,
    no tenant attributes (both would query).
    """


    read_only = getattr(getattr(exc, "orig", None), "sqlstate", None) == "25006"
    if isinstance(exc, DBAPIError) and not (isinstance(exc, OperationalError) or exc.connection_invalidated
                                            or read_only):
        raise exc
    try:
        db.session.rollback()  # nothing half-written survives; the connection is discarded if it is dead
    except Exception:  # noqa: BLE001 (the connection is gone already)
        db.session.close()
    logging.getLogger("app").error("database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen not in languages:
        chosen = request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(chosen):
        # machine clients (REST, Open311, the SMS/WhatsApp gateway) get their own documented error format
        response = _machine_outage_answer(DATABASE_RETRY_AFTER)
        if response is not None:
            return response
        html = render_template("errors/503_database.html", lang=chosen)
    response = current_app.response_class(html, 503, mimetype="text/html")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def _read_files_before_compressing(response):
    """Flask-Compress replaces a file response's body without closing the file: read and close it first.

    Runs before the compressor (after_request hooks run last-registered first)."""
    if response.direct_passthrough and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]:
        source = response.response
        response.direct_passthrough = False
        response.get_data()
        if hasattr(source, "close"):
            source.close()
    return response

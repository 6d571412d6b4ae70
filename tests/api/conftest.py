"""Fixtures of the API tests."""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture()
def api_limited_app():
    """(app, key, other key): an app of its own with rate limiting on and API_RATE_LIMIT "3 per minute",
    on a fresh SQLite file (the shared test app has limiting off), with two Banjarmasin keys.

    The limiter is one object shared by both apps: it is switched off again afterwards (as
    tests/web/conftest.py ``limited_app`` does).
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.api import keys
    from app.extensions import db, limiter
    from app.tenancy.files import load_tenant_config, sync_tenant
    from app.tenancy.scope import tenant_scope
    from tests.conftest import REPO

    folder = tempfile.mkdtemp(prefix="lapor-api-ratelimit-")
    application = create_app({
        "APP_ENV": "testing", "TESTING": True, "SECRET_KEY": "api-rate-limit-test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/test.db", "REDIS_URL": None, "JOBS_INLINE": True,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "API_RATE_LIMIT": "3 per minute", "MAIL_SERVER": None, "SMS_GATEWAY_URL": None,
    })
    try:
        with application.app_context():
            upgrade(directory=str(REPO / "migrations"))
            tenant = sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
            with tenant_scope(tenant.id):
                _row, first = keys.create_key("Integrasi satu", ["read", "write"])
                _row, second = keys.create_key("Integrasi dua", ["read"])
            db.session.commit()
            db.session.remove()
        yield application, first, second
    finally:
        limiter.reset()
        limiter.enabled = False
        with application.app_context():
            db.engine.dispose()

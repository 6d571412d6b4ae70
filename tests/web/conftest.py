"""Fixtures shared by the web tests."""

from __future__ import annotations

import tempfile

import pytest

from app.tenancy.scope import tenant_scope
from tests.conftest import DEMO_PASSWORD


@pytest.fixture()
def limited_app():
    """An app of its own with rate limiting on (the shared test app has it off), on a fresh SQLite file.

    The limiter is one object shared by both apps: it is switched off again afterwards.
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.services import create_user
    from app.extensions import db, limiter
    from app.tenancy.files import load_tenant_config, sync_tenant
    from tests.conftest import REPO

    folder = tempfile.mkdtemp(prefix="lapor-ratelimit-")
    application = create_app({
        "APP_ENV": "testing", "TESTING": True, "SECRET_KEY": "rate-limit-test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/test.db", "REDIS_URL": None, "JOBS_INLINE": True,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_RATE_LIMIT": "3 per minute", "MAIL_SERVER": None, "SMS_GATEWAY_URL": None,
    })
    try:
        with application.app_context():
            upgrade(directory=str(REPO / "migrations"))
            tenant = sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
            with tenant_scope(tenant.id):
                create_user("petugas@banjarmasin.example", "Petugas", "officer", password=DEMO_PASSWORD)
            db.session.commit()
            db.session.remove()
        yield application
    finally:
        limiter.reset()
        limiter.enabled = False
        with application.app_context():
            db.engine.dispose()


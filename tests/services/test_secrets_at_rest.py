"""Secrets at rest (issue 15, item 9): TOTP secrets are stored encrypted with SECRETS_KEY, rotation
re-encrypts them with the newest key, and sign-in with a code keeps working throughout."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.accounts.models import PlatformAdmin
from app.accounts.services import create_platform_admin
from app.crypto import SecretsKeyError, decrypt, is_current, rotate_all
from app.tenancy.scope import tenant_scope
from tests.conftest import login
from tests.mfa_support import SECRETS

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _stored(db, table: str, pk: int, tenant=None) -> str:
    """The raw column value, as the database holds it (no ORM type in between)."""
    stmt = text(f"SELECT totp_secret FROM {table} WHERE id = :i")  # noqa: S608 (fixed table names)
    if tenant is None:
        return db.session.execute(stmt, {"i": pk}).scalar_one()
    with tenant_scope(tenant.id):
        return db.session.execute(stmt, {"i": pk}).scalar_one()


@pytest.fixture()
def enrolled(app, db, bjm, make_user):
    """A tenant administrator who enrolled through the pages: (user, secret)."""
    admin = make_user(bjm, "tenant_admin")
    assert login(app.test_client(), bjm, admin.email).status_code == 302
    return admin, SECRETS[("/banjarmasin", admin.email.lower())]


def test_a_totp_secret_is_stored_encrypted_not_in_plaintext(db, bjm, enrolled):
    admin, secret = enrolled
    raw = _stored(db, "user_account", admin.id, bjm)
    assert secret not in raw and raw.startswith("gAAAAA")
    assert decrypt(raw) == secret
    central = create_platform_admin("pusat@lapor.example", "Pusat", "correct-horse-battery-staple")
    central.totp_secret = pyotp.random_base32()
    db.session.commit()
    raw = _stored(db, "platform_admin", central.id)
    assert central.totp_secret not in raw and decrypt(raw) == central.totp_secret


def test_rotation_re_encrypts_with_the_newest_key_and_sign_in_keeps_working(app, db, bjm, enrolled, monkeypatch):
    admin, secret = enrolled
    old_keys = list(app.config["SECRETS_KEYS"])
    before = _stored(db, "user_account", admin.id, bjm)
    new_key = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "SECRETS_KEYS", [new_key, *old_keys])
    # The old key still decrypts until rotation: the value is unchanged and sign-in works.
    assert not is_current(before) and decrypt(before) == secret
    assert login(app.test_client(), bjm, admin.email).status_code == 302

    assert rotate_all()["user_account"] >= 1
    after = _stored(db, "user_account", admin.id, bjm)
    assert after != before and is_current(after) and decrypt(after) == secret
    assert rotate_all() == {"platform_admin": 0, "user_account": 0, "bridge_settings": 0}  # idempotent
    assert _stored(db, "user_account", admin.id, bjm) == after

    # The old key can go now: everything is under the new one, and a code still signs in.
    monkeypatch.setitem(app.config, "SECRETS_KEYS", [new_key])
    assert login(app.test_client(), bjm, admin.email).status_code == 302
    # Without the key that made a value, it is refused by name, never shown.
    monkeypatch.setitem(app.config, "SECRETS_KEYS", old_keys)
    with pytest.raises(SecretsKeyError) as err:
        decrypt(after)
    assert secret not in str(err.value)


def test_the_rotate_command_reports_what_it_re_encrypted(app, db, bjm, enrolled, monkeypatch):
    monkeypatch.setitem(app.config, "SECRETS_KEYS", [Fernet.generate_key().decode(), *app.config["SECRETS_KEYS"]])
    first = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert first.exit_code == 0 and "user_account: 1 re-encrypted" in first.output
    again = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert "user_account: 0 re-encrypted" in again.output and "platform_admin: 0 re-encrypted" in again.output


def test_the_migration_encrypts_existing_secrets_and_the_downgrade_decrypts_them():
    """On a scratch SQLite file: a plaintext secret from before the migration is encrypted by it."""
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db

    url = f"sqlite:///{tempfile.mkdtemp(prefix='lapor-secrets-')}/m.db"
    scratch = create_app({"APP_ENV": "testing", "SECRET_KEY": "secrets-migration-test-key-0123456789",
                          "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "REDIS_URL": None})
    plain = pyotp.random_base32()
    with scratch.app_context():
        upgrade(directory=str(MIGRATIONS), revision="e3a1c9f4b7d2")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO platform_admin (email, name, session_nonce, active, created_at, "
                              "totp_secret, failed_logins) VALUES ('a@lapor.example', 'A', 'n', 1, "
                              "'2026-01-01 00:00:00', :s, 0)"), {"s": plain})
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            raw = conn.execute(text("SELECT totp_secret FROM platform_admin")).scalar_one()
        assert raw != plain and decrypt(raw) == plain
        assert db.session.execute(sa.select(PlatformAdmin.totp_secret)).scalar_one() == plain
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="e3a1c9f4b7d2")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT totp_secret FROM platform_admin")).scalar_one() == plain
        db.session.remove()
        db.engine.dispose()

"""Secrets at rest: values the app must read back (TOTP secrets) are stored encrypted.

Keys come from ``SECRETS_KEY`` (``app.config``): one or more Fernet keys, newest first. The newest
encrypts; every listed key decrypts (``cryptography``'s MultiFernet), so a new key is put in front,
``flask secrets rotate`` re-encrypts every stored value with it, and the old key can then be dropped.
Development and tests derive a key from ``SECRET_KEY`` so that ``make run`` needs no set-up; production
refuses to start without ``SECRETS_KEY`` (``app.config.validate``).

Secrets that the app only has to *check* are never stored in a readable form at all: inbound gateway
tokens and API keys are stored as hashes, webhook secrets are derived from ``WEBHOOK_SIGNING_KEY`` and a
nonce. A region's SP4N-LAPOR! token must be sent as it is, so the one set on the bridge settings page is
stored encrypted (``bridge_settings.token``); the environment's ``SP4N_TOKEN_<SLUG>`` remains the fallback.
"""

from __future__ import annotations

import base64
import hashlib

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select, text

from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_owned_models, tenant_scope

#: Every stored Fernet token starts with its version byte 0x80, base64 "gAAAAA".
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 (a format marker, not a secret)


class SecretsKeyError(RuntimeError):
    """A stored secret cannot be decrypted with any key of ``SECRETS_KEY`` (the message holds no secret)."""


def derived_key(secret_key: str) -> str:
    """A Fernet key derived from ``SECRET_KEY`` (development and tests only; never used in production)."""
    digest = hashlib.sha256(b"lapor secrets at rest\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def parse_keys(value: str | None) -> list[str]:
    """``SECRETS_KEY`` → its keys, newest first (separated by commas or white space).

    :raises ValueError: if a key is not a Fernet key (32 url-safe base64 bytes).
    """
    keys = [k for k in (value or "").replace(",", " ").split() if k]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError("SECRETS_KEY holds a value that is not a Fernet key") from None
    return keys


_boxes: dict[tuple[str, ...], MultiFernet] = {}


def _keys() -> tuple[str, ...]:
    keys = tuple(current_app.config.get("SECRETS_KEYS") or ())
    if not keys:
        raise SecretsKeyError("SECRETS_KEY is not configured")
    return keys


def _box(keys: tuple[str, ...]) -> MultiFernet:
    box = _boxes.get(keys)
    if box is None:
        box = _boxes[keys] = MultiFernet([Fernet(k) for k in keys])
    return box


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key."""
    return _box(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key made ``token``."""
    try:
        return _box(_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretsKeyError("a stored secret cannot be decrypted with any key in SECRETS_KEY") from None


def is_current(token: str) -> bool:
    """True if ``token`` is already encrypted with the newest key (rotation skips it)."""
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """``token`` re-encrypted with the newest key (it must decrypt with one of the keys)."""
    try:
        return _box(_keys()).rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretsKeyError("a stored secret cannot be decrypted with any key in SECRETS_KEY") from None


class EncryptedString(sa.types.TypeDecorator):
    """A string column stored as a Fernet token: Python sees the plaintext, the database never does."""

    impl = sa.String(255)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)

    def __repr__(self) -> str:  # what autogenerate writes into a migration
        return "sa.String(length=255)"


#: (table, primary key, column) of every encrypted column, for the migration and for rotation.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("platform_admin", "id", "totp_secret"),
    ("user_account", "id", "totp_secret"),
    ("bridge_settings", "id", "token"),
)


def rotate_all() -> dict[str, int]:
    """Re-encrypt every stored secret with the newest key; values already under it are left alone, so a
    second run changes nothing. Tenant-owned tables are walked region by region (row-level security).

    Returns the number of values re-encrypted per table.
    """


    tenant_tables = {m.__table__.name for m in tenant_owned_models()}
    tenant_ids = list(db.session.execute(select(Tenant.id).order_by(Tenant.id)).scalars())
    done: dict[str, int] = {}

    def _rotate(table: str, pk: str, column: str) -> int:
        # Raw SQL on purpose: the ORM type would decrypt, and the tokens are what is re-written.
        rows = db.session.execute(text(
            f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')).all()  # noqa: S608
        changed = 0
        for key, token in rows:
            if is_current(token):
                continue
            db.session.execute(text(f'UPDATE "{table}" SET "{column}" = :v WHERE "{pk}" = :k'),  # noqa: S608
                               {"v": rotate(token), "k": key})
            changed += 1
        return changed

    for table, pk, column in ENCRYPTED_COLUMNS:
        if table in tenant_tables:
            total = 0
            for tid in tenant_ids:
                with tenant_scope(tid):
                    total += _rotate(table, pk, column)
            done[table] = total
        else:
            done[table] = _rotate(table, pk, column)
    db.session.commit()
    return done

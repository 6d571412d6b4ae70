"""Helpers for API tests: a key of a region, and headers that present it."""

from __future__ import annotations

from app.api import keys
from app.tenancy.scope import tenant_scope


def make_key(db, tenant, scopes=("read", "write"), name="Integration test") -> str:
    """A new key of ``tenant`` (committed); returns the full key."""
    with tenant_scope(tenant.id):
        _row, token = keys.create_key(name, list(scopes))
        db.session.commit()
        return token


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}

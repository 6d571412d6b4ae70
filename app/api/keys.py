"""Creating, listing, revoking and checking API keys of the bound region.

A key is shown once, when it is made; afterwards only its prefix identifies it. Every creation and
revocation is written to the region's audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.api.models import SCOPES, ApiKey
from app.extensions import db
from app.onboarding.service import record
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant

_KEY_RE = re.compile(r"^lpr_([a-z0-9]{10})_([A-Za-z0-9_-]{20,80})$")
#: last_used_at is a hint for administrators: writing it on every call would turn reads into writes.
_TOUCH_EVERY = timedelta(minutes=5)


class ApiKeyError(ValueError):
    """A key cannot be made as asked; ``errors`` maps field names to translated messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def prefix_of(presented: str | None) -> str | None:
    """The prefix of a well-formed key (used to rate-limit per key before authentication)."""
    match = _KEY_RE.match(presented or "")
    return match.group(1) if match else None


def create_key(name: str, scopes: list[str], actor=None) -> tuple[ApiKey, str]:
    """A new key for the bound region: the row and the full key, which is never shown again."""
    name = (name or "").strip()
    errors = {}
    if not 3 <= len(name) <= 100:
        errors["name"] = _("Give the key a name of 3 to 100 characters (for example the system that uses it).")
    scopes = [s for s in SCOPES if s in (scopes or [])]
    if not scopes:
        errors["scopes"] = _("Choose at least one permission.")
    if errors:
        raise ApiKeyError(errors)
    if "write" in scopes and "read" not in scopes:
        scopes = list(SCOPES)
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=prefix, key_hash=_digest(secret), scopes=scopes,
                 created_by_id=getattr(actor, "id", None))
    db.session.add(key)
    db.session.flush()
    record(current_tenant(), "api_key.created", actor, after={"name": name, "prefix": prefix, "scopes": scopes})
    return key, f"lpr_{prefix}_{secret}"


def revoke_key(key: ApiKey, actor=None) -> None:
    """The key stops working at once; the row stays for the audit trail."""
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    key.revoked_by_id = getattr(actor, "id", None)
    db.session.flush()
    record(current_tenant(), "api_key.revoked", actor, before={"name": key.name, "prefix": key.prefix})


def list_keys() -> list[ApiKey]:
    return list(db.session.execute(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None),
                                                           ApiKey.id.desc())).scalars())


def get_key(key_id: int) -> ApiKey | None:
    return db.session.execute(select(ApiKey).filter_by(id=key_id)).scalar_one_or_none()


def authenticate(presented: str | None) -> ApiKey | None:
    """The bound region's active key matching ``presented`` (constant-time), or None.

    A key of another region is simply not found: the lookup runs inside the bound tenant's scope.
    """
    match = _KEY_RE.match(presented or "")
    if not match:
        return None
    key = db.session.execute(select(ApiKey).filter_by(prefix=match.group(1))).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.key_hash, _digest(match.group(2))):
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
        key.last_used_at = now
    return key

"""Account operations: authentication, password reset tokens, creation. Flush, never commit."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.accounts.models import PlatformAdmin, Role, User
from app.extensions import db
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant_id

RESET_SALT = "password-reset"
_DUMMY_HASH = None


def _normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _burn_time(password: str) -> None:
    """Verify against a dummy hash so unknown emails take as long as wrong passwords."""
    global _DUMMY_HASH
    from app.accounts.models import _hasher

    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password")
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except Exception:  # noqa: BLE001, S110 (always fails; only the time matters)
        pass


def authenticate_tenant_user(email: str, password: str) -> User | None:
    """The active user of the bound tenant with these credentials, or None."""
    user = db.session.execute(
        select(User).where(func.lower(User.email) == _normalise_email(email))
    ).scalar_one_or_none()
    if user is None or not user.active:
        _burn_time(password)
        return None
    if not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


def authenticate_platform_admin(email: str, password: str) -> PlatformAdmin | None:
    admin = db.session.execute(
        select(PlatformAdmin).where(func.lower(PlatformAdmin.email) == _normalise_email(email))
    ).scalar_one_or_none()
    if admin is None or not admin.active:
        _burn_time(password)
        return None
    return admin if admin.check_password(password) else None


def create_user(email: str, name: str, role: str, password: str | None = None, agency_id: int | None = None,
                phone: str | None = None, is_unit_head: bool = False) -> User:
    """Create a user in the bound tenant.

    :raises ValueError: for an unknown role, or a liaison without an agency.
    """
    if role not in Role.ALL:
        raise ValueError(f"unknown role {role!r}")
    if role == Role.LIAISON and agency_id is None:
        raise ValueError("a liaison must belong to an agency")
    user = User(email=_normalise_email(email), name=name, role=role, agency_id=agency_id, phone=phone,
                is_unit_head=is_unit_head)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_platform_admin(email: str, name: str, password: str) -> PlatformAdmin:
    admin = PlatformAdmin(email=_normalise_email(email), name=name)
    admin.set_password(password)
    db.session.add(admin)
    db.session.flush()
    return admin


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    # Changes with the password, which makes every token single-use.
    return hashlib.sha256(f"{user.password_hash}|{user.session_nonce}".encode()).hexdigest()[:20]


#: An invitation link stays valid longer than a reset link (the invitee may read mail days later).
INVITATION_MAX_AGE = 7 * 24 * 3600


def make_reset_token(user: User, invitation: bool = False) -> str:
    data = {"u": user.id, "t": user.tenant_id, "f": _fingerprint(user)}
    if invitation:
        data["k"] = "invite"  # signed: only the server can grant the longer lifetime
    return _serializer().dumps(data)


def invitation_max_age() -> int:
    return int(current_app.config.get("INVITATION_MAX_AGE", INVITATION_MAX_AGE))


def user_for_reset_token(token: str) -> User | None:
    """The user a valid, unexpired, unused token of the bound tenant belongs to, else None."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        try:  # an invitation may be older than a reset link
            data = _serializer().loads(token, max_age=invitation_max_age())
        except (SignatureExpired, BadSignature):
            return None
        if data.get("k") != "invite":
            return None
    except BadSignature:
        return None
    if data.get("t") != current_tenant_id():
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.active or _fingerprint(user) != data.get("f"):
        return None
    return user


def request_password_reset(email: str, link_for_token) -> None:
    """Email a reset link if the address belongs to an active user; silent otherwise."""
    from app.notifications.service import queue_message

    user = db.session.execute(
        select(User).where(func.lower(User.email) == _normalise_email(email))
    ).scalar_one_or_none()
    if user is None or not user.active:
        return
    token = make_reset_token(user)
    queue_message(
        event_key=f"user:{user.id}:reset:{token[-16:]}", channel="email", recipient=user.email,
        template_key="password_reset", context={"link": link_for_token(token)}, locale=user.locale,
    )


def reset_password(user: User, new_password: str) -> None:
    user.set_password(new_password)  # also rotates sessions: old cookies and tokens stop working
    db.session.flush()

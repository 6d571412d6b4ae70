"""Account operations: authentication, password reset tokens, creation. Flush, never commit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.accounts import audit, sessions
from app.accounts.models import PlatformAdmin, Role, User, burn_verify_time
from app.extensions import db
from app.inputs import account_email
from app.notifications.service import queue_message
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant_id

RESET_SALT = "password-reset"

#: The password rule, the same for every way a password is set (forms, invitations, CLI, create_user).
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200


class AccountError(ValueError):
    """An account operation that is not possible as asked; ``errors`` maps form fields to translated messages."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__("; ".join(str(m) for m in errors.values()))


def password_problem(password: str | None) -> str | None:
    """Why ``password`` may not be used (a translated message), or None when it is fine."""
    if not password or not (PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH):
        return str(_l("The password must have %(low)s to %(high)s characters.", low=PASSWORD_MIN_LENGTH,
                      high=PASSWORD_MAX_LENGTH))
    return None


def _normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass
class LoginAttempt:
    """The outcome of a password check. ``account`` is set whenever the email named an active account
    (for the audit log); ``ok`` only when the password was right and the account not locked. Callers
    show one message for every failure, so nobody learns whether an account exists or is locked."""

    account: object | None
    ok: bool
    locked: bool = False


def lock_minutes(failures: int) -> int:
    """Minutes of the lock after ``failures`` consecutive failures: 0 below the threshold, then
    1, 2, 4, 8… capped (LOGIN_LOCK_AFTER, LOGIN_LOCK_MAX_MINUTES). Never permanent."""
    after = int(current_app.config.get("LOGIN_LOCK_AFTER", 5))
    cap = int(current_app.config.get("LOGIN_LOCK_MAX_MINUTES", 15))
    if failures < after:
        return 0
    return min(2 ** min(failures - after, 10), cap)


def is_locked(account) -> bool:
    return account.locked_until is not None and account.locked_until > utcnow()


def register_failure(account) -> None:
    """Count a failed password or second-factor code; lock for a while past the threshold."""
    account.failed_logins = (account.failed_logins or 0) + 1
    minutes = lock_minutes(account.failed_logins)
    if minutes:
        account.locked_until = utcnow() + timedelta(minutes=minutes)


def clear_failures(account) -> None:
    account.failed_logins = 0
    account.locked_until = None


def _check(account, password: str) -> LoginAttempt:
    if account is None or not account.active:
        burn_verify_time(password)
        return LoginAttempt(None, False)
    if is_locked(account):
        # Refused without looking at the password and without extending the lock: an attacker cannot
        # keep a known user out for longer than LOGIN_LOCK_MAX_MINUTES, and a reset link lifts it.
        burn_verify_time(password)
        return LoginAttempt(account, False, locked=True)
    if not account.check_password(password):
        register_failure(account)
        return LoginAttempt(account, False)
    return LoginAttempt(account, True)


def authenticate_tenant_user(email: str, password: str) -> LoginAttempt:
    """Check credentials against the active users of the bound tenant."""
    user = db.session.execute(
        select(User).where(func.lower(User.email) == _normalise_email(email))
    ).scalar_one_or_none()
    return _check(user, password)


def authenticate_platform_admin(email: str, password: str) -> LoginAttempt:
    admin = db.session.execute(
        select(PlatformAdmin).where(func.lower(PlatformAdmin.email) == _normalise_email(email))
    ).scalar_one_or_none()
    return _check(admin, password)


def change_password(account, new_password: str, keep_session_key: str | None = None) -> int:
    """Set a new password and end the account's other sessions; returns how many were ended."""
    if problem := password_problem(new_password):
        raise AccountError({"password": problem})
    account.set_password(new_password)
    clear_failures(account)
    ended = sessions.revoke_all(account, except_key=keep_session_key)
    db.session.flush()
    return ended


def change_role(user: User, role: str, by: User, agency_id: int | None = None) -> None:
    """A tenant administrator changes a staff member's role: their sessions end (the new role, and a
    required second factor, apply from the next sign-in).

    :raises AccountError: for a role outside staff, a liaison without an agency, or one's own account.
    """
    if role not in Role.STAFF or user.id == by.id or (role == Role.LIAISON and agency_id is None):
        raise AccountError({"role": _l(
            "This role change is not possible (a liaison needs an agency; your own role stays).")})
    old = user.role
    if old == role and (role != Role.LIAISON or user.agency_id == agency_id):
        return
    user.role = role
    user.agency_id = agency_id if role == Role.LIAISON else None
    sessions.revoke_all(user)
    audit.record(audit.Action.ROLE_CHANGED, user, by=by, old=old, new=role)
    db.session.flush()


def set_active(user: User, active: bool, by: User) -> None:
    """Deactivate (sign-in refused, every session ended) or reactivate a staff account: the one
    implementation behind every page and command, audited once in the security log.

    :raises AccountError: for one's own account.
    """
    if user.id == by.id:
        raise AccountError({"active": _l("You cannot deactivate your own account.")})
    if user.active == active:
        return
    user.active = active
    if not active:
        sessions.revoke_all(user)
    audit.record(audit.Action.USER_REACTIVATED if active else audit.Action.USER_DEACTIVATED, user, by=by)
    db.session.flush()


def reset_mfa(account, by=None, end_sessions: bool = True, **detail) -> None:
    """Remove an account's second factor (secret, last step, recovery codes) and end its sessions; audited
    once. The account enrols again at its next sign-in where the second factor is required. Used by the
    account owner (``by`` None), an administrator and the ``accounts reset-2fa`` command alike."""
    account.totp_secret = None
    account.totp_last_step = None
    account.recovery_codes = []
    if end_sessions:
        sessions.revoke_all(account)
    audit.record(audit.Action.MFA_DISABLED, account, by=by, **detail)
    db.session.flush()


def staff_member(user_id: int) -> User | None:
    """A staff account of the bound region (another region's id is not found)."""
    user = db.session.get(User, user_id)
    return user if user is not None and user.role in Role.STAFF else None


def staff_members() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.role.in_(Role.STAFF)).order_by(User.role, User.name)).scalars())


def create_user(email: str, name: str, role: str, password: str | None = None, agency_id: int | None = None,
                phone: str | None = None, is_unit_head: bool = False) -> User:
    """Create a user in the bound tenant.

    :raises ValueError: for an unknown role, a liaison without an agency, an email address the
        sign-in form would refuse (:class:`app.inputs.InvalidEmail`), or a password the rule refuses
        (:class:`AccountError`).
    """
    email = account_email(email)
    if password and (problem := password_problem(password)):
        raise AccountError({"password": problem})
    if role not in Role.ALL:
        raise ValueError(f"unknown role {role!r}")
    if role == Role.LIAISON and agency_id is None:
        raise ValueError("a liaison must belong to an agency")
    user = User(email=email, name=name, role=role, agency_id=agency_id, phone=phone,
                is_unit_head=is_unit_head)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_platform_admin(email: str, name: str, password: str) -> PlatformAdmin:
    """:raises ValueError: for an email address the sign-in form would refuse, or a password the rule
        refuses (:class:`AccountError`)."""
    if problem := password_problem(password):
        raise AccountError({"password": problem})
    admin = PlatformAdmin(email=account_email(email), name=name)
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
    """A reset link proves control of the mailbox: set the password, lift any lock, end every session."""
    change_password(user, new_password)  # also rotates the nonce: the link stops working
    audit.record(audit.Action.PASSWORD_RESET, user)
    db.session.flush()

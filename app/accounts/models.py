"""Staff and citizen accounts (tenant-owned) and central administrators (platform)."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import EncryptedString
from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def configure_password_hashing(params: dict | None) -> None:
    """argon2id with ``params`` (time_cost, memory_cost, parallelism), or the library's recommended ones.

    Only the test configuration sets light ones (config.TEST_PASSWORD_HASH_PARAMS): each hash is ~0.1 s and
    ~64 MiB by design, and the suite signs in thousands of times. A hash records its parameters, so any
    stored hash still verifies after a change."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(**params) if params else PasswordHasher()
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy_hash: str | None = None


def burn_verify_time(password: str) -> None:
    """Verify against a dummy hash made with the current parameters, so an unknown email takes as long as a
    wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password")
    verify_password(_dummy_hash, password)


def _new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Role:
    TENANT_ADMIN = "tenant_admin"
    OFFICER = "officer"  # admin koordinator: the complaint unit
    LIAISON = "liaison"  # admin penghubung: bound to one agency
    CITIZEN = "citizen"
    #: Not a stored role: the platform's own jobs (sweeps, bridges) act as it on the workflow.
    SYSTEM = "system"
    # The role groups: defined here only, everybody else imports them (tests/unit/test_single_definitions.py).
    #: Every staff role, in the order pages list them.
    STAFF = (TENANT_ADMIN, OFFICER, LIAISON)
    #: The complaint unit (unit koordinator): verifies, disposes, reviews and publishes, closes.
    UNIT = (OFFICER, TENANT_ADMIN)
    #: Staff who handle reports day to day, administrators aside (who may become an agency's liaison).
    HANDLERS = (OFFICER, LIAISON)
    ALL = (TENANT_ADMIN, OFFICER, LIAISON, CITIZEN)


class PasswordMixin:
    password_hash: Mapped[str | None]
    session_nonce: Mapped[str]

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.rotate_sessions()

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    def rotate_sessions(self) -> None:
        """Invalidate outstanding password-reset links (their fingerprint includes the nonce)."""
        self.session_nonce = _new_nonce()


class SecurityMixin:
    """Two-factor authentication and failed-login backoff, shared by staff and central administrators."""

    #: Base32 TOTP secret once two-factor authentication is enrolled (None: not enrolled). Stored
    #: encrypted with SECRETS_KEY (app.crypto): a copy of the database alone cannot make codes.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedString())
    #: The last accepted TOTP time step: a code is accepted once (replay protection).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Hashes of the unused single-use recovery codes (None or [] when there are none).
    recovery_codes: Mapped[list | None] = mapped_column(sa.JSON, default=list)
    #: Consecutive failed sign-ins; reset by a successful one or a password reset.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Sign-in refused until then (progressive, capped: see app.accounts.lockout).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def mfa_enabled(self) -> bool:
        return bool(self.totp_secret)

    @property
    def mfa_required(self) -> bool:
        """Administrators must use two-factor authentication; other staff may."""
        return self.role in MFA_REQUIRED_ROLES

    @property
    def mfa_allowed(self) -> bool:
        return self.role in MFA_REQUIRED_ROLES or self.role in Role.STAFF


#: Roles that must enrol in two-factor authentication before reaching anything else.
MFA_REQUIRED_ROLES = ("central_admin", Role.TENANT_ADMIN)


class PlatformAdmin(PasswordMixin, SecurityMixin, UserMixin, db.Model):
    """A central administrator of the platform; belongs to no tenant."""

    __tablename__ = "platform_admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    session_nonce: Mapped[str] = mapped_column(sa.String(40), default=_new_nonce)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    is_platform_admin = True
    role = "central_admin"
    tenant_id = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The server-side session key (app.accounts.sessions): revoking the row ends this cookie and
        # the remember-me cookie made from it.
        return f"p:{self.id}:{getattr(self, 'login_session_key', '')}"


class User(PasswordMixin, SecurityMixin, UserMixin, TenantScoped, db.Model):
    """A person with an account in one tenant: staff or citizen."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Personal data: never logged.
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    role: Mapped[str] = mapped_column(sa.String(20))
    #: The agency (OPD) a liaison works for.
    agency_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: Heads the complaint unit: receives escalations.
    is_unit_head: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    session_nonce: Mapped[str] = mapped_column(sa.String(40), default=_new_nonce)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency = relationship(
        "Agency",
        primaryjoin="and_(User.agency_id == Agency.id, User.tenant_id == Agency.tenant_id)",
        foreign_keys="[User.agency_id]",
        viewonly=True,
    )

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "email"),
        tenant_fk(["agency_id"], "agency"),
        sa.CheckConstraint(f"role IN {Role.ALL!r}", name="role"),
        sa.CheckConstraint("role <> 'liaison' OR agency_id IS NOT NULL", name="liaison_agency"),
    )

    is_platform_admin = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in Role.STAFF

    def get_id(self) -> str:
        return f"t:{self.id}:{getattr(self, 'login_session_key', '')}"


def _new_session_key() -> str:
    return secrets.token_urlsafe(32)


class SessionMixin:
    """A server-side sign-in session; the Flask session and the remember-me cookie carry its key."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random; the only thing the browser holds.
    key: Mapped[str] = mapped_column(sa.String(64), default=_new_session_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Browser and system family only ("Firefox on Linux"), never the full header.
    user_agent: Mapped[str | None] = mapped_column(sa.String(80))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class UserSession(SessionMixin, TenantScoped, db.Model):
    """A tenant user's signed-in browser."""

    __tablename__ = "user_session"

    user_id: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = scoped_table_args(
        tenant_fk(["user_id"], "user_account", ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "key"),
        sa.Index("ix_user_session_tenant_user", "tenant_id", "user_id"),
    )


class PlatformSession(SessionMixin, db.Model):
    """A central administrator's signed-in browser (platform-level, like the administrator)."""

    __tablename__ = "platform_session"

    admin_id: Mapped[int] = mapped_column(sa.ForeignKey("platform_admin.id", ondelete="CASCADE"), index=True)

    __table_args__ = (sa.UniqueConstraint("key"),)

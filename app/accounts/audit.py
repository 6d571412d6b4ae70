"""Security audit log: sign-ins, failures, two-factor events, permission denials and role changes.

Entries of a tenant's users live in the tenant (``SecurityEvent``, seen by its administrators);
central administrators' entries are platform-level (``PlatformSecurityEvent``). Entries never hold
a password, a code, a session key or anything about a complaint or a complainant: an action name,
the account id, the client address and a few non-personal details (a path, a role).
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, bound_tenant_id, scoped_table_args, tenant_fk

log = logging.getLogger("app.audit")


class Action:
    LOGIN = "login.success"
    LOGIN_FAILED = "login.failure"
    LOGIN_LOCKED = "login.locked"
    LOGOUT = "logout"
    LOGOUT_EVERYWHERE = "sessions.revoked"
    MFA_ENROLLED = "mfa.enrolled"
    MFA_OK = "mfa.success"
    MFA_FAILED = "mfa.failure"
    MFA_RECOVERY_USED = "mfa.recovery_code_used"
    MFA_RECOVERY_RENEWED = "mfa.recovery_codes_renewed"
    MFA_DISABLED = "mfa.disabled"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 (an action name)
    PASSWORD_RESET = "password.reset"  # noqa: S105 (an action name)
    ACCESS_DENIED = "access.denied"
    ROLE_CHANGED = "role.changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    #: A list of complaints exported (app.complaints.exports); details: export id, format, rows, identity.
    COMPLAINTS_EXPORTED = "complaints.exported"
    ALL = (LOGIN, LOGIN_FAILED, LOGIN_LOCKED, LOGOUT, LOGOUT_EVERYWHERE, MFA_ENROLLED, MFA_OK, MFA_FAILED,
           MFA_RECOVERY_USED, MFA_RECOVERY_RENEWED, MFA_DISABLED, PASSWORD_CHANGED, PASSWORD_RESET,
           ACCESS_DENIED, ROLE_CHANGED, USER_DEACTIVATED, USER_REACTIVATED, COMPLAINTS_EXPORTED)


#: What the security log shows for each action (the stored code stays stable across languages).
ACTION_LABELS = {
    Action.LOGIN: _l("Signed in"),
    Action.LOGIN_FAILED: _l("Failed sign-in"),
    Action.LOGIN_LOCKED: _l("Sign-in temporarily locked"),
    Action.LOGOUT: _l("Signed out"),
    Action.LOGOUT_EVERYWHERE: _l("Signed out everywhere"),
    Action.MFA_ENROLLED: _l("Two-factor authentication set up"),
    Action.MFA_OK: _l("Two-factor code accepted"),
    Action.MFA_FAILED: _l("Wrong two-factor code"),
    Action.MFA_RECOVERY_USED: _l("Recovery code used"),
    Action.MFA_RECOVERY_RENEWED: _l("New recovery codes made"),
    Action.MFA_DISABLED: _l("Two-factor authentication reset"),
    Action.PASSWORD_CHANGED: _l("Password changed"),
    Action.PASSWORD_RESET: _l("Password reset"),
    Action.ACCESS_DENIED: _l("Access refused"),
    Action.ROLE_CHANGED: _l("Role changed"),
    Action.USER_DEACTIVATED: _l("Account deactivated"),
    Action.USER_REACTIVATED: _l("Account reactivated"),
    Action.COMPLAINTS_EXPORTED: _l("Complaints exported"),
}


DETAIL_LABELS = {
    "second_factor": _l("Second factor"),
    "by": _l("By account"),
    "by_cli": _l("From the command line"),
    "left": _l("Recovery codes left"),
    "method": _l("Method"),
    "path": _l("Page"),
    "old": _l("Previous role"),
    "new": _l("New role"),
    "other_sessions_ended": _l("Other sessions ended"),
    "sessions": _l("Sessions ended"),
    "export": _l("Export"),
    "format": _l("Format"),
    "rows": _l("Reports"),
    "identity": _l("With reporters' identity"),
}
DETAIL_VALUES = {
    "totp": _l("authenticator code"),
    "recovery_code": _l("recovery code"),
    "enrolment": _l("set up during sign-in"),
    "tenant_admin": _l("Administrator"),
    "officer": _l("Complaint unit officer"),
    "liaison": _l("Agency liaison"),
    "citizen": _l("Citizen"),
    True: _l("yes"),
    False: _l("no"),
}


def detail_text(detail: dict | None) -> str:
    """The details of an event in words (translated names and values; unknown ones as recorded)."""
    parts = []
    for key, value in sorted((detail or {}).items()):
        label = DETAIL_LABELS.get(key, key)
        shown = DETAIL_VALUES.get(value, value) if isinstance(value, str | bool) else value
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def action_label(action: str) -> str:
    """The translated label of an action code (the code itself for an unknown one)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


class _EventMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    #: Client address (after ProxyFix): needed to recognise an attack, kept with the security log only.
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    #: Non-personal details: a path without its query, old and new role, the reason of a failure.
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class SecurityEvent(_EventMixin, TenantScoped, db.Model):
    """One security event of a tenant's account (staff, or a citizen account without its identity)."""

    __tablename__ = "security_event"

    #: The account that acted or was acted upon; None for an unknown email or a citizen account.
    user_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: For role changes: the administrator who changed it.
    by_user_id: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = scoped_table_args(
        tenant_fk(["user_id"], "user_account"),
        tenant_fk(["by_user_id"], "user_account"),
        sa.Index("ix_security_event_tenant_at", "tenant_id", "at"),
    )


class PlatformSecurityEvent(_EventMixin, db.Model):
    """One security event of the central console."""

    __tablename__ = "platform_security_event"

    admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform_admin.id", ondelete="SET NULL"))


def _client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action: str, account=None, by=None, **detail) -> None:
    """Add an entry for ``account`` (a User, a PlatformAdmin or None) in the right log; flushes nothing.

    A citizen account is logged without its id (citizens may be complainants: the staff log must not
    reveal who they are). Without an account, the entry goes to the bound tenant, else the platform.
    """
    if action not in Action.ALL:
        raise ValueError(f"unknown audit action {action!r}")
    detail = {k: v for k, v in detail.items() if v is not None}
    platform = getattr(account, "is_platform_admin", False) if account is not None else bound_tenant_id() is None
    if platform:
        db.session.add(PlatformSecurityEvent(action=action, ip=_client_ip(), detail=detail,
                                             admin_id=account.id if account is not None else None))
    else:
        user_id = account.id if account is not None and account.is_staff else None
        db.session.add(SecurityEvent(action=action, ip=_client_ip(), detail=detail, user_id=user_id,
                                     by_user_id=by.id if by is not None else None))
    # The application log gets ids only (never names or emails).
    log.info("audit %s account=%s", action, getattr(account, "id", None))

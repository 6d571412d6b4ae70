"""Flask-Login user loading. All tenants share one cookie domain, so the loader must refuse
a user of another tenant; and the cookie must name a server-side session that is still valid
(app.accounts.sessions), so signing out, "sign out everywhere", a new password or a changed role
end it at once, remember-me cookies included."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from app.accounts import sessions
from app.accounts.access import _deny_or_login
from app.accounts.models import PlatformAdmin, User
from app.extensions import db, login_manager
from app.tenancy.scope import bound_tenant_id


@login_manager.user_loader
def load_user(session_id: str):
    try:
        kind, raw_id, key = session_id.split(":", 2)
        user_id = int(raw_id)
    except (ValueError, AttributeError):
        return None
    if kind == "p" and bound_tenant_id() is None:
        # Central administrators are signed in on the platform only: a region's request cannot even read
        # their table (row-level security, app.tenancy.rls.deny_platform_tables), so there, as a user of
        # another region, they are nobody.
        user = db.session.get(PlatformAdmin, user_id)
    elif kind == "t" and bound_tenant_id() is not None:
        user = db.session.get(User, user_id)  # scoped: another tenant's user is simply not found
    else:
        return None
    if user is None or not user.active:
        return None
    # An administrator whose second factor was removed (or a new administrator) must enrol first.
    if user.mfa_required and not user.mfa_enabled:
        return None
    row = sessions.find_valid(user, key)
    if row is None:
        return None
    user.login_session_key = key
    g.login_session = row
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """``login_required`` pages: sign in at this region (or centrally), then come back."""
    return _deny_or_login("tenant.accounts.login" if getattr(g, "tenant", None) is not None else "central.login")


def touch_session() -> None:
    """Before each request: load the user first (nothing else has happened yet, so committing is safe)
    and record the session's activity now and then."""
    if request.endpoint in (None, "static") or request.endpoint.startswith("ops."):
        return
    current_user._get_current_object()
    row = g.get("login_session")
    if row is not None and sessions.touch(row):
        db.session.commit()

"""Flask-Login user loading. All tenants share one cookie domain, so the loader must refuse
a user of another tenant (and a session whose nonce was rotated by logout or a new password)."""

from __future__ import annotations

from flask import g

from app.accounts.access import _deny_or_login
from app.accounts.models import PlatformAdmin, User
from app.extensions import db, login_manager
from app.tenancy.scope import bound_tenant_id


@login_manager.user_loader
def load_user(session_id: str):
    try:
        kind, raw_id, nonce = session_id.split(":", 2)
        user_id = int(raw_id)
    except (ValueError, AttributeError):
        return None
    if kind == "p":
        user = db.session.get(PlatformAdmin, user_id)
    elif kind == "t" and bound_tenant_id() is not None:
        user = db.session.get(User, user_id)  # scoped: another tenant's user is simply not found
    else:
        return None
    if user is None or user.session_nonce != nonce or not user.active:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """``login_required`` pages: sign in at this region (or centrally), then come back."""
    return _deny_or_login("tenant.accounts.login" if getattr(g, "tenant", None) is not None else "central.login")

"""Flask-Login user loading. All tenants share one cookie domain, so the loader must refuse
a user of another tenant (and a session whose nonce was rotated by logout or a new password)."""

from __future__ import annotations

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

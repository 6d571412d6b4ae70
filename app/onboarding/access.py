"""Who may use a tenant's public report form before its go-live."""

from __future__ import annotations

from flask import g
from flask_login import current_user


def portal_closed() -> bool:
    """Before go-live the public may not submit; the tenant's own staff may (the test complaint)."""
    if g.tenant.live:
        return False
    user = current_user
    return not (user.is_authenticated and not user.is_platform_admin and user.is_staff)

"""Who may enter which page. Tenant users only exist inside their own tenant."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.accounts.models import Role


def _deny_or_login(login_endpoint: str):
    if not current_user.is_authenticated:
        return redirect(url_for(login_endpoint, next=request.full_path))
    abort(403)


def roles_required(*roles: str):
    """Tenant pages for users of the bound tenant with one of ``roles``."""

    def deco(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user
            if not user.is_authenticated or user.is_platform_admin or user.role not in roles:
                return _deny_or_login("tenant.accounts.login")
            return view(*args, **kwargs)

        return wrapper

    return deco


staff_required = roles_required(*Role.STAFF)


def central_admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or not getattr(current_user, "is_platform_admin", False):
            return _deny_or_login("central.login")
        return view(*args, **kwargs)

    return wrapper


def signed_in_citizen():
    """The signed-in citizen account, or None (signed out, or staff)."""
    if current_user.is_authenticated and getattr(current_user, "role", None) == Role.CITIZEN:
        return current_user
    return None

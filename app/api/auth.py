"""API-key authentication and the per-key rate limit for the REST and Open311 endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app.api import keys
from app.api.errors import ApiError, is_open311_path
from app.extensions import db, limiter


def presented_key() -> str | None:
    """``Authorization: Bearer <key>``, else ``X-Api-Key``, else (Open311 only) the ``api_key`` field.

    The REST API takes keys in headers only: a key in a URL ends up in access logs, proxies and
    browser history. Open311 clients send ``api_key`` as a parameter because the specification says so.
    """
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    if request.headers.get("X-Api-Key"):
        return request.headers["X-Api-Key"].strip()
    if not is_open311_path():
        return None
    value = request.args.get("api_key") or (request.form.get("api_key") if request.form else None)
    return value.strip() if value else None


def rate_key() -> str:
    """Limits count per key (by its public prefix); requests without a usable key count per address."""
    prefix = keys.prefix_of(presented_key())
    return f"apikey:{prefix}" if prefix else f"addr:{get_remote_address()}"


def _limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def require_key(scope: str, optional: bool = False) -> Callable:
    """The view needs a key of the bound region with ``scope``; the key is in ``g.api_key``.

    With ``optional``, a request without any key goes through with ``g.api_key = None`` (public
    Open311 reads); a presented key must still be valid.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            presented = presented_key()
            if presented is None and optional:
                g.api_key = None
                return view(*args, **kwargs)
            if presented is None:
                raise ApiError(401, "unauthorized", _("An API key is required (header Authorization: Bearer …)."),
                               headers={"WWW-Authenticate": 'Bearer realm="api"'})
            key = keys.authenticate(presented)
            if key is None:
                raise ApiError(401, "unauthorized", _("The API key is not valid for this region, or it was revoked."),
                               headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})
            if db.session.dirty:
                db.session.commit()  # last_used_at, at most every few minutes
            if not key.allows(scope):
                raise ApiError(403, "forbidden", _("This API key does not have the “%(scope)s” permission.",
                                                   scope=scope))
            g.api_key = key
            return view(*args, **kwargs)

        # One budget per key across every API endpoint (a per-route limit would multiply it by the routes).
        return limiter.shared_limit(_limit, scope="api", key_func=rate_key)(wrapper)

    return decorator

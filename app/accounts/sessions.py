"""Server-side, revocable sign-in sessions for tenant users and central administrators.

The browser holds only a random key (inside the signed Flask session and the remember-me cookie,
through ``get_id()``); the row says whether it is still valid. Signing out revokes the row, "sign out
everywhere" revokes all of a user's rows, and a password change or a changed role revokes the others.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import select, update

from app.accounts.models import PlatformAdmin, PlatformSession, User, UserSession
from app.extensions import db
from app.tenancy.models import utcnow

#: last_seen_at is written at most this often (a write per request would be wasteful).
TOUCH_EVERY = timedelta(minutes=1)


def _model_and_owner(account) -> tuple[type, str]:
    return (PlatformSession, "admin_id") if isinstance(account, PlatformAdmin) else (UserSession, "user_id")


def summarise_user_agent(ua: str | None) -> str | None:
    """Browser and system family only ("Firefox on Linux"): enough to recognise a device, no more."""
    if not ua:
        return None
    browser = next((name for pattern, name in (
        (r"Edg/", "Edge"), (r"OPR/|Opera", "Opera"), (r"Firefox/", "Firefox"), (r"Chrom(e|ium)/", "Chrome"),
        (r"Safari/", "Safari"), (r"curl/", "curl"), (r"python|werkzeug", "Script")) if re.search(pattern, ua, re.I)),
        "Browser")
    system = next((name for pattern, name in (
        (r"Android", "Android"), (r"iPhone|iPad|iOS", "iOS"), (r"Windows", "Windows"), (r"Mac OS X|Macintosh", "macOS"),
        (r"CrOS", "ChromeOS"), (r"Linux", "Linux")) if re.search(pattern, ua, re.I)), None)
    return f"{browser} on {system}" if system else browser


def start(account) -> str:
    """A new session row for ``account``; returns its key and makes ``account.get_id()`` carry it."""
    model, owner = _model_and_owner(account)
    ua = request.headers.get("User-Agent") if has_request_context() else None
    row = model(**{owner: account.id}, user_agent=summarise_user_agent(ua))
    db.session.add(row)
    db.session.flush()
    account.login_session_key = row.key
    return row.key


def _max_age() -> timedelta:
    cfg = current_app.config
    return timedelta(seconds=int(cfg.get("SESSION_MAX_AGE") or cfg["REMEMBER_COOKIE_DURATION"]))


def find_valid(account, key: str):
    """The active, unexpired session row ``key`` of ``account``, or None."""
    if not key:
        return None
    model, owner = _model_and_owner(account)
    row = db.session.execute(select(model).filter_by(key=key)).scalar_one_or_none()
    if row is None or getattr(row, owner) != account.id or row.revoked_at is not None:
        return None
    if row.last_seen_at < utcnow() - _max_age():
        return None
    return row


def touch(row) -> bool:
    """Record activity on ``row`` if the last record is old enough; True when something was written."""
    now = utcnow()
    if now - row.last_seen_at < TOUCH_EVERY:
        return False
    row.last_seen_at = now
    return True


def revoke(account, key: str | None) -> None:
    """End one session of ``account`` (signing out)."""
    if not key:
        return
    model, owner = _model_and_owner(account)
    db.session.execute(update(model).where(getattr(model, owner) == account.id, model.key == key,
                                           model.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_all(account, except_key: str | None = None) -> int:
    """End every session of ``account`` but ``except_key``; returns how many were ended."""
    model, owner = _model_and_owner(account)
    stmt = update(model).where(getattr(model, owner) == account.id, model.revoked_at.is_(None))
    if except_key:
        stmt = stmt.where(model.key != except_key)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount or 0


def active_sessions(account) -> list:
    """The account's sessions that are still valid, newest activity first."""
    model, owner = _model_and_owner(account)
    rows = db.session.execute(
        select(model).where(getattr(model, owner) == account.id, model.revoked_at.is_(None),
                            model.last_seen_at >= utcnow() - _max_age())
        .order_by(model.last_seen_at.desc())
    ).scalars().all()
    return list(rows)


def is_user(account) -> bool:
    return isinstance(account, User)

"""Locale and time zone selection, and Indonesian-style date and number formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import babel, db

#: Zone abbreviations used in Indonesia, by UTC offset in hours.
ZONE_ABBR = {7: "WIB", 8: "WITA", 9: "WIT"}


def _tenant():
    return getattr(g, "tenant", None) if has_request_context() else None


def select_locale() -> str:
    """User preference, then explicit choice (?lang= or the switcher), then tenant default, then id."""
    supported = current_app.config["LANGUAGES"]
    if has_request_context():
        user_locale = getattr(current_user, "locale", None) if current_user else None
        if user_locale in supported:
            return user_locale
        chosen = request.args.get("lang") or session.get("lang")
        if chosen in supported:
            return chosen
    tenant = _tenant()
    if tenant is not None and tenant.locale in supported:
        return tenant.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_language(code: str) -> bool:
    """Store an explicit language choice in the session and as the signed-in user's preference.

    Returns False for an unsupported code. Tenant users are only signed in on their tenant's
    routes, so the switcher posts to the tenant's own language route there.
    """

    if code not in current_app.config["LANGUAGES"]:
        return False
    session["lang"] = code
    if current_user.is_authenticated and hasattr(current_user, "locale"):
        current_user.locale = code
        db.session.commit()
    return True


def select_timezone() -> str:
    tenant = _tenant()
    return tenant.timezone if tenant is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


def zone_abbr(tz_name: str, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    offset = when.astimezone(ZoneInfo(tz_name)).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    return ZONE_ABBR.get(hours, f"UTC+{hours}")


def format_dt(value: datetime | None, tz_name: str | None = None, locale: str | None = None,
              with_time: bool = True) -> str:
    """'Sabtu, 28 November 2026, 14.05 WITA' in the tenant's zone and the active locale."""
    if value is None:
        return ""
    tz_name = tz_name or select_timezone()
    locale = locale or str(get_locale() or "id")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(ZoneInfo(tz_name))
    # DOMAIN.md: "Jumat, 28 November 2026, 14.05 WITA" (Indonesian uses a dot between hours and minutes).
    pattern = "EEEE, d MMMM y, HH.mm" if locale == "id" else "EEEE, d MMMM y, HH:mm"
    if not with_time:
        pattern = "EEEE, d MMMM y"
        return _babel_datetime(local, pattern, tzinfo=ZoneInfo(tz_name), locale=locale)
    text = _babel_datetime(local, pattern, tzinfo=ZoneInfo(tz_name), locale=locale)
    return f"{text} {zone_abbr(tz_name, value)}"


def format_number(value: int | float, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or str(get_locale() or "id"))


def format_rupiah(value: int) -> str:
    """'Rp1.500.000' (Indonesian style, no space, no decimals)."""
    return "Rp" + format_decimal(value, format="#,##0", locale="id")


ROLE_LABELS = {
    "central_admin": _l("Central administrator"),
    "tenant_admin": _l("Tenant administrator"),
    "officer": _l("Complaint unit officer (admin koordinator)"),
    "liaison": _l("Agency liaison (admin penghubung)"),
    "citizen": _l("Citizen"),
}
TENANT_STATUS_LABELS = {"pending": _l("Pending approval"), "active": _l("Active"), "suspended": _l("Suspended")}


SOURCE_LABELS = {
    "web": _l("Website"), "sms": _l("SMS"), "whatsapp": _l("WhatsApp"), "email": _l("Email"),
    "phone": _l("Telephone"), "walk_in": _l("In person"), "api": _l("Integration (API)"),
    "open311": _l("Open311"), "sp4n": _l("SP4N-LAPOR!"), "referral": _l("Referral from another region"),
}


def source_label(source: str) -> str:
    """The channel a complaint came in through, for people (unknown channels shown as stored)."""
    return str(SOURCE_LABELS.get(source, source))


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def tenant_status_label(status: str) -> str:
    return str(TENANT_STATUS_LABELS.get(status, status))


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["dt"] = format_dt
    app.jinja_env.filters["date"] = lambda v: format_dt(v, with_time=False)
    app.jinja_env.filters["num"] = format_number
    app.jinja_env.globals.update(
        get_locale=get_locale, zone_abbr=zone_abbr, now_utc=lambda: datetime.now(UTC),
        role_label=role_label, tenant_status_label=tenant_status_label, source_label=source_label,
    )

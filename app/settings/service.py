"""A region's settings after go-live (the onboarding checklist uses the same functions).

Branding and logo, agencies (OPD) and their liaisons, categories and routing, deadlines and local
holidays, staff accounts. Every change appends a :class:`TenantAuditEvent` with before and after.
Services take the tenant and the acting administrator explicitly; they flush, never commit.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.accounts import services as accounts
from app.accounts.audit import SecurityEvent
from app.accounts.models import Role, User
from app.accounts.services import AccountError
from app.agencies.models import Agency, Category
from app.complaints import uploads
from app.complaints.models import CLASSES
from app.deadlines.policy import FIXED_STAGES
from app.extensions import db
from app.onboarding.models import TenantAuditEvent
from app.onboarding.service import OnboardingError, record
from app.storage import storage
from app.tenancy.models import Tenant

#: The errors of settings forms carry field → translated message, like the onboarding ones.
SettingsError = OnboardingError

LOGO_MAX_BYTES = 1024 * 1024
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEADLINE_STAGES = FIXED_STAGES
#: Upper bound for any working-day setting: Perpres 76/2013 caps resolution at 60 days, so a
#: larger number is a typing error rather than a local standard.
MAX_WORKING_DAYS = 90


# ---------------------------------------------------------------- reads (tenant bound)

def agencies() -> list[Agency]:
    return list(db.session.execute(select(Agency).order_by(Agency.active.desc(), Agency.name)).scalars())


def active_agencies() -> list[Agency]:
    return list(db.session.execute(select(Agency).filter_by(active=True).order_by(Agency.name)).scalars())


def agency_or_none(agency_id: int) -> Agency | None:
    """The bound tenant's agency with this id, or None (also for another tenant's id)."""
    return db.session.execute(select(Agency).filter_by(id=agency_id)).scalar_one_or_none()


def categories() -> list[Category]:
    return list(db.session.execute(select(Category).order_by(Category.active.desc(), Category.name_id)).scalars())


def category_or_none(category_id: int) -> Category | None:
    return db.session.execute(select(Category).filter_by(id=category_id)).scalar_one_or_none()


def staff_users() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.role.in_(Role.STAFF)).order_by(User.active.desc(), User.role, User.name)).scalars())


def staff_user_or_none(user_id: int) -> User | None:
    return db.session.execute(
        select(User).where(User.id == user_id, User.role.in_(Role.STAFF))).scalar_one_or_none()


def liaisons_by_agency() -> dict[int, list[User]]:
    out: dict[int, list[User]] = {}
    for u in db.session.execute(select(User).filter_by(role=Role.LIAISON).order_by(User.name)).scalars():
        out.setdefault(u.agency_id, []).append(u)
    return out


def categories_by_agency() -> dict[int, int]:
    rows = db.session.execute(select(Category.default_agency_id, func.count(Category.id))
                              .where(Category.active.is_(True), Category.default_agency_id.is_not(None))
                              .group_by(Category.default_agency_id)).all()
    return {agency_id: n for agency_id, n in rows}


#: The audit trail's filters: everything, changes to the set-up, accounts and security.
TRAILS = ("all", "setup", "security")


@dataclass(frozen=True)
class TrailEntry:
    """One line of the region's one audit trail, from the set-up change log or the security log."""

    at: datetime
    source: str  # "setup" | "security"
    kind: str
    actor: str | None
    account: str | None = None
    ip: str | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    detail: dict = field(default_factory=dict)


def _setup_entries(limit: int) -> list[TrailEntry]:
    rows = db.session.execute(select(TenantAuditEvent).order_by(TenantAuditEvent.at.desc(), TenantAuditEvent.id.desc())
                              .limit(limit)).scalars()
    return [TrailEntry(e.at, "setup", e.kind, e.actor_label, before=e.before or {}, after=e.after or {})
            for e in rows]


def _security_entries(limit: int) -> list[TrailEntry]:
    account, by = aliased(User), aliased(User)
    rows = db.session.execute(
        select(SecurityEvent, account.name, by.name)
        .outerjoin(account, account.id == SecurityEvent.user_id).outerjoin(by, by.id == SecurityEvent.by_user_id)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc()).limit(limit)).all()
    # Who acted: the administrator for changes to someone's account, else the account itself.
    return [TrailEntry(e.at, "security", e.action, by_name or name, account=name, ip=e.ip, detail=e.detail or {})
            for e, name, by_name in rows]


def audit_trail(trail: str = "all", limit: int = 50, offset: int = 0) -> tuple[list[TrailEntry], int]:
    """The bound region's one audit trail, newest first: set-up changes (``TenantAuditEvent``) and account and
    security events (``SecurityEvent``: sign-ins, role changes, deactivation, two-factor resets) together."""
    total = 0
    entries: list[TrailEntry] = []
    if trail in ("all", "setup"):
        total += db.session.scalar(select(func.count(TenantAuditEvent.id))) or 0
        entries += _setup_entries(limit + offset)
    if trail in ("all", "security"):
        total += db.session.scalar(select(func.count(SecurityEvent.id))) or 0
        entries += _security_entries(limit + offset)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[offset:offset + limit], total


# ---------------------------------------------------------------- staff accounts

def reset_staff_mfa(actor: User, user: User) -> None:
    """An administrator removes a staff member's second factor (lost phone): the one implementation
    (``accounts.services.reset_mfa``) ends their sessions and writes the one audit entry.

    :raises AccountError: for one's own account (the account page does that) or without a second factor.
    """
    if user.id == actor.id:
        raise AccountError({"mfa": _l("Reset your own two-factor authentication on your account page.")})
    if not user.mfa_enabled:
        raise AccountError({"mfa": _l("This account has no two-factor authentication to reset.")})
    accounts.reset_mfa(user, by=actor)


# ---------------------------------------------------------------- branding and logo

def save_logo(tenant: Tenant, actor: User, filename: str, data: bytes) -> str:
    """Check the image by its content (as for complaint photos), strip its metadata and make it the logo.

    The previous file stays in the storage: if the transaction fails, the old branding still points at it.

    :raises SettingsError: for anything but a PNG, JPEG or WebP image of at most 1 MB.
    """
    if len(data or b"") > LOGO_MAX_BYTES:
        raise SettingsError({"logo": _l("The logo may be at most 1 MB.")})
    try:
        prepared = uploads.prepare_upload(filename, data)
    except uploads.UploadError as exc:
        raise SettingsError({"logo": exc.message}) from exc
    if prepared.content_type not in LOGO_TYPES:
        raise SettingsError({"logo": _l("The logo must be a PNG, JPEG or WebP image.")})
    key = f"{tenant.id}/branding/logo-{uuid.uuid4().hex}.{LOGO_TYPES[prepared.content_type]}"
    storage().put(key, prepared.data, prepared.content_type)
    before = (tenant.branding or {}).get("logo_file")
    tenant.branding = {**(tenant.branding or {}), "logo_file": key, "logo_type": prepared.content_type}
    record(tenant, "branding.logo_updated", actor, before={"logo_file": before}, after={"logo_file": key})
    db.session.flush()
    return key


def remove_logo(tenant: Tenant, actor: User) -> None:
    branding = dict(tenant.branding or {})
    before = branding.pop("logo_file", None)
    branding.pop("logo_type", None)
    if before is None:
        return
    tenant.branding = branding
    record(tenant, "branding.logo_removed", actor, before={"logo_file": before}, after={"logo_file": None})
    db.session.flush()


def logo_file(tenant: Tenant) -> tuple[str, str] | None:
    """(storage key, content type) of the tenant's logo, or None; the key must lie in the tenant's own folder."""
    branding = tenant.branding or {}
    key, content_type = branding.get("logo_file"), branding.get("logo_type")
    if not key or content_type not in LOGO_TYPES or not key.startswith(f"{tenant.id}/branding/"):
        return None
    if not storage().exists(key):
        return None
    return key, content_type


# ---------------------------------------------------------------- agencies and liaisons

def _agency_snapshot(a: Agency) -> dict:
    return {"code": a.code, "name": a.name, "short_name": a.short_name, "active": a.active}


def create_agency(tenant: Tenant, actor: User, code: str, name: str, short_name: str) -> Agency:
    """Add an agency (OPD).

    :raises SettingsError: for a code that is malformed or already used.
    """
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        raise SettingsError({"code": _l("Use lower-case letters, digits, hyphens and underscores.")})
    if db.session.execute(select(Agency.id).filter_by(code=code)).first():
        raise SettingsError({"code": _l("This code is already used.")})
    agency = Agency(code=code, name=name.strip(), short_name=(short_name or "").strip() or name.strip()[:60])
    db.session.add(agency)
    db.session.flush()
    record(tenant, "agency.created", actor, after={"id": agency.id, **_agency_snapshot(agency)})
    return agency


def update_agency(tenant: Tenant, actor: User, agency: Agency, name: str, short_name: str, active: bool) -> None:
    """Rename, deactivate or reactivate an agency.

    :raises SettingsError: when deactivating an agency that categories still route to.
    """
    if agency.active and not active:
        routed = db.session.scalar(select(func.count(Category.id)).where(
            Category.default_agency_id == agency.id, Category.active.is_(True))) or 0
        if routed:
            raise SettingsError({"active": _l(
                "%(n)s active categories go to this agency by default: route them elsewhere first.", n=routed)})
    before = _agency_snapshot(agency)
    agency.name = name.strip()
    agency.short_name = (short_name or "").strip() or agency.name[:60]
    agency.active = bool(active)
    after = _agency_snapshot(agency)
    if before == after:
        return
    record(tenant, "agency.updated", actor, before={"id": agency.id, **before}, after={"id": agency.id, **after})


def assign_liaison(tenant: Tenant, actor: User, agency: Agency, user: User) -> None:
    """Make a staff member the liaison (admin penghubung) of ``agency``.

    An officer becomes a liaison; a liaison of another agency moves. Administrators are not reassigned.

    :raises SettingsError: for an inactive agency, an inactive user or an administrator.
    """
    if not agency.active:
        raise SettingsError({"user_id": _l("The agency is inactive.")})
    if not user.active or user.role not in Role.HANDLERS:
        raise SettingsError({"user_id": _l("Choose an active officer or liaison.")})
    if user.role == Role.LIAISON and user.agency_id == agency.id:
        return
    before = {"user_id": user.id, "role": user.role, "agency_id": user.agency_id}
    user.role = Role.LIAISON
    user.agency_id = agency.id
    user.rotate_sessions()  # the role changed: open sessions must not keep the old permissions
    record(tenant, "liaison.assigned", actor, before=before,
           after={"user_id": user.id, "role": user.role, "agency_id": agency.id})
    db.session.flush()


# ---------------------------------------------------------------- categories and routing

def _category_snapshot(c: Category) -> dict:
    return {"code": c.code, "name_id": c.name_id, "name_en": c.name_en, "default_agency_id": c.default_agency_id,
            "active": c.active}


def _check_agency(agency_id: int | None) -> int | None:
    if agency_id is None:
        return None
    agency = agency_or_none(agency_id)
    if agency is None or not agency.active:
        raise SettingsError({"default_agency_id": _l("Choose an active agency.")})
    return agency.id


def create_category(tenant: Tenant, actor: User, code: str, name_id: str, name_en: str,
                    default_agency_id: int | None) -> Category:
    """Add a category with its default agency (routing).

    :raises SettingsError: for a bad or used code, or an unknown agency.
    """
    code = (code or "").strip().lower()
    if not CODE_RE.match(code):
        raise SettingsError({"code": _l("Use lower-case letters, digits, hyphens and underscores.")})
    if db.session.execute(select(Category.id).filter_by(code=code)).first():
        raise SettingsError({"code": _l("This code is already used.")})
    cat = Category(code=code, name_id=name_id.strip(), name_en=(name_en or "").strip() or name_id.strip(),
                   default_agency_id=_check_agency(default_agency_id))
    db.session.add(cat)
    db.session.flush()
    record(tenant, "category.created", actor, after={"id": cat.id, **_category_snapshot(cat)})
    return cat


def update_category(tenant: Tenant, actor: User, cat: Category, name_id: str, name_en: str,
                    default_agency_id: int | None, active: bool) -> None:
    """Rename, re-route, deactivate or reactivate a category.

    :raises SettingsError: for an unknown or inactive agency.
    """
    agency_id = cat.default_agency_id if default_agency_id == cat.default_agency_id else _check_agency(
        default_agency_id)
    before = _category_snapshot(cat)
    cat.name_id = name_id.strip()
    cat.name_en = (name_en or "").strip() or cat.name_id
    cat.default_agency_id = agency_id
    cat.active = bool(active)
    after = _category_snapshot(cat)
    if before != after:
        record(tenant, "category.updated", actor, before={"id": cat.id, **before}, after={"id": cat.id, **after})


# ---------------------------------------------------------------- deadlines and local holidays

@dataclass(frozen=True)
class DeadlineSettings:
    verification: int
    coordination: int
    auto_close: int
    due_soon: int
    reopen_window: int
    #: class code → follow-up working days
    followup: dict


def current_deadlines(tenant: Tenant) -> DeadlineSettings:
    s = tenant.settings or {}
    d = s.get("deadlines", {})
    return DeadlineSettings(
        verification=d.get("verification", 3), coordination=d.get("coordination", 5),
        auto_close=d.get("auto_close", 10), due_soon=s.get("due_soon_working_days", 1),
        reopen_window=s.get("reopen_window_working_days", 10),
        followup={code: (s.get("classes", {}).get(code) or {}).get("followup_days") for code in CLASSES},
    )


def _deadline_snapshot(s: dict) -> dict:
    return {"deadlines": dict(s.get("deadlines", {})), "due_soon_working_days": s.get("due_soon_working_days"),
            "reopen_window_working_days": s.get("reopen_window_working_days"),
            "followup_days": {k: v.get("followup_days") for k, v in s.get("classes", {}).items()}}


def update_deadlines(tenant: Tenant, actor: User, values: DeadlineSettings) -> None:
    """Working-day deadlines per stage and per class. New values apply to stages that start from now on;
    running clocks keep the deadline they were given.

    :raises SettingsError: for a value outside 1..90 (0..10 for "due soon").
    """
    errors = {}
    for name in (*FIXED_STAGES, "reopen_window"):
        value = getattr(values, name)
        if not isinstance(value, int) or not 1 <= value <= MAX_WORKING_DAYS:
            errors[name] = _l("Enter a whole number of working days from 1 to %(max)s.", max=MAX_WORKING_DAYS)
    if not isinstance(values.due_soon, int) or not 0 <= values.due_soon <= 10:
        errors["due_soon"] = _l("Enter a whole number of working days from 0 to 10.")
    for code, value in values.followup.items():
        if code not in CLASSES:
            continue
        if not isinstance(value, int) or not 1 <= value <= MAX_WORKING_DAYS:
            errors[f"followup_{code}"] = _l("Enter a whole number of working days from 1 to %(max)s.",
                                            max=MAX_WORKING_DAYS)
    if errors:
        raise SettingsError(errors)
    settings = copy.deepcopy(tenant.settings or {})
    before = _deadline_snapshot(settings)
    settings.setdefault("deadlines", {}).update(
        verification=values.verification, coordination=values.coordination, auto_close=values.auto_close)
    settings["due_soon_working_days"] = values.due_soon
    settings["reopen_window_working_days"] = values.reopen_window
    classes = settings.setdefault("classes", {})
    for code, value in values.followup.items():
        if code in CLASSES:
            classes.setdefault(code, {"name_id": code, "name_en": code})["followup_days"] = value
    after = _deadline_snapshot(settings)
    if before == after:
        return
    tenant.settings = settings  # a new dict: JSON columns do not track changes inside
    record(tenant, "settings.deadlines_updated", actor, before=before, after=after)


def _holidays(tenant: Tenant) -> list[dict]:
    return list((tenant.settings or {}).get("local_holidays", []))


def add_local_holiday(tenant: Tenant, actor: User, day: date, name: str) -> None:
    """A local day off (decreed by the regional head) that the working-day calendar skips.

    :raises SettingsError: for a date that is already a local holiday, or without a name.
    """
    name = (name or "").strip()
    if not name:
        raise SettingsError({"name": _l("This field is required.")})
    holidays = _holidays(tenant)
    if any(h.get("date") == day.isoformat() for h in holidays):
        raise SettingsError({"date": _l("This date is already a local holiday.")})
    after = sorted([*holidays, {"date": day.isoformat(), "name": name[:120]}], key=lambda h: h["date"])
    tenant.settings = {**copy.deepcopy(tenant.settings or {}), "local_holidays": after}
    record(tenant, "settings.holiday_added", actor, before={"local_holidays": holidays},
           after={"local_holidays": after})


def remove_local_holiday(tenant: Tenant, actor: User, day: str) -> None:
    holidays = _holidays(tenant)
    after = [h for h in holidays if h.get("date") != day]
    if after == holidays:
        return
    tenant.settings = {**copy.deepcopy(tenant.settings or {}), "local_holidays": after}
    record(tenant, "settings.holiday_removed", actor, before={"local_holidays": holidays},
           after={"local_holidays": after})

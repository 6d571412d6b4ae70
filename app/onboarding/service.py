"""Sign-up, review, provisioning and the onboarding checklist. Flush, never commit.

Provisioning runs inside the approval's transaction (it takes a few dozen statements, well under a
second), so an approval either creates the whole tenant with its invitation or nothing at all.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import PlatformAdmin, Role, User
from app.agencies.models import Agency, Category
from app.complaints import service as complaints
from app.complaints.models import Complaint, ResponseTemplate
from app.extensions import db
from app.i18n import role_label
from app.notifications.models import MessageTemplate
from app.notifications.service import queue_message
from app.onboarding.audit import record
from app.onboarding.mail import queue_platform_mail
from app.onboarding.models import ApplicationStatus, TenantApplication, TenantAuditEvent
from app.tenancy.files import TenantConfig, load_template_config, sync_tenant
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.resolve import RESERVED_SLUGS
from app.tenancy.scope import tenant_scope

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")
REGION_CODE_RE = re.compile(r"^\d{2}(?:\.\d{2})?$")
TEMPLATE_SOURCE = "template"


class OnboardingError(Exception):
    """Bad input or a state that forbids the action; ``errors`` maps fields to translated messages."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(", ".join(errors))


# ---------------------------------------------------------------- checks shared by the form and the service

def slug_problem(slug: str) -> str | None:
    """A translated reason the slug cannot be used, or None."""
    slug = (slug or "").strip()
    if not SLUG_RE.match(slug) or "--" in slug:
        return _l("Use 3 to 40 lower-case letters, digits and hyphens (not at the start or end).")
    if slug in RESERVED_SLUGS:
        return _l("This address is reserved for the platform.")
    if db.session.execute(select(Tenant.id).filter_by(slug=slug)).first():
        return _l("This address is already taken.")
    if db.session.execute(select(TenantApplication.id).filter_by(slug=slug, status=ApplicationStatus.PENDING)).first():
        return _l("This address is already requested by another application.")
    return None


def region_code_problem(code: str) -> str | None:
    code = (code or "").strip()
    if not REGION_CODE_RE.match(code):
        return _l("Enter the Kemendagri code as NN or NN.NN, e.g. 63 or 63.71.")
    if db.session.execute(select(Tenant.id).filter_by(region_code=code)).first():
        return _l("A region with this code already uses the platform.")
    if db.session.execute(
        select(TenantApplication.id).filter_by(region_code=code, status=ApplicationStatus.PENDING)
    ).first():
        return _l("An application for this region code is already being reviewed.")
    return None


def _prefixes_in_use() -> set[str]:
    used = set(db.session.execute(select(Tenant.code_prefix)).scalars())
    used |= set(db.session.execute(
        select(TenantApplication.code_prefix).filter_by(status=ApplicationStatus.PENDING)).scalars())
    return used


def derive_code_prefix(slug: str, taken: set[str] | None = None) -> str:
    """A unique 3-letter tracking-code prefix from the slug: first letter, then its consonants.

    "katingan" → KTN (if free), else other letters of the name, else any free letters.
    """
    taken = _prefixes_in_use() if taken is None else taken
    letters = [c for c in slug.upper() if "A" <= c <= "Z"] or ["X"]
    first, rest = letters[0], letters[1:]
    consonants = [c for c in rest if c not in "AEIOU"]
    alphabet = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    for pool in (consonants, rest, alphabet):
        for a, b in itertools.combinations(pool, 2):
            if first + a + b not in taken:
                return first + a + b
    for a, b, c in itertools.product("ABCDEFGHIJKLMNOPQRSTUVWXYZ", repeat=3):  # 17,576: never all taken
        if a + b + c not in taken:
            return a + b + c
    raise RuntimeError("no tracking-code prefix left")


# ---------------------------------------------------------------- sign-up

@dataclass(frozen=True)
class ApplicationData:
    name: str
    type: str
    province: str
    region_code: str
    population: int | None
    timezone: str
    official_name: str
    official_position: str
    official_email: str
    official_phone: str
    slug: str
    suggested_peer_id: int | None = None


def submit_application(data: ApplicationData, review_link: Callable[[int], str]) -> TenantApplication:
    """Store a pending application and email every active central administrator.

    :raises OnboardingError: when the slug or region code cannot be used.
    """
    errors = {}
    if problem := slug_problem(data.slug):
        errors["slug"] = problem
    if problem := region_code_problem(data.region_code):
        errors["region_code"] = problem
    if errors:
        raise OnboardingError(errors)
    peer = db.session.get(Tenant, data.suggested_peer_id) if data.suggested_peer_id else None
    application = TenantApplication(
        name=data.name.strip(), type=data.type, province=data.province.strip(), region_code=data.region_code.strip(),
        population=data.population, timezone=data.timezone, official_name=data.official_name.strip(),
        official_position=data.official_position.strip(), official_email=data.official_email.strip().lower(),
        official_phone=data.official_phone.strip(), slug=data.slug.strip(),
        code_prefix=derive_code_prefix(data.slug.strip()),
        suggested_peer_id=peer.id if peer is not None and peer.status == TenantStatus.ACTIVE else None,
        status=ApplicationStatus.PENDING,
    )
    db.session.add(application)
    db.session.flush()
    admins = db.session.execute(select(PlatformAdmin).filter_by(active=True)).scalars().all()
    for admin in admins:
        with force_locale(admin.locale or "id"):
            subject = gettext("New application: %(name)s", name=application.name)
            body = gettext("%(name)s (%(province)s) applied to join the platform with the address /%(slug)s/.\n"
                           "Review it: %(link)s", name=application.name, province=application.province,
                           slug=application.slug, link=review_link(application.id))
        queue_platform_mail(f"application:{application.id}:submitted", admin.email, subject, body)
    return application


# ---------------------------------------------------------------- review

def list_applications(status: str | None = None) -> list[TenantApplication]:
    stmt = select(TenantApplication).order_by(TenantApplication.status != ApplicationStatus.PENDING,
                                              TenantApplication.created_at.desc())
    if status:
        stmt = stmt.filter_by(status=status)
    return list(db.session.execute(stmt).scalars())


def peer_choices() -> list[Tenant]:
    """Tenants whose set-up may be cloned: active and live."""
    return list(db.session.execute(
        select(Tenant).filter_by(status=TenantStatus.ACTIVE, live=True).order_by(Tenant.name)).scalars())


def _require_pending(application: TenantApplication) -> None:
    if application.status != ApplicationStatus.PENDING:
        raise OnboardingError({"status": _l("This application has already been decided.")})


def approve_application(application: TenantApplication, admin: PlatformAdmin, source: str,
                        invite_link: Callable[[Tenant, str], str], tenant_link: Callable[[Tenant], str]) -> Tenant:
    """Approve, provision the tenant from ``source`` ("template" or a peer tenant id), invite the official
    and tell the applicant.

    :raises OnboardingError: when already decided, or the source is not a live tenant.
    """
    _require_pending(application)
    peer = None
    if source != TEMPLATE_SOURCE:
        peer = db.session.get(Tenant, int(source)) if str(source).isdigit() else None
        if peer is None or peer not in peer_choices():
            raise OnboardingError({"source": _l("Choose the template or a live region to copy.")})
    tenant = provision_tenant(application, peer or TEMPLATE_SOURCE, actor_label=admin.name)
    application.status = ApplicationStatus.APPROVED
    application.reviewed_by_id = admin.id
    application.reviewed_at = utcnow()
    invite_official(application, tenant, invite_link)
    with force_locale("id"):
        subject = gettext("Your application has been approved: %(name)s", name=application.name)
        body = gettext("The application of %(name)s has been approved. The service will be at %(link)s.\n"
                       "%(official)s receives a separate email with a link to set a password and start the "
                       "set-up.", name=application.name, link=tenant_link(tenant), official=application.official_name)
    queue_platform_mail(f"application:{application.id}:approved", application.official_email, subject, body)
    db.session.flush()
    return tenant


def reject_application(application: TenantApplication, admin: PlatformAdmin, reason: str) -> None:
    """Reject with a reason the applicant is told.

    :raises OnboardingError: without a reason, or when already decided.
    """
    _require_pending(application)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise OnboardingError({"reason": _l("Give the applicant a reason.")})
    application.status = ApplicationStatus.REJECTED
    application.reason = reason
    application.reviewed_by_id = admin.id
    application.reviewed_at = utcnow()
    with force_locale("id"):
        subject = gettext("Your application was not approved: %(name)s", name=application.name)
        body = gettext("The application of %(name)s was not approved.\nReason: %(reason)s\n"
                       "You may apply again once the reason is resolved.", name=application.name, reason=reason)
    queue_platform_mail(f"application:{application.id}:rejected", application.official_email, subject, body)
    db.session.flush()


# ---------------------------------------------------------------- provisioning

def _config_from_template() -> TenantConfig:
    return load_template_config(Path(current_app.config["TENANTS_DIR"]))


#: Region-name prefixes as written in names and texts, by kind: full, abbreviated, "Pemerintah …" short form.
_PREFIX_KIND = {"kota": "full", "kabupaten": "full", "provinsi": "full", "kab.": "abbr", "prov.": "abbr",
                "pemko": "pem", "pemkot": "pem", "pemkab": "pem", "pemprov": "pem"}
#: The new region's prefix for each kind, by its type.
_PREFIX_FOR = {
    "kota": {"full": "Kota", "abbr": "Kota", "pem": "Pemko"},
    "kabupaten": {"full": "Kabupaten", "abbr": "Kab.", "pem": "Pemkab"},
    "provinsi": {"full": "Provinsi", "abbr": "Prov.", "pem": "Pemprov"},
}
_PREFIX_RE = r"(?:(?P<prefix>Kota|Kabupaten|Kab\.|Provinsi|Prov\.|Pemko|Pemkot|Pemkab|Pemprov)\s+)?"


def region_bare_name(name: str) -> str:
    """"Pemerintah Kota Banjarmasin" → "Banjarmasin"; "Kabupaten Kotawaringin Timur" → "Kotawaringin Timur"."""
    m = re.match(r"^\s*(?:Pemerintah\s+)?(?:Kota|Kabupaten|Kab\.|Provinsi|Prov\.)\s+(.+?)\s*$", name or "", re.I)
    return (m.group(1) if m else re.sub(r"^\s*Pemerintah\s+", "", name or "", flags=re.I)).strip()


def _same_case(written: str, new: str) -> str:
    if written.isupper():
        return new.upper()
    if written.islower():
        return new.lower()
    return new


def region_renamer(old_name: str, new_name: str, new_type: str) -> Callable[[str], str]:
    """A function replacing the peer region's name by the new region's in a copied text.

    "Kota X", "Kabupaten X", "Kab. X", "Pemko X" and bare "X" are found (any case); a prefixed form becomes the
    new region's own prefix of the same kind ("Dinas PUPR Kota Banjarmasin" → "Dinas PUPR Kabupaten
    Kotawaringin Timur", "Kab. X" → "Kab. Y"), and the case is kept as written ("BANJARMASIN" → "KOTAWARINGIN
    TIMUR"). Names inside addresses (``banjarmasinkota.go.id``, ``pengaduan@banjarmasin.go.id``) are left
    alone: the administrator checks them on the checklist.
    """
    old_bare, new_bare = region_bare_name(old_name), region_bare_name(new_name)
    if not old_bare or old_bare.lower() == new_bare.lower():
        return lambda text: text
    name_re = r"\s+".join(re.escape(part) for part in old_bare.split())
    pattern = re.compile(rf"(?<![\w.@/-]){_PREFIX_RE}(?P<name>{name_re})(?![\w@/-]|\.\w)", re.IGNORECASE)
    prefixes = _PREFIX_FOR.get(new_type, _PREFIX_FOR["kabupaten"])

    def replace(m: re.Match) -> str:
        prefix = m.group("prefix")
        if prefix is None:
            return _same_case(m.group("name"), new_bare)
        return _same_case(m.group(0), f"{prefixes[_PREFIX_KIND[prefix.lower()]]} {new_bare}")

    return lambda text: pattern.sub(replace, text) if isinstance(text, str) and text else text


def _rename_all(value, rename: Callable[[str], str]):
    """Every string in a JSON-like value renamed."""
    if isinstance(value, str):
        return rename(value)
    if isinstance(value, dict):
        return {k: _rename_all(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_all(v, rename) for v in value]
    return value


#: Settings that describe the peer's own place or its own arrangements, never copied: its sender name, its
#: LOCAL holidays (they would silently move the new region's statutory deadlines; national holidays and cuti
#: bersama come from the calendar anyway), its area on the map, the bridge (its own token and switch).
PEER_ONLY_SETTINGS = ("sender_name", "local_holidays", "area", "sp4n")


@dataclass(frozen=True)
class PeerCopy:
    """A peer's set-up made fit for the new region, and what was copied (for the checklist)."""

    config: TenantConfig
    response_templates: list[tuple[str, str, bool]]
    renamed: list[tuple[str, str]]


def _config_from_peer(peer: Tenant, template: TenantConfig, new_name: str = "", new_type: str = "") -> PeerCopy:
    """The peer's proven set-up: settings, agencies, categories with routing, message texts, answer templates,
    with the peer's region name replaced by the new region's.

    Never its complaints, people, keys or branding, nor :data:`PEER_ONLY_SETTINGS`; its trusted networks
    (the peer's office lines) are dropped too.
    """
    rename = region_renamer(peer.name, new_name, new_type) if new_name else (lambda text: text)
    settings = copy.deepcopy(peer.settings or {})
    for key in PEER_ONLY_SETTINGS:
        settings.pop(key, None)
    if isinstance(settings.get("rate_limits"), dict):
        settings["rate_limits"].pop("trusted_networks", None)
    settings = _rename_all(settings, rename)
    renamed: list[tuple[str, str]] = []

    def named(text: str) -> str:
        out = rename(text)
        if out != text and (text, out) not in renamed:
            renamed.append((text, out))
        return out

    with tenant_scope(peer.id):
        agencies = db.session.execute(select(Agency).order_by(Agency.id)).scalars().all()
        by_id = {a.id: a.code for a in agencies}
        categories = db.session.execute(select(Category).order_by(Category.id)).scalars().all()
        messages: dict[str, dict] = {}
        for m in db.session.execute(select(MessageTemplate).order_by(MessageTemplate.id)).scalars():
            messages.setdefault(m.key, {})[f"subject_{m.locale}"] = rename(m.subject)
            messages[m.key][f"body_{m.locale}"] = rename(m.body)
        texts = [(named(r.title), rename(r.body), r.active) for r in
                 db.session.execute(select(ResponseTemplate).order_by(ResponseTemplate.id)).scalars()]
        agency_rows = [{"code": a.code, "name": named(a.name), "short_name": named(a.short_name), "active": a.active}
                       for a in agencies]
        category_rows = [{"code": c.code, "name_id": named(c.name_id), "name_en": named(c.name_en),
                          "agency": by_id.get(c.default_agency_id), "active": c.active} for c in categories]
    # Keys the template has and the peer lacks (e.g. texts added after the peer joined).
    for key, msg in template.messages.items():
        messages.setdefault(key, copy.deepcopy(msg))
    config = TenantConfig(slug=TEMPLATE_SOURCE, tenant={}, settings=settings, branding={},
                          agencies=agency_rows, categories=category_rows, messages=messages)
    return PeerCopy(config, texts, renamed)


def provision_tenant(application: TenantApplication, source: Tenant | str, actor_label: str | None = None) -> Tenant:
    """Create the application's tenant from ``_template`` or by cloning ``source`` (a peer Tenant).

    Idempotent: once the application has its tenant, a second call returns it and writes nothing.
    The tenant is active (its admin can sign in) but not live (the public portal is not yet open).

    :raises OnboardingError: when the slug, region code or prefix was taken meanwhile.
    """
    if application.tenant_id is not None:
        return db.session.get(Tenant, application.tenant_id)
    clash = db.session.execute(select(Tenant.id).where(
        (Tenant.slug == application.slug) | (Tenant.region_code == application.region_code)
        | (Tenant.code_prefix == application.code_prefix))).first()
    if clash:
        raise OnboardingError({"slug": _l("The address, region code or code prefix is already used by a region.")})
    template = _config_from_template()
    peer = source if isinstance(source, Tenant) else None
    cloned = _config_from_peer(peer, template, application.name, application.type) if peer is not None else None
    base = cloned.config if cloned is not None else template
    settings = {**template.settings, **base.settings}
    settings["sender_name"] = application.name
    settings["local_holidays"] = []  # the new region adds its own; a peer's are never copied
    config = TenantConfig(
        slug=application.slug,
        tenant={"name": application.name, "service_name": "", "type": application.type,
                "province": application.province, "region_code": application.region_code,
                "code_prefix": application.code_prefix, "timezone": application.timezone, "locale": "id",
                "population": application.population, "status": TenantStatus.ACTIVE},
        settings=settings, branding=copy.deepcopy(template.branding),  # never the peer's branding
        agencies=base.agencies, categories=base.categories, messages=base.messages,
    )
    tenant = sync_tenant(config)
    tenant.live = False
    tenant.go_live_at = None
    application.tenant_id = tenant.id
    application.source_tenant_id = peer.id if peer is not None else None
    application.source = peer.slug if peer is not None else TEMPLATE_SOURCE
    texts = cloned.response_templates if cloned is not None else []
    after = {"source": application.source, "agencies": len(config.agencies), "categories": len(config.categories),
             "response_templates": len(texts)}
    if cloned is not None:
        # What the new region's administrator confirms item by item on the checklist.
        after.update(peer=peer.name, copied=_copied_items(config, texts),
                     renamed=[list(pair) for pair in cloned.renamed[:RENAMED_KEPT]],
                     not_copied=[*PEER_ONLY_SETTINGS, "branding", "staff", "complaints"])
    with tenant_scope(tenant.id):
        for title, body, active in texts:
            db.session.add(ResponseTemplate(title=title, body=body, active=active))
        record(tenant, "tenant.provisioned", None, actor_label, after=after)
    db.session.flush()
    return tenant


#: Renamed names kept in the provisioning record (the checklist shows them).
RENAMED_KEPT = 60

#: The groups of a peer's set-up the new region's administrator confirms, in checklist order.
COPIED_ITEMS = ("agencies", "categories", "routing", "deadlines", "messages", "response_templates", "settings")


def _copied_items(config: TenantConfig, texts: list) -> dict[str, int]:
    """How many things of each group came from the peer."""
    s = config.settings
    return {
        "agencies": len(config.agencies),
        "categories": len(config.categories),
        "routing": sum(1 for c in config.categories if c.get("agency")),
        "deadlines": len(s.get("deadlines", {})) + len(s.get("classes", {})),
        "messages": len(config.messages),
        "response_templates": len(texts),
        "settings": len([k for k in s if k not in ("deadlines", "classes", "sender_name", "local_holidays")]),
    }


def invite_official(application: TenantApplication, tenant: Tenant,
                    invite_link: Callable[[Tenant, str], str]) -> User:
    """The official becomes the tenant administrator, without a password, with an emailed invitation."""
    with tenant_scope(tenant.id):
        user = db.session.execute(
            select(User).where(func.lower(User.email) == application.official_email.lower())).scalar_one_or_none()
        if user is None:
            user = accounts.create_user(application.official_email, application.official_name, Role.TENANT_ADMIN,
                                        phone=application.official_phone or None)
        _send_invitation(tenant, user, invite_link)
    return user


def _send_invitation(tenant: Tenant, user: User, invite_link: Callable[[Tenant, str], str],
                     resend: bool = False) -> None:
    token = accounts.make_reset_token(user, invitation=True)
    with force_locale(user.locale or tenant.locale):
        role = role_label(user.role)
    # A resent invitation is a new message (the outbox sends each event key once); the nonce names the link.
    key = f"user:{user.id}:invitation" + (f":{user.session_nonce[:12]}" if resend else "")
    queue_message(event_key=key, channel="email", recipient=user.email,
                  template_key="invitation", locale=user.locale,
                  context={"link": invite_link(tenant, token), "role": role,
                           "days": accounts.invitation_max_age() // 86400})


# ---------------------------------------------------------------- checklist (tenant bound)

def _done(kind: str) -> bool:
    return db.session.execute(select(TenantAuditEvent.id).filter_by(kind=kind)).first() is not None


@dataclass(frozen=True)
class CopiedItem:
    """One group of a peer's set-up for the administrator to confirm."""

    key: str
    title: str
    count: int
    confirmed: bool


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    detail: str = ""
    items: tuple[CopiedItem, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()


COPIED_TITLES = {
    "agencies": _l("Agencies (OPD): names and short names"),
    "categories": _l("Categories"),
    "routing": _l("Routing: which agency each category goes to"),
    "deadlines": _l("Deadlines per stage and per class"),
    "messages": _l("Message texts to citizens and staff"),
    "response_templates": _l("Answer templates"),
    "settings": _l("Other settings (due-soon warning, reopen window, retention, SMS/WhatsApp, rate limits)"),
}


def _provisioned() -> TenantAuditEvent | None:
    return db.session.execute(select(TenantAuditEvent).filter_by(kind="tenant.provisioned")
                              .order_by(TenantAuditEvent.id)).scalars().first()


def _copied_step() -> Step | None:
    """For a region cloned from a peer: each copied group, confirmed or not (computed from the change log)."""
    made = _provisioned()
    copied = (made.after or {}).get("copied") if made is not None else None
    if not copied:
        return None
    confirmed = {(e.after or {}).get("item") for e in db.session.execute(
        select(TenantAuditEvent).filter_by(kind="clone.item_confirmed")).scalars()}
    if _done("settings.deadlines_confirmed"):
        confirmed.add("deadlines")
    items = tuple(CopiedItem(key, str(COPIED_TITLES[key]), int(copied.get(key, 0)), key in confirmed)
                  for key in COPIED_ITEMS if copied.get(key))  # nothing to check where nothing came
    done = sum(i.confirmed for i in items)
    return Step("copied", _l("Check what was copied from %(peer)s", peer=made.after.get("peer", "")),
                done == len(items), _l("%(done)s of %(total)s confirmed", done=done, total=len(items)),
                items=items, renamed=tuple(tuple(pair) for pair in made.after.get("renamed") or []))


def copied_item_keys() -> set[str]:
    """The groups the bound region's administrator has to confirm (none for a region not copied from a peer)."""
    step = _copied_step()
    return {i.key for i in step.items} if step is not None else set()


def confirm_copied(tenant: Tenant, actor: User, item: str) -> None:
    """The administrator has checked one group copied from the peer (idempotent).

    :raises OnboardingError: for a group that was not copied.
    """
    step = _copied_step()
    found = next((i for i in step.items if i.key == item), None) if step is not None else None
    if found is None:
        raise OnboardingError({"item": _l("Nothing of this kind was copied.")})
    if not found.confirmed:
        record(tenant, "clone.item_confirmed", actor, after={"item": item, "count": found.count})


def checklist(tenant: Tenant) -> list[Step]:
    """The onboarding steps of the bound tenant, each done or not (computed from data)."""
    count = lambda stmt: db.session.scalar(stmt) or 0  # noqa: E731
    agencies = count(select(func.count(Agency.id)).filter_by(active=True))
    liaisons = count(select(func.count(User.id)).filter_by(role=Role.LIAISON, active=True))
    routed = count(select(func.count(Category.id)).where(Category.active.is_(True),
                                                         Category.default_agency_id.is_not(None)))
    categories = count(select(func.count(Category.id)).filter_by(active=True))
    staff = count(select(func.count(User.id)).where(User.role.in_(Role.HANDLERS)))
    complaints = count(select(func.count(Complaint.id)))
    holidays = len((tenant.settings or {}).get("local_holidays", []))
    steps = [
        Step("branding", _l("Branding: the name shown, tagline and colour"), _done("branding.updated")),
        Step("agencies", _l("Agencies (OPD) and their liaisons"), agencies > 0 and liaisons > 0,
             _l("%(a)s agencies, %(l)s liaisons", a=agencies, l=liaisons)),
        Step("categories", _l("Categories and routing"), routed > 0,
             _l("%(r)s of %(c)s categories go to an agency by default", r=routed, c=categories)),
        Step("deadlines", _l("Deadlines and local holidays"), _done("settings.deadlines_confirmed"),
             _l("%(n)s local holidays", n=holidays)),
        Step("staff", _l("Staff invitations"), staff > 0, _l("%(n)s staff invited", n=staff)),
        Step("test_complaint", _l("A test complaint"), complaints > 0, _l("%(n)s complaints", n=complaints)),
        Step("go_live", _l("Go live"), bool(tenant.live)),
    ]
    copied = _copied_step()
    if copied is not None:
        steps.insert(0, copied)
    return steps


def update_branding(tenant: Tenant, actor: User, service_name: str, tagline: str, primary_color: str) -> None:
    """Change the name shown, tagline and colour (the logo stays as it is)."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", primary_color or ""):
        raise OnboardingError({"primary_color": _l("Use a colour like #0b5394.")})
    before = {"service_name": tenant.service_name, **{k: (tenant.branding or {}).get(k)
                                                      for k in ("tagline", "primary_color")}}
    tenant.service_name = (service_name or "").strip()[:120]
    tenant.branding = {**(tenant.branding or {}), "tagline": (tagline or "").strip()[:200],
                       "primary_color": primary_color.lower()}
    record(tenant, "branding.updated", actor, before=before,
           after={"service_name": tenant.service_name, "tagline": tenant.branding["tagline"],
                  "primary_color": tenant.branding["primary_color"]})


def confirm_deadlines(tenant: Tenant, actor: User) -> None:
    """The administrator has checked the deadlines and local holidays (copied from the source)."""
    s = tenant.settings or {}
    record(tenant, "settings.deadlines_confirmed", actor,
           after={"deadlines": s.get("deadlines", {}), "local_holidays": s.get("local_holidays", []),
                  "classes": {k: v.get("followup_days") for k, v in s.get("classes", {}).items()}})


def invite_staff(tenant: Tenant, actor: User, email: str, name: str, role: str, agency_id: int | None,
                 invite_link: Callable[[Tenant, str], str]) -> User:
    """Create a staff account without a password and email an invitation.

    :raises OnboardingError: for an email already in use, a liaison without an agency, or an unknown agency.
    """
    if role not in Role.STAFF:
        raise OnboardingError({"role": _l("Choose a role.")})
    if role == Role.LIAISON:
        if agency_id is None or db.session.get(Agency, agency_id) is None:
            raise OnboardingError({"agency_id": _l("A liaison works for an agency: choose one.")})
    else:
        agency_id = None
    email = (email or "").strip().lower()
    if db.session.execute(select(User.id).where(func.lower(User.email) == email)).first():
        raise OnboardingError({"email": _l("This email already has an account here.")})
    user = accounts.create_user(email, name.strip(), role, agency_id=agency_id)
    _send_invitation(tenant, user, invite_link)
    record(tenant, "staff.invited", actor, after={"user_id": user.id, "role": role, "agency_id": agency_id})
    return user


def _invited_member(user: User) -> None:
    if user.password_hash is not None or user.role not in Role.STAFF:
        raise OnboardingError({"invitation": _l("This person has already set a password: there is no invitation.")})


def resend_invitation(tenant: Tenant, actor: User, user: User, invite_link: Callable[[Tenant, str], str]) -> None:
    """Send a new invitation link to someone who has not set a password yet; earlier links stop working.
    A revoked invitation is reactivated (through the one account operation, audited in the security log).

    :raises OnboardingError: when the person already has a password.
    """
    _invited_member(user)
    if not user.active:
        accounts.set_active(user, True, actor)
    user.rotate_sessions()  # the fingerprint of every earlier link changes
    _send_invitation(tenant, user, invite_link, resend=True)
    record(tenant, "staff.invitation_resent", actor, after={"user_id": user.id, "email": user.email})


def revoke_invitation(tenant: Tenant, actor: User, user: User) -> None:
    """Withdraw an invitation: its link stops working and the account is deactivated (audited once there).

    :raises OnboardingError: when the person already has a password.
    """
    _invited_member(user)
    user.rotate_sessions()
    accounts.set_active(user, False, actor)
    record(tenant, "staff.invitation_revoked", actor, after={"user_id": user.id, "email": user.email})


def go_live(tenant: Tenant, actor: User) -> None:
    """Open the public portal.

    :raises OnboardingError: while a step before go-live is not done.
    """
    if tenant.live:
        return
    missing = [s.key for s in checklist(tenant) if not s.done and s.key != "go_live"]
    if missing:
        raise OnboardingError({"go_live": _l("Finish the other steps first.")})
    tenant.live = True
    tenant.go_live_at = utcnow()
    # Before go-live only the region's own staff could submit: every report so far is a test report
    # (the checklist's "test complaint"), left out of all statistics from now on.
    tests = list(db.session.execute(select(Complaint).where(Complaint.is_test.is_(False))).scalars())
    for c in tests:
        complaints.mark_test(c, complaints.SYSTEM, True, gettext("Sent before the region went live (set-up test)."))
    record(tenant, "tenant.went_live", actor, after={"go_live_at": tenant.go_live_at.isoformat(),
                                                     "test_reports": len(tests)})


# ---------------------------------------------------------------- reads for the pages

def application_or_none(application_id: int) -> TenantApplication | None:
    return db.session.get(TenantApplication, application_id)


def tenant_or_none(tenant_id: int | None) -> Tenant | None:
    return db.session.get(Tenant, tenant_id) if tenant_id else None


def recent_audit_events(limit: int = 5) -> list[TenantAuditEvent]:
    """The bound region's latest set-up changes."""
    return list(db.session.execute(
        select(TenantAuditEvent).order_by(TenantAuditEvent.at.desc()).limit(limit)).scalars())

"""Load and validate ``tenants/*`` configuration files and sync them into the database.

Layers: ``tenants/_template`` < ``tenants/<slug>/``. Lists (agencies, categories, messages)
are merged by their key; tables are merged key by key. Unknown keys are errors that name
the file and the field.
"""

from __future__ import annotations

import copy
import ipaddress
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from sqlalchemy import select

from app.agencies.models import Agency, Category
from app.complaints.area import check_settings as check_area
from app.deadlines.policy import FIXED_STAGES
from app.extensions import db
from app.notifications.models import MessageTemplate
from app.onboarding.models import TenantAuditEvent
from app.tenancy.models import Tenant, TenantDomain, TenantStatus, TenantType
from app.tenancy.scope import tenant_scope

TEMPLATE = "_template"
FILES = ("tenant.toml", "agencies.toml", "categories.toml", "messages.toml")

TENANT_KEYS = {
    "slug", "name", "service_name", "type", "province", "region_code", "code_prefix",
    "timezone", "locale", "population", "status", "domains",
}
REQUIRED_TENANT_KEYS = {"slug", "name", "type", "province", "region_code", "code_prefix", "timezone"}
SETTINGS_KEYS = {
    "due_soon_working_days", "reopen_window_working_days", "sender_name", "deadlines", "classes",
    "local_holidays", "inbound", "sp4n", "retention_years", "rate_limits", "area",
}
#: SMS/WhatsApp messages that become complaints (app.integrations.inbound).
INBOUND_KEYS = {"complaint_class", "category", "privacy", "append_window_days"}
#: The SP4N-LAPOR! bridge (app.integrations.sp4n); its token comes from the environment, never a file.
SP4N_KEYS = {"enabled", "base_url"}
#: Public report form limits (app.complaints.views_public): per client address, and networks not limited.
RATE_LIMIT_KEYS = {"submit", "trusted_networks"}
#: The region's area on the map (app.complaints.area): the pin must lie inside it.
AREA_KEYS = {"bbox", "boundary"}
DEADLINE_KEYS = set(FIXED_STAGES)
CLASS_KEYS = {"name_id", "name_en", "followup_days"}
BRANDING_KEYS = {"primary_color", "tagline", "logo"}
AGENCY_KEYS = {"code", "name", "short_name", "active"}
CATEGORY_KEYS = {"code", "name_id", "name_en", "agency", "active"}
MESSAGE_KEYS = {"subject_id", "subject_en", "body_id", "body_en", "sms_id", "sms_en"}
LOCALES = ("id", "en")


class TenantConfigError(ValueError):
    """A configuration file is invalid; the message names the file and the field."""

    def __init__(self, path: Path | str, field_name: str, problem: str):
        self.path, self.field, self.problem = str(path), field_name, problem
        super().__init__(f"{path}: {field_name}: {problem}")


@dataclass(frozen=True)
class TenantConfig:
    """One region's effective configuration after merging the template."""

    slug: str
    tenant: dict
    settings: dict
    branding: dict
    agencies: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    messages: dict[str, dict] = field(default_factory=dict)


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise TenantConfigError(path, "(syntax)", str(exc)) from exc


def _check_keys(path: Path, where: str, data: dict, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise TenantConfigError(path, f"{where}.{key}" if where else key, "unknown key")


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_keyed(base: list[dict], over: list[dict]) -> list[dict]:
    merged = {item["code"]: dict(item) for item in base}
    for item in over:
        merged[item["code"]] = {**merged.get(item["code"], {}), **item}
    return list(merged.values())


def _positive_int(path: Path, name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TenantConfigError(path, name, "must be a whole number of working days, 0 or more")


def _check_rate_limits(path: Path, rate_limits: dict) -> None:

    _check_keys(path, "settings.rate_limits", rate_limits, RATE_LIMIT_KEYS)
    if "submit" in rate_limits:
        try:
            parse_many(str(rate_limits["submit"]))
        except ValueError as exc:
            raise TenantConfigError(path, "settings.rate_limits.submit",
                                    'must be a limit such as "10 per minute;60 per hour"') from exc
    networks = rate_limits.get("trusted_networks", [])
    if not isinstance(networks, list):
        raise TenantConfigError(path, "settings.rate_limits.trusted_networks", "must be a list of CIDR networks")
    for i, net in enumerate(networks):
        try:
            ipaddress.ip_network(str(net), strict=False)
        except ValueError as exc:
            raise TenantConfigError(path, f"settings.rate_limits.trusted_networks[{i}]",
                                    "must be a network such as 203.0.113.0/28") from exc


def _validate_file(path: Path, data: dict, kind: str) -> None:
    """Check one file's shape (keys and types) before merging."""
    if kind == "tenant.toml":
        _check_keys(path, "", data, {"tenant", "settings", "branding"})
        _check_keys(path, "tenant", data.get("tenant", {}), TENANT_KEYS)
        settings = data.get("settings", {})
        _check_keys(path, "settings", settings, SETTINGS_KEYS)
        _check_keys(path, "settings.deadlines", settings.get("deadlines", {}), DEADLINE_KEYS)
        if "retention_years" in settings:
            years = settings["retention_years"]
            if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 100:
                raise TenantConfigError(path, "settings.retention_years", "must be a whole number of years, 1 or more")
        for name, value in settings.get("deadlines", {}).items():
            _positive_int(path, f"settings.deadlines.{name}", value)
        for code, cls in settings.get("classes", {}).items():
            _check_keys(path, f"settings.classes.{code}", cls, CLASS_KEYS)
            if "followup_days" in cls:
                _positive_int(path, f"settings.classes.{code}.followup_days", cls["followup_days"])
        _check_keys(path, "settings.inbound", settings.get("inbound", {}), INBOUND_KEYS)
        if "append_window_days" in settings.get("inbound", {}):
            _positive_int(path, "settings.inbound.append_window_days", settings["inbound"]["append_window_days"])
        _check_keys(path, "settings.sp4n", settings.get("sp4n", {}), SP4N_KEYS)
        base_url = settings.get("sp4n", {}).get("base_url")
        if base_url is not None and not str(base_url).startswith(("https://", "http://")):
            raise TenantConfigError(path, "settings.sp4n.base_url", "must be an http(s) URL")
        _check_rate_limits(path, settings.get("rate_limits", {}))
        if "area" in settings:
            _check_keys(path, "settings.area", settings["area"], AREA_KEYS)
            problem = check_area(settings["area"])
            if problem:
                name, _sep, text = problem.partition(": ")
                raise TenantConfigError(path, f"settings.area.{name}", text)
        for i, item in enumerate(settings.get("local_holidays", [])):
            if not isinstance(item, dict) or set(item) != {"date", "name"}:
                raise TenantConfigError(path, f"settings.local_holidays[{i}]", "needs exactly date and name")
            if not isinstance(item["date"], date):
                raise TenantConfigError(path, f"settings.local_holidays[{i}].date", "must be a date (YYYY-MM-DD)")
        _check_keys(path, "branding", data.get("branding", {}), BRANDING_KEYS)
    elif kind in ("agencies.toml", "categories.toml"):
        table, allowed = ("agency", AGENCY_KEYS) if kind == "agencies.toml" else ("category", CATEGORY_KEYS)
        _check_keys(path, "", data, {table})
        for i, item in enumerate(data.get(table, [])):
            _check_keys(path, f"{table}[{i}]", item, allowed)
            if not item.get("code"):
                raise TenantConfigError(path, f"{table}[{i}].code", "is required")
    elif kind == "messages.toml":
        _check_keys(path, "", data, {"message"})
        for key, msg in data.get("message", {}).items():
            _check_keys(path, f"message.{key}", msg, MESSAGE_KEYS)


def load_tenant_config(tenants_dir: Path | str, slug: str) -> TenantConfig:
    """Merge ``_template`` with ``<slug>/`` and validate the result.

    :raises TenantConfigError: naming the file and the field at fault.
    """
    root = Path(tenants_dir)
    layers = {}
    for kind in FILES:
        base, own = root / TEMPLATE / kind, root / slug / kind
        base_data, own_data = _read(base), _read(own)
        _validate_file(base, base_data, kind)
        _validate_file(own, own_data, kind)
        layers[kind] = (base_data, own_data)

    own_tenant_path = root / slug / "tenant.toml"
    base_t, own_t = layers["tenant.toml"]
    tenant = own_t.get("tenant", {})
    missing = REQUIRED_TENANT_KEYS - set(tenant)
    if missing:
        raise TenantConfigError(own_tenant_path, f"tenant.{sorted(missing)[0]}", "is required")
    if tenant["slug"] != slug:
        raise TenantConfigError(own_tenant_path, "tenant.slug", f"must equal the folder name {slug!r}")
    if tenant["type"] not in TenantType.ALL:
        raise TenantConfigError(own_tenant_path, "tenant.type", f"must be one of {', '.join(TenantType.ALL)}")
    if tenant.get("status", TenantStatus.ACTIVE) not in TenantStatus.ALL:
        raise TenantConfigError(own_tenant_path, "tenant.status", f"must be one of {', '.join(TenantStatus.ALL)}")
    if tenant.get("locale", "id") not in LOCALES:
        raise TenantConfigError(own_tenant_path, "tenant.locale", "must be id or en")
    try:
        ZoneInfo(tenant["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TenantConfigError(own_tenant_path, "tenant.timezone", "is not an IANA time zone") from exc
    if not tenant["timezone"].startswith("Asia/"):
        raise TenantConfigError(own_tenant_path, "tenant.timezone", "must be an Indonesian zone (WIB, WITA, WIT)")

    settings = _deep_merge(base_t.get("settings", {}), own_t.get("settings", {}))
    settings["local_holidays"] = [
        {"date": h["date"].isoformat(), "name": h["name"]} for h in settings.get("local_holidays", [])
    ]
    for code, cls in settings.get("classes", {}).items():
        missing_cls = CLASS_KEYS - set(cls)
        if missing_cls:
            raise TenantConfigError(own_tenant_path, f"settings.classes.{code}.{sorted(missing_cls)[0]}", "is required")
    branding = _deep_merge(base_t.get("branding", {}), own_t.get("branding", {}))

    agencies = _merge_keyed(*(d.get("agency", []) for d in layers["agencies.toml"]))
    categories = _merge_keyed(*(d.get("category", []) for d in layers["categories.toml"]))
    agency_codes = {a["code"] for a in agencies}
    for i, cat in enumerate(categories):
        if cat.get("agency") and cat["agency"] not in agency_codes:
            raise TenantConfigError(root / slug / "categories.toml", f"category[{i}].agency",
                                    f"unknown agency code {cat['agency']!r}")
    messages = _deep_merge(*(d.get("message", {}) for d in layers["messages.toml"]))
    return TenantConfig(slug=slug, tenant=tenant, settings=settings, branding=branding,
                        agencies=agencies, categories=categories, messages=messages)


def load_template_config(tenants_dir: Path | str) -> TenantConfig:
    """The shared defaults of ``_template`` alone (for provisioning a region that has no folder).

    ``tenant`` is empty: the caller supplies the region's identity.
    """
    root = Path(tenants_dir)
    data = {}
    for kind in FILES:
        path = root / TEMPLATE / kind
        data[kind] = _read(path)
        _validate_file(path, data[kind], kind)
    t = data["tenant.toml"]
    settings = copy.deepcopy(t.get("settings", {}))
    settings["local_holidays"] = [
        {"date": h["date"].isoformat(), "name": h["name"]} for h in settings.get("local_holidays", [])
    ]
    return TenantConfig(slug=TEMPLATE, tenant={}, settings=settings, branding=copy.deepcopy(t.get("branding", {})),
                        agencies=_merge_keyed(data["agencies.toml"].get("agency", []), []),
                        categories=_merge_keyed(data["categories.toml"].get("category", []), []),
                        messages=copy.deepcopy(data["messages.toml"].get("message", {})))


def region_slugs(tenants_dir: Path | str) -> list[str]:
    root = Path(tenants_dir)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


@dataclass(frozen=True)
class UIEdits:
    """What a region's administrators changed in the settings pages: a re-sync from the files keeps it
    (configuration layers: template < region files < settings edited in the admin UI)."""

    kinds: frozenset = frozenset()
    agency_codes: frozenset = frozenset()
    category_codes: frozenset = frozenset()


def ui_edits(tenant_id: int) -> UIEdits:
    """The audit trail says which settings the admin UI owns."""

    with tenant_scope(tenant_id):
        rows = db.session.execute(select(TenantAuditEvent.kind, TenantAuditEvent.before,
                                         TenantAuditEvent.after)).all()
    codes = {prefix: frozenset((after or {}).get("code") or (before or {}).get("code")
                               for kind, before, after in rows if kind.startswith(prefix))
             for prefix in ("agency.", "category.")}
    return UIEdits(kinds=frozenset(kind for kind, _b, _a in rows), agency_codes=codes["agency."],
                   category_codes=codes["category."])


_UI_DEADLINE_KEYS = ("deadlines", "due_soon_working_days", "reopen_window_working_days")
_UI_HOLIDAY_KINDS = {"settings.holiday_added", "settings.holiday_removed"}


def _keep_ui_settings(current: dict, incoming: dict, edits: UIEdits) -> dict:
    out = copy.deepcopy(incoming)
    if "settings.deadlines_updated" in edits.kinds:
        for key in _UI_DEADLINE_KEYS:
            if key in current:
                out[key] = copy.deepcopy(current[key])
        for code, cls in (current.get("classes") or {}).items():
            if "followup_days" in cls:
                out.setdefault("classes", {}).setdefault(code, dict(cls))["followup_days"] = cls["followup_days"]
    if edits.kinds & _UI_HOLIDAY_KINDS and "local_holidays" in current:
        out["local_holidays"] = copy.deepcopy(current["local_holidays"])
    return out


def _keep_ui_branding(current: dict, incoming: dict, edits: UIEdits) -> dict:
    out = copy.deepcopy(incoming)
    keep = ["logo_file", "logo_type"]  # only ever set by the settings pages
    if "branding.updated" in edits.kinds:
        keep += ["tagline", "primary_color"]
    for key in keep:
        if key in current:
            out[key] = current[key]
    return out


def sync_tenant(config: TenantConfig, status: str | None = None) -> Tenant:
    """Create or update one tenant and its agencies, categories and messages (idempotent).

    On an existing tenant, what its administrators changed in the settings pages (see :func:`ui_edits`)
    is kept; everything else follows the files.
    """

    t = config.tenant
    tenant = db.session.execute(select(Tenant).filter_by(slug=config.slug)).scalar_one_or_none()
    edits = UIEdits()
    if tenant is None:
        tenant = Tenant(slug=config.slug, status=status or t.get("status", TenantStatus.ACTIVE))
        db.session.add(tenant)
    else:
        edits = ui_edits(tenant.id)
        if status:
            tenant.status = status
    tenant.name = t["name"]
    if "branding.updated" not in edits.kinds:
        tenant.service_name = t.get("service_name", "")
    tenant.type = t["type"]
    tenant.province = t["province"]
    tenant.region_code = t["region_code"]
    tenant.code_prefix = t["code_prefix"]
    tenant.timezone = t["timezone"]
    tenant.locale = t.get("locale", "id")
    tenant.population = t.get("population")
    tenant.branding = _keep_ui_branding(tenant.branding or {}, config.branding, edits)
    tenant.settings = _keep_ui_settings(tenant.settings or {}, config.settings, edits)
    db.session.flush()

    wanted_hosts = {h.lower() for h in t.get("domains", [])}
    for dom in list(tenant.domains):
        if dom.host not in wanted_hosts:
            tenant.domains.remove(dom)
    have = {d.host for d in tenant.domains}
    for host in sorted(wanted_hosts - have):
        tenant.domains.append(TenantDomain(host=host))

    with tenant_scope(tenant.id):
        agencies = {a.code: a for a in db.session.execute(select(Agency)).scalars()}
        for item in config.agencies:
            if item["code"] in edits.agency_codes and item["code"] in agencies:
                continue  # changed in the settings pages: the admin's version stays
            agency = agencies.get(item["code"]) or Agency(code=item["code"])
            agency.name = item["name"]
            agency.short_name = item.get("short_name", item["name"])
            agency.active = item.get("active", True)
            db.session.add(agency)
            agencies[item["code"]] = agency
        db.session.flush()
        categories = {c.code: c for c in db.session.execute(select(Category)).scalars()}
        for item in config.categories:
            if item["code"] in edits.category_codes and item["code"] in categories:
                continue
            cat = categories.get(item["code"]) or Category(code=item["code"])
            cat.name_id = item["name_id"]
            cat.name_en = item.get("name_en", item["name_id"])
            cat.default_agency_id = agencies[item["agency"]].id if item.get("agency") else None
            cat.active = item.get("active", True)
            db.session.add(cat)
        existing = {(m.key, m.locale): m for m in db.session.execute(select(MessageTemplate)).scalars()}
        for key, msg in config.messages.items():
            for loc in LOCALES:
                row = existing.get((key, loc)) or MessageTemplate(key=key, locale=loc)
                row.subject = msg.get(f"subject_{loc}", msg.get("subject_id", ""))
                row.body = msg.get(f"body_{loc}", msg.get("body_id", ""))
                row.sms = msg.get(f"sms_{loc}", msg.get("sms_id"))
                db.session.add(row)
        db.session.flush()
    return tenant


def sync_all(tenants_dir: Path | str) -> list[Tenant]:
    """Sync every region folder; validates all of them before writing any."""
    configs = [load_tenant_config(tenants_dir, slug) for slug in region_slugs(tenants_dir)]
    return [sync_tenant(cfg) for cfg in configs]

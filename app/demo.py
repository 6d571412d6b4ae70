"""Demo data for `make run`: both regions, staff of every role, printed logins, and a few smaller regions so
that the peer medians of the staff dashboard have enough peers to show numbers."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.accounts.mfa import provisioning_uri
from app.accounts.models import PlatformAdmin, Role, User
from app.accounts.services import create_platform_admin, create_user
from app.agencies.models import Agency
from app.complaints.demo import seed_complaints, seed_test_report
from app.extensions import db
from app.jobs.outbox import relay
from app.notifications import rules
from app.notifications.models import Mode
from app.tenancy.files import load_template_config, sync_all, sync_tenant
from app.tenancy.models import Tenant, utcnow
from app.tenancy.scope import tenant_scope

DEMO_PASSWORD = "demo-lapor-2026"  # noqa: S105 (demo only, printed by make run)
#: Demo only: the administrators' two-factor key, printed with the logins so a reviewer can add it to
#: an authenticator app (or compute a code with pyotp). Real administrators enrol their own key.
DEMO_TOTP_SECRET = "DEMOLAPORDAERAHDEMOLAPORDAERAH23"  # noqa: S105

STAFF = {
    "banjarmasin": [
        ("admin@banjarmasin.demo", "Novri Gitayanti", Role.TENANT_ADMIN, None, False),
        ("koordinator@banjarmasin.demo", "Faturrahim", Role.OFFICER, None, True),
        ("petugas@banjarmasin.demo", "Rahmadi Noor", Role.OFFICER, None, False),
        ("pupr@banjarmasin.demo", "Hj. Siti Aisyah", Role.LIAISON, "pupr", False),
        ("dishub@banjarmasin.demo", "Muhammad Ridwan", Role.LIAISON, "dishub", False),
        ("satpolpp@banjarmasin.demo", "Ahmad Fauzi", Role.LIAISON, "satpolpp", False),
        ("disdukcapil@banjarmasin.demo", "Nurul Hidayah", Role.LIAISON, "disdukcapil", False),
        ("dinkes@banjarmasin.demo", "dr. Raudah", Role.LIAISON, "dinkes", False),
        ("warga@banjarmasin.demo", "Budi Santoso", Role.CITIZEN, None, False),
    ],
    "katingan": [
        ("admin@katingan.demo", "Supardi Egal", Role.TENANT_ADMIN, None, False),
        ("koordinator@katingan.demo", "Yuliana Dewi", Role.OFFICER, None, True),
        ("pupr@katingan.demo", "Hendra Saputra", Role.LIAISON, "pupr", False),
        ("disdukcapil@katingan.demo", "Maria Ulfah", Role.LIAISON, "disdukcapil", False),
        ("dinkes@katingan.demo", "Agustinus Rante", Role.LIAISON, "dinkes", False),
        ("warga@katingan.demo", "Dewi Lestari", Role.CITIZEN, None, False),
    ],
}


@dataclasses.dataclass(frozen=True)
class DemoRegion:
    """A demo region made by the seed itself (not in tenants/), with one officer and a few reports."""

    slug: str
    name: str
    type: str
    province: str
    region_code: str
    code_prefix: str
    timezone: str
    population: int
    officer: tuple[str, str]
    complaints: int
    #: Live for this many days: the newest one is too new to count as a peer.
    live_days: int


#: Small on purpose (the seed stays fast); Banjarmasin and Katingan stay as tenants/ describes them.
EXTRA_REGIONS = (
    DemoRegion("palangkaraya", "Pemerintah Kota Palangka Raya", "kota", "Kalimantan Tengah", "62.71", "PKY",
               "Asia/Pontianak", 293_457, ("koordinator@palangkaraya.demo", "Riska Damayanti"), 40, 400),
    DemoRegion("banjar", "Pemerintah Kabupaten Banjar", "kabupaten", "Kalimantan Selatan", "63.03", "BJR",
               "Asia/Makassar", 565_635, ("koordinator@banjar.demo", "Muhammad Hafiz"), 40, 400),
    DemoRegion("pulangpisau", "Pemerintah Kabupaten Pulang Pisau", "kabupaten", "Kalimantan Tengah", "62.11", "PPS",
               "Asia/Pontianak", 133_292, ("koordinator@pulangpisau.demo", "Yohanes Dingu"), 6, 12),
)
STAFF.update({region.slug: [(*region.officer, Role.OFFICER, None, False)] for region in EXTRA_REGIONS})
#: Demo regions go live this many days before the seed (their demo reports reach back six months).
DEMO_LIVE_DAYS = 400

CENTRAL_ADMIN = ("pusat@lapor.demo", "Administrator Pusat")
#: Demo staff who read their notifications as one morning digest (`flask jobs digests` sends it now).
DIGEST_USERS = {"dishub@banjarmasin.demo"}

def seed_demo() -> list[str]:
    """Idempotent: running it twice changes nothing. Returns the lines to print."""
    tenants = sync_all(current_app.config["TENANTS_DIR"])
    tenants += [_extra_region(region) for region in EXTRA_REGIONS]
    db.session.flush()
    lines = ["", "Demo logins (password for all: " + DEMO_PASSWORD + ")"]
    central = db.session.execute(select(PlatformAdmin).filter_by(email=CENTRAL_ADMIN[0])).scalar_one_or_none()
    if central is None:
        central = create_platform_admin(CENTRAL_ADMIN[0], CENTRAL_ADMIN[1], DEMO_PASSWORD)
    _enrol_demo_admin(central)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    lines.append(f"  central administrator  {CENTRAL_ADMIN[0]:<32} {base}/central/login")
    for tenant in tenants:
        with tenant_scope(tenant.id):
            agencies = {a.code: a.id for a in db.session.execute(select(Agency)).scalars()}
            for email, name, role, agency, head in STAFF.get(tenant.slug, []):
                user = db.session.execute(select(User).filter_by(email=email)).scalar_one_or_none()
                if user is None:
                    user = create_user(email, name, role, password=DEMO_PASSWORD,
                                       agency_id=agencies.get(agency) if agency else None, is_unit_head=head)
                if user.mfa_required:
                    _enrol_demo_admin(user)
                if email in DIGEST_USERS:  # idempotent: saves the same choice again
                    rules.set_preferences(user, dict.fromkeys(rules.preferences_of(user), Mode.DIGEST))
                note = "  (daily digest)" if email in DIGEST_USERS else ""
                lines.append(f"  {tenant.slug:<11} {role:<12} {email:<32} {base}/{tenant.slug}/login{note}")
            extra = next((r for r in EXTRA_REGIONS if r.slug == tenant.slug), None)
            if tenant.slug in STAFF and tenant.go_live_at is None:
                # Live long enough to count as a peer (the extra regions: as configured).
                tenant.go_live_at = utcnow() - timedelta(days=extra.live_days if extra else DEMO_LIVE_DAYS)
            made = seed_complaints(tenant, count=extra.complaints, max_age_days=extra.live_days - 1) if extra \
                else seed_complaints(tenant)
            if made and extra is not None:
                seed_test_report(tenant)  # the go-live test report, marked as such
            if made:
                lines.append(f"  {tenant.slug:<11} {made} demo complaints created")
            elif tenant.slug not in STAFF:
                lines.append(f"  {tenant.slug:<11} no demo staff: no logins or demo complaints")
        db.session.commit()
    # Deliver the demo notifications now (the development adapters store them).
    while any(relay().get(k) for k in ("ran", "relayed")):
        pass
    lines.append("")
    lines.append("Administrators (central and tenant_admin) also need a two-factor code. Demo key: " + DEMO_TOTP_SECRET)
    uri = provisioning_uri(DEMO_TOTP_SECRET, "demo-admin", "LAPOR Daerah demo")
    lines.append("  add it to an authenticator app: " + uri)
    code_cmd = f"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())"
    lines.append(f'  or print the current code: .venv/bin/python -c "{code_cmd}"')
    lines.append("")
    lines.append("Regions: " + "  ".join(f"{base}/{tenant.slug}/" for tenant in tenants))
    return lines


def _extra_region(region: DemoRegion) -> Tenant:
    """Create or update an extra demo region from the shared template (idempotent)."""
    template = load_template_config(current_app.config["TENANTS_DIR"])
    short = region.name.removeprefix("Pemerintah ").removeprefix("Kota ").removeprefix("Kabupaten ")
    config = dataclasses.replace(
        template, slug=region.slug,
        tenant={"slug": region.slug, "name": region.name, "service_name": f"Lapor {short}", "type": region.type,
                "province": region.province, "region_code": region.region_code, "code_prefix": region.code_prefix,
                "timezone": region.timezone, "population": region.population, "locale": "id"},
        settings={**template.settings, "sender_name": f"Layanan Pengaduan {region.name}"})
    return sync_tenant(config)


def _enrol_demo_admin(account) -> None:
    """Give a demo administrator the printed two-factor key (once; a key they changed stays)."""
    if not account.totp_secret:
        account.totp_secret = DEMO_TOTP_SECRET
        db.session.flush()

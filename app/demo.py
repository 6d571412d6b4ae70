"""Demo data for `make run`: both regions, staff of every role, printed logins."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.accounts.mfa import provisioning_uri
from app.accounts.models import PlatformAdmin, Role, User
from app.accounts.services import create_platform_admin, create_user
from app.agencies.models import Agency
from app.complaints.demo import seed_complaints
from app.extensions import db
from app.jobs.outbox import relay
from app.notifications import rules
from app.notifications.models import Mode
from app.tenancy.files import sync_all
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
CENTRAL_ADMIN = ("pusat@lapor.demo", "Administrator Pusat")
#: Demo staff who read their notifications as one morning digest (`flask jobs digests` sends it now).
DIGEST_USERS = {"dishub@banjarmasin.demo"}

def seed_demo() -> list[str]:
    """Idempotent: running it twice changes nothing. Returns the lines to print."""
    tenants = sync_all(current_app.config["TENANTS_DIR"])
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
            made = seed_complaints(tenant)
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


def _enrol_demo_admin(account) -> None:
    """Give a demo administrator the printed two-factor key (once; a key they changed stays)."""
    if not account.totp_secret:
        account.totp_secret = DEMO_TOTP_SECRET
        db.session.flush()

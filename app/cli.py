"""Command line: `flask tenants …`, `flask accounts …`, `flask demo …`, `flask jobs …`, `flask db-roles …`,
`flask storage …`."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import select

from app.accounts.models import PlatformAdmin, Role, User
from app.accounts.services import create_platform_admin, create_user, password_problem, reset_mfa
from app.agencies.models import Agency
from app.complaints.uploads import backfill_thumbnails
from app.crypto import rotate_all
from app.demo import seed_demo
from app.extensions import db
from app.jobs.outbox import prune_processed, relay
from app.jobs.sweeps import sweep_all_tenants
from app.notifications.digest import send_digests
from app.privacy.retention import purge_all_tenants
from app.storage import LocalStorage, migrate_local_to, storage
from app.tenancy.files import TenantConfigError, sync_all
from app.tenancy.models import Tenant
from app.tenancy.rls import setting_key
from app.tenancy.roles import create_roles, roles_sql
from app.tenancy.scope import tenant_scope


def register_cli(app: Flask) -> None:
    app.cli.add_command(tenants_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(db_roles_cli)
    app.cli.add_command(secrets_cli)


    app.cli.add_command(storage_cli)


@click.group("tenants", help="Region configuration files under tenants/.")
def tenants_cli() -> None:
    pass


@tenants_cli.command("sync")
@click.option("--dir", "tenants_dir", default=None, help="Folder with _template/ and one folder per region.")
def tenants_sync(tenants_dir: str | None) -> None:
    """Validate every region's files and write them into the database (idempotent)."""
    try:
        tenants = sync_all(tenants_dir or current_app.config["TENANTS_DIR"])
    except TenantConfigError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    for t in tenants:
        click.echo(f"synced {t.slug}: {t.name} ({t.timezone}, {t.status})")


@tenants_cli.command("list")
def tenants_list() -> None:
    """List tenants."""
    for t in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars():
        click.echo(f"{t.slug:<16} {t.status:<10} {t.timezone:<16} {t.name}")


@click.group("accounts", help="User accounts.")
def accounts_cli() -> None:
    pass


@accounts_cli.command("create-central-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option(help="Prompted (twice) when not given.")
def create_central_admin(email: str, name: str, password: str) -> None:
    """Create the first (or another) central administrator."""
    if problem := password_problem(password):
        click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    try:
        admin = create_platform_admin(email, name, password)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 (unique email)
        db.session.rollback()
        click.echo(f"Error: could not create the administrator ({type(exc).__name__}).", err=True)
        sys.exit(1)
    click.echo(f"central administrator {admin.email} created")


@accounts_cli.command("create-user")
@click.option("--tenant", "slug", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(Role.STAFF), required=True)
@click.option("--agency", "agency_code", default=None, help="Agency code (liaisons only).")
@click.password_option()
def create_user_cmd(slug: str, email: str, name: str, role: str, agency_code: str | None, password: str) -> None:
    """Create a staff account in one region."""
    tenant = db.session.execute(select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
    if tenant is None:
        click.echo(f"Error: unknown tenant {slug!r}", err=True)
        sys.exit(1)
    with tenant_scope(tenant.id):
        agency_id = None
        if agency_code:
            agency = db.session.execute(select(Agency).filter_by(code=agency_code)).scalar_one_or_none()
            if agency is None:
                click.echo(f"Error: unknown agency {agency_code!r} in {slug}", err=True)
                sys.exit(1)
            agency_id = agency.id
        try:
            user = create_user(email, name, role, password=password, agency_id=agency_id)
            db.session.commit()
        except ValueError as exc:
            db.session.rollback()
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
    click.echo(f"{role} {user.email} created in {slug}")


@accounts_cli.command("reset-2fa")
@click.option("--email", required=True)
@click.option("--tenant", "slug", default=None, help="The region of a staff account; omit for a central administrator.")
def reset_two_factor(email: str, slug: str | None) -> None:
    """Remove a lost second factor (phone and recovery codes gone): the account enrols again at its next
    sign-in, and every session it has ends. Identify the person another way before running this."""
    def _reset(account) -> None:
        reset_mfa(account, by_cli=True)
        db.session.commit()
        click.echo(f"two-factor authentication removed for account {account.id}; it enrols at the next sign-in")

    email = email.strip().lower()
    if slug is None:
        admin = db.session.execute(select(PlatformAdmin).filter_by(email=email)).scalar_one_or_none()
        if admin is None:
            click.echo("Error: no such central administrator", err=True)
            sys.exit(1)
        _reset(admin)
        return
    tenant = db.session.execute(select(Tenant).filter_by(slug=slug)).scalar_one_or_none()
    if tenant is None:
        click.echo(f"Error: unknown tenant {slug!r}", err=True)
        sys.exit(1)
    with tenant_scope(tenant.id):
        user = db.session.execute(select(User).filter_by(email=email)).scalar_one_or_none()
        if user is None:
            click.echo(f"Error: no such account in {slug}", err=True)
            sys.exit(1)
        _reset(user)


@click.group("demo", help="Demo data for `make run`.")
def demo_cli() -> None:
    pass


@demo_cli.command("seed")
def demo_seed() -> None:
    """Sync the tenants and create demo staff and data (idempotent); print the logins."""
    for line in seed_demo():
        click.echo(line)


@click.group("jobs", help="Background jobs and the outbox.")
def jobs_cli() -> None:
    pass


@jobs_cli.command("relay")
def jobs_relay() -> None:
    """Relay outbox rows that are waiting (e.g. after a Redis outage)."""
    click.echo(relay())


@jobs_cli.command("sweep")
def jobs_sweep() -> None:
    """Run the deadline sweep over all tenants now."""
    click.echo(sweep_all_tenants())


@jobs_cli.command("digests")
@click.option("--at", "at", default=None, help="Act as if it were this time (ISO 8601 with offset), e.g. to try "
                                               "the next morning's digest in development.")
def jobs_digests(at: str | None) -> None:
    """Send the staff daily digests that are due (regions past 07.00 local time; once per user per day)."""
    now = None
    if at:
        now = datetime.fromisoformat(at)
        if now.tzinfo is None:
            raise click.BadParameter("give a UTC offset, e.g. 2026-12-05T07:30+08:00", param_hint="--at")
    click.echo(send_digests(now))
    click.echo(relay())


@jobs_cli.command("purge-identities")
@click.option("--tenant", "slug", default=None, help="Only this region (default: all).")
def jobs_purge_identities(slug: str | None) -> None:
    """Remove reporters' identities of reports ended longer ago than the retention period (idempotent)."""
    click.echo(purge_all_tenants(slug=slug))


@jobs_cli.command("prune-outbox")
def jobs_prune_outbox() -> None:
    """Delete outbox rows processed longer ago than OUTBOX_RETENTION_DAYS, in every region (idempotent)."""
    click.echo(prune_processed())


@click.group("secrets", help="Secrets stored encrypted with SECRETS_KEY (TOTP secrets).")
def secrets_cli() -> None:
    pass


@secrets_cli.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the newest key of SECRETS_KEY (idempotent). Afterwards the
    older keys can be removed from SECRETS_KEY."""
    for table, count in rotate_all().items():
        click.echo(f"{table}: {count} re-encrypted")


@click.group("storage", help="Attachments and logos: local folder or S3-compatible bucket (STORAGE_URL).")
def storage_cli() -> None:
    pass


@storage_cli.command("migrate-local")
@click.option("--from", "source_dir", default=None, help="The local folder (default: UPLOAD_DIR).")
def storage_migrate_local(source_dir: str | None) -> None:
    """Copy every file of the local folder into the configured storage (STORAGE_URL) under the same key.

    Idempotent: files already there with the same content are skipped, so it can be run again after an
    interruption, and once more just before switching the web nodes over.
    """
    source = LocalStorage(source_dir or current_app.config["UPLOAD_DIR"])
    target = storage()
    if isinstance(target, LocalStorage) and Path(target.root).resolve() == Path(source.root).resolve():
        click.echo("Error: STORAGE_URL points at the source folder itself; set STORAGE_URL=s3://…", err=True)
        sys.exit(1)
    result = migrate_local_to(target, source)
    click.echo(f"copied {result['copied']}, already there {result['skipped']}")


@storage_cli.command("thumbnails")
@click.option("--tenant", "slug", default=None, help="Only this region (slug).")
def storage_thumbnails(slug: str | None) -> None:
    """Make the missing thumbnails of stored photos (attachments from before thumbnails existed).

    Idempotent: photos that have a thumbnail are skipped; each region in its own scope and transaction.
    """
    stmt = select(Tenant).order_by(Tenant.id)
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    tenants = [(t.id, t.slug) for t in db.session.execute(stmt).scalars()]
    if slug and not tenants:
        click.echo(f"Error: no region {slug!r}", err=True)
        sys.exit(1)
    total_made = total_failed = 0
    for tid, tslug in tenants:
        with tenant_scope(tid):
            try:
                result = backfill_thumbnails(tid)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
        total_made += result["made"]
        total_failed += result["failed"]
        if result["made"] or result["failed"]:
            click.echo(f"{tslug}: {result['made']} made, {result['failed']} unreadable or missing")
    click.echo(f"thumbnails made {total_made}, unreadable or missing {total_failed}")


@click.group("db-roles", help="PostgreSQL roles: lapor_owner (migrations), lapor_app (runtime), lapor_reporting.")
def db_roles_cli() -> None:
    pass


_PASSWORD_ENV = {"lapor_owner": "LAPOR_OWNER_PASSWORD", "lapor_app": "LAPOR_APP_PASSWORD",
                 "lapor_reporting": "LAPOR_REPORTING_PASSWORD"}


@db_roles_cli.command("create")
@click.option("--admin-url", envvar="ADMIN_DATABASE_URL", required=True,
              help="URL of a superuser (or CREATEROLE owner of the database) on the app's database.")
@click.option("--schema", default="public", show_default=True)
def db_roles_create(admin_url: str, schema: str) -> None:
    """Create or update the three roles and their grants (idempotent). Passwords, if any, come from
    LAPOR_OWNER_PASSWORD, LAPOR_APP_PASSWORD and LAPOR_REPORTING_PASSWORD."""
    if admin_url.startswith("postgres://"):
        admin_url = "postgresql://" + admin_url[len("postgres://"):]
    engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    if engine.dialect.name != "postgresql":
        click.echo("Error: database roles exist only on PostgreSQL", err=True)
        sys.exit(1)
    passwords = {role: os.environ.get(var) or None for role, var in _PASSWORD_ENV.items()}
    with engine.begin() as conn:
        create_roles(conn, engine.url.database, schema, passwords)
    for role, var in _PASSWORD_ENV.items():
        click.echo(f"{role}: ready ({'password set' if passwords[role] else f'password unchanged, {var} not set'})")


@db_roles_cli.command("rls-key")
@click.option("--admin-url", envvar="MIGRATION_DATABASE_URL", required=True,
              help="URL of lapor_owner (default MIGRATION_DATABASE_URL) or a superuser.")
@click.option("--only", is_flag=True, help="Remove every other key (once no process signs with an old one).")
def db_roles_rls_key(admin_url: str, only: bool) -> None:
    """Store the key that signs the tenant setting (RLS_SIGNING_KEY, else derived from SECRET_KEY) in
    lapor_private.rls_key, where only lapor_owner can read it. Run it after changing either key."""
    if admin_url.startswith("postgres://"):
        admin_url = "postgresql://" + admin_url[len("postgres://"):]
    engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    key = setting_key(current_app.config)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO lapor_private.rls_key (key) VALUES (:k) ON CONFLICT DO NOTHING"), {"k": key})
        if only:
            conn.execute(sa.text("DELETE FROM lapor_private.rls_key WHERE key <> :k"), {"k": key})
        count = conn.execute(sa.text("SELECT count(*) FROM lapor_private.rls_key")).scalar()
    engine.dispose()
    click.echo(f"tenant-setting key stored; {count} key(s) accepted")


@db_roles_cli.command("sql")
@click.option("--database", required=True, help="Name of the app's database.")
@click.option("--schema", default="public", show_default=True)
def db_roles_sql(database: str, schema: str) -> None:
    """Print the same statements for psql (set passwords afterwards with \\password ROLE)."""
    for statement in roles_sql(database, schema):
        click.echo(statement + ";")

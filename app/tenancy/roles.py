"""The three PostgreSQL roles and their grants (``flask db-roles create`` / ``flask db-roles sql``).

* ``lapor_owner`` owns the schema objects; migrations run as it (``MIGRATION_DATABASE_URL``).
* ``lapor_app`` is the runtime role (``DATABASE_URL``): rows only (SELECT/INSERT/UPDATE/DELETE, sequences),
  not owner, not superuser, no BYPASSRLS, so row-level security always applies to it.
* ``lapor_reporting`` reads every tenant's rows for the cross-region comparison
  (``REPORTING_DATABASE_URL``): SELECT only, BYPASSRLS.

Every statement is idempotent, so the script can run again after each deployment; default privileges
make tables and sequences that ``lapor_owner`` creates later get the same grants.
"""

from __future__ import annotations

OWNER_ROLE = "lapor_owner"
APP_ROLE = "lapor_app"
REPORTING_ROLE = "lapor_reporting"

#: What the BYPASSRLS reporting role may read of the tables that hold personal data or secrets: only
#: the columns the cross-region comparison (app.central.comparison) uses; an empty tuple means nothing.
#: Every other table it reads whole. tests/isolation/test_data_catalog.py checks this in the catalog.
REPORTING_COLUMNS: dict[str, tuple[str, ...]] = {
    "complaint": ("id", "tenant_id", "status", "complaint_class", "submitted_at", "first_response_at",
                  "closed_at", "verified_on_time", "answered_on_time", "reopen_count", "due_at", "due_stage",
                  "is_test"),
    "complaint_event": ("id", "tenant_id", "at"),
    "rating": ("id", "tenant_id", "complaint_id", "score"),
    "user_account": ("id", "tenant_id", "role", "last_login_at"),
    # The console's region list shows why a region was suspended (the "after" of that change).
    "tenant_audit_event": ("id", "tenant_id", "kind", "at", "after"),
    # Tenant tables: which region a row belongs to, nothing else.
    **{table: ("id", "tenant_id") for table in (
        "api_key", "attachment", "bridge_settings", "complaint_export", "contact_link", "data_access_request",
        "duplicate_candidate", "follow_up", "follower", "inbound_message", "inbound_token", "notification",
        "notification_preference", "outbox_message", "referral", "security_event", "staff_notification",
        "user_session", "webhook", "webhook_delivery")},
    # Platform tables: nothing.
    **{table: () for table in (
        "platform_admin", "platform_message", "platform_security_event", "platform_session",
        "tenant_application")},
}

#: Platform tables with personal data that the runtime role reads, and why it must: they belong to no
#: region, and the central console and the public sign-up run in the web app. Their policy
#: ``platform_only`` (app.tenancy.rls) hides them inside a region's request, forged settings included.
PLATFORM_TABLES_FOR_APP: dict[str, str] = {
    "platform_admin": "central administrators sign in to the web app",
    "platform_session": "their server-side sessions",
    "platform_security_event": "their security log (console)",
    "platform_message": "mail to applicants and central administrators (sign-up, approval)",
    "tenant_application": "the public sign-up writes it, the central console reviews it",
}

#: Tables without personal data or secrets (the reporting role may read them whole).
NO_PERSONAL_DATA: tuple[str, ...] = (
    "agency", "bridge_item", "bridge_link", "category", "code_counter", "disposition", "message_template",
    "response_template", "tenant", "tenant_domain", "webhook_attempt",
)

_ATTRIBUTES = {
    OWNER_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
    APP_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
    REPORTING_ROLE: "LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE",
}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def roles_sql(database: str, schema: str = "public", passwords: dict[str, str | None] | None = None) -> list[str]:
    """Statements (run as a superuser or a role with CREATEROLE that owns ``database``) that create
    or update the three roles and grant what each needs on ``database``.``schema``."""
    passwords = passwords or {}
    db, sch = _ident(database), _ident(schema)
    out: list[str] = []
    for role, attributes in _ATTRIBUTES.items():
        # CREATE ROLE has no IF NOT EXISTS; a concurrent run may create it between check and create.
        out.append(f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        out.append(f"ALTER ROLE {role} {attributes}")
        if passwords.get(role):
            out.append(f"ALTER ROLE {role} PASSWORD {_literal(passwords[role])}")
    app, rep, own = APP_ROLE, REPORTING_ROLE, OWNER_ROLE
    out += [
        f"GRANT CONNECT ON DATABASE {db} TO {own}, {app}, {rep}",
        # Migrations may add trusted extensions (pg_trgm for the inbox search): CREATE on the database.
        f"GRANT CREATE ON DATABASE {db} TO {own}",
        f"GRANT USAGE, CREATE ON SCHEMA {sch} TO {own}",
        f"GRANT USAGE ON SCHEMA {sch} TO {app}, {rep}",
        # Tables that exist already (whoever created them) ...
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {sch} TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {sch} TO {app}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {sch} TO {rep}",
        # ... and those the owner creates later (not tied to the schema, so they survive its re-creation).
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {own} GRANT SELECT ON TABLES TO {rep}",
    ]
    # The grant above covers every table: take personal data back from the reporting role.
    out += reporting_restrictions_sql(schema)
    return out


def reporting_restrictions_sql(schema: str = "public") -> list[str]:
    """Statements that limit ``lapor_reporting`` to :data:`REPORTING_COLUMNS` (tables that do not exist
    yet are skipped; the migration that creates them applies the same)."""
    out = []
    for table, columns in sorted(REPORTING_COLUMNS.items()):
        qualified = f"{_ident(schema)}.{_ident(table)}"
        grant = (f"GRANT SELECT ({', '.join(_ident(c) for c in columns)}) ON {qualified} TO {REPORTING_ROLE}; "
                 if columns else "")
        out.append(f"DO $$ BEGIN IF to_regclass({_literal(qualified)}) IS NOT NULL THEN "  # noqa: S608 (quoted)
                   f"REVOKE SELECT ON {qualified} FROM {REPORTING_ROLE}; {grant}END IF; END $$")
    return out


def create_roles(connection, database: str, schema: str = "public",
                 passwords: dict[str, str | None] | None = None) -> None:
    """Run :func:`roles_sql` on a SQLAlchemy connection (the caller commits)."""
    for statement in roles_sql(database, schema, passwords):
        connection.exec_driver_sql(statement)

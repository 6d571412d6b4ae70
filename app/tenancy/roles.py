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
    return out


def create_roles(connection, database: str, schema: str = "public",
                 passwords: dict[str, str | None] | None = None) -> None:
    """Run :func:`roles_sql` on a SQLAlchemy connection (the caller commits)."""
    for statement in roles_sql(database, schema, passwords):
        connection.exec_driver_sql(statement)

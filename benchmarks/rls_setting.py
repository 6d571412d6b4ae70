"""What the signed tenant setting costs: `python -m benchmarks.rls_setting` (PostgreSQL).

Builds two identical tables in a scratch database (BENCH_RLS_DATABASE_URL, a superuser URL; created and
dropped), one behind the old policy (``tenant_id = NULLIF(current_setting(...), '')::int``) and one behind
the signed one (``tenant_id = (SELECT app_current_tenant())``, the function of migration a4c8e2f1d9b6),
then times, as the runtime role ``lapor_app`` and interleaved so both see the same machine load, the
queries a region's inbox runs: a page of 50 newest rows and a count. Prints medians and p95 in ms.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import time
from pathlib import Path

import psycopg

from app.tenancy.rls import signed_setting

URL = os.environ.get("BENCH_RLS_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lapor_rls_bench")
ROWS = int(os.environ.get("BENCH_RLS_ROWS", "200000"))
TENANTS = 10
REPEAT = int(os.environ.get("BENCH_RLS_REPEAT", "300"))
KEY = b"benchmark-key"
MIGRATION = Path(__file__).resolve().parent.parent / "migrations/versions/a4c8e2f1d9b6_secrets_at_rest_signed_tenant.py"


def _migration():
    spec = importlib.util.spec_from_file_location("signed_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _setup(conn) -> None:
    mig = _migration()
    conn.execute("DO $$ BEGIN CREATE ROLE lapor_app; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    conn.execute("CREATE SCHEMA lapor_private")
    conn.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA lapor_private")
    conn.execute("CREATE TABLE lapor_private.rls_key (key bytea PRIMARY KEY)")
    conn.execute("INSERT INTO lapor_private.rls_key VALUES (%s)", (KEY,))
    for function in mig.FUNCTIONS:
        conn.execute(mig.FUNCTION % {**function, "hmac": "lapor_private.hmac"})
    for name, predicate in (("plain", mig.PLAIN), ("signed", mig.SIGNED)):
        conn.execute(f"CREATE TABLE bench_{name} (id serial PRIMARY KEY, tenant_id int NOT NULL, title text, "
                     "submitted_at timestamptz NOT NULL)")
        conn.execute(f"INSERT INTO bench_{name} (tenant_id, title, submitted_at) "  # noqa: S608 (fixed names)
                     f"SELECT 1 + (i % {TENANTS}), 'complaint ' || i, now() - i * interval '1 minute' "
                     f"FROM generate_series(1, {ROWS}) i")
        conn.execute(f"CREATE INDEX ON bench_{name} (tenant_id, submitted_at DESC)")
        conn.execute(f"ANALYZE bench_{name}")
        conn.execute(f"ALTER TABLE bench_{name} ENABLE ROW LEVEL SECURITY")
        conn.execute(f"CREATE POLICY p ON bench_{name} USING ({predicate})")
        conn.execute(f"GRANT SELECT ON bench_{name} TO lapor_app")
    conn.commit()


def _time(conn, sql: str, setting: str) -> float:
    t0 = time.perf_counter()
    with conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (setting,))
        conn.execute(sql).fetchall()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    admin = psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    db = URL.rsplit("/", 1)[1]
    admin.execute(f'DROP DATABASE IF EXISTS "{db}"')
    admin.execute(f'CREATE DATABASE "{db}"')
    try:
        with psycopg.connect(URL) as conn:
            _setup(conn)
            conn.execute("SET ROLE lapor_app")
            conn.commit()
            pid = conn.info.backend_pid
            tenant = 1
            values = {"plain": str(tenant), "signed": signed_setting(tenant, pid, KEY)}
            queries = {
                "page of 50 newest": "SELECT id, title FROM bench_{t} ORDER BY submitted_at DESC LIMIT 50",
                "count": "SELECT count(*) FROM bench_{t}",
            }
            with conn.transaction():
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (values["signed"],))
                plan = "\n".join(r[0] for r in conn.execute(
                    "EXPLAIN " + queries["page of 50 newest"].format(t="signed")))
                seen = conn.execute("SELECT count(*) FROM bench_signed").fetchone()[0]
            assert seen == ROWS // TENANTS, seen
            print(plan)
            print(f"\n{ROWS} rows, {TENANTS} tenants, {REPEAT} runs each, interleaved (ms per transaction: "
                  "set_config + query)\n")
            print(f"{'query':<20} {'policy':<8} {'median':>8} {'p95':>8}")
            for label, sql in queries.items():
                samples: dict[str, list[float]] = {"plain": [], "signed": []}
                for _ in range(REPEAT):
                    for name in ("plain", "signed"):
                        samples[name].append(_time(conn, sql.format(t=name), values[name]))
                for name, ms in samples.items():
                    ms.sort()
                    print(f"{label:<20} {name:<8} {statistics.median(ms):8.3f} {ms[int(len(ms) * 0.95) - 1]:8.3f}")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()

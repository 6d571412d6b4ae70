"""Row-level security under pgbouncer's transaction pooling (README "Production at scale").

A real pgbouncer (Debian's package) in ``pool_mode = transaction`` with ONE server connection sits in
front of the test database, so every client transaction below runs on the same PostgreSQL backend one
after the other — the worst case for state left behind by an earlier client. The app's tenant setting
is transaction-local (``set_config(..., true)``, app.tenancy.rls), so the next client's transaction
starts with no tenant and sees no tenant rows. A control shows that a session-level setting WOULD leak
through the same pooler, i.e. the check can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.tenancy.rls import (
    deny_platform_tables,
    install_tenant_setting,
    restore_platform_tables,
    setting_key,
    signed_setting,
)
from app.tenancy.scope import tenant_scope
from tests.faults.conftest import free_port
from tests.faults.test_faults import code_of, post_report

pytestmark = pytest.mark.faults


@pytest.fixture()
def pgbouncer(app):
    """pgbouncer on a free port → the test database, transaction pooling, one server connection."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        pytest.fail("pgbouncer is not installed (apt-get install pgbouncer; .ci/run installs it)", pytrace=False)
    server = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    folder = Path(tempfile.mkdtemp(prefix="lapor-pgbouncer-"))
    folder.chmod(0o755)
    port = free_port()
    (folder / "userlist.txt").write_text('"lapor_app" ""\n"lapor_owner" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
lapor = host={server.host or '127.0.0.1'} port={server.port or 5432} dbname={server.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
""")
    args = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        args = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *args]
    log = open(folder / "pgbouncer.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = server.set(host="127.0.0.1", port=port, database="lapor", password=None)
    deadline = time.monotonic() + 15
    while True:
        try:
            probe = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with probe.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            probe.dispose()
            break
        except sa.exc.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"pgbouncer did not start: {(folder / 'pgbouncer.log').read_text()}", pytrace=False)
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()
    shutil.rmtree(folder, ignore_errors=True)


def app_engine(url, key: bytes):
    """An engine as the app builds one behind pgbouncer (DATABASE_PGBOUNCER: no prepared statements),
    with the app's per-transaction tenant setting installed, signed for the server backend of each
    transaction."""
    engine = sa.create_engine(url, connect_args={"prepare_threshold": None}, pool_size=1, max_overflow=0)
    install_tenant_setting(engine, key, pooled=True)
    return engine


def visible(conn) -> tuple[int, int | None, list[str]]:
    """The server backend, the tenant the database accepts from the signed setting, the codes seen."""
    backend = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    setting = conn.execute(sa.text("SELECT app_current_tenant()")).scalar_one()
    codes = conn.execute(sa.text("SELECT code FROM complaint ORDER BY code")).scalars().all()
    return backend, setting, codes


def test_the_tenant_setting_does_not_outlive_its_transaction_through_pgbouncer(app, bjm, tenants, client, pgbouncer):
    ktg = tenants[1]
    bjm_code = code_of(post_report(client, bjm))
    ktg_code = code_of(post_report(client, ktg))
    first, second = app_engine(pgbouncer, setting_key(app.config)), app_engine(pgbouncer, setting_key(app.config))
    try:
        # Client 1 works in Banjarmasin and commits.
        with tenant_scope(bjm.id), first.begin() as conn:
            backend, setting, codes = visible(conn)
            assert (setting, codes) == (bjm.id, [bjm_code])
        # Client 2, no region bound, gets the same PostgreSQL backend next: nothing of Banjarmasin.
        with second.begin() as conn:
            backend2, setting2, codes2 = visible(conn)
            assert backend2 == backend, "pgbouncer should hand the one server connection to the next client"
            assert setting2 is None and codes2 == []
        # Client 2 in Katingan sees Katingan only; then client 1 again with no region sees nothing.
        with tenant_scope(ktg.id), second.begin() as conn:
            assert visible(conn)[1:] == (ktg.id, [ktg_code])
        with first.begin() as conn:
            assert visible(conn)[1:] == (None, [])
        # Many short transactions alternating clients and regions (psycopg would prepare after 5 runs).
        for i in range(12):
            engine, region, code = (first, bjm, bjm_code) if i % 2 else (second, ktg, ktg_code)
            with tenant_scope(region.id), engine.begin() as conn:
                assert visible(conn)[2] == [code]
            with (second if i % 2 else first).begin() as conn:
                assert visible(conn)[2] == []

        # Control: a session-level setting (what the app must never do) DOES leak through the pooler.
        with first.begin() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            value = signed_setting(bjm.id, pid, setting_key(app.config))
            conn.execute(sa.text("SELECT set_config('app.tenant_id', :t, false)"), {"t": value})
        # (Inside a region's request with no region bound the app sets nothing, so a leak would show.)
        token = deny_platform_tables()
        try:
            with second.begin() as conn:
                leaked = conn.execute(sa.text("SELECT code FROM complaint")).scalars().all()
                conn.execute(sa.text("SELECT set_config('app.tenant_id', '', false)"))  # clean the backend
        finally:
            restore_platform_tables(token)
        assert leaked == [bjm_code]
    finally:
        first.dispose()
        second.dispose()

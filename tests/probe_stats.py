# Temporary probe (not committed): index reads per submission after a burst, with planner statistics.
import time

import sqlalchemy as sa

from tests.conftest import REPO
from tests.web.citizen_support import post_report

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/lapor_perf_probe"


def test_probe(app):
    from app.extensions import db
    from app.tenancy.files import load_tenant_config, sync_tenant

    with app.app_context():
        bjm = sync_tenant(load_tenant_config(REPO / "tenants", "banjarmasin"))
        db.session.commit()
        slug = bjm.slug
    client = app.test_client()

    class T:
        pass
    t = T(); t.slug = slug
    for _ in range(1000):
        assert post_report(client, t).status_code == 303
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text("ANALYZE"))
        print(c.execute(sa.text("select count(*) from complaint")).scalar(), "complaints")
        c.execute(sa.text("select pg_stat_reset()"))
    for _ in range(100):
        assert post_report(client, t).status_code == 303
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    time.sleep(2)
    with admin.connect() as c:
        rows = c.execute(sa.text(
            "select indexrelname, idx_scan, idx_tup_read from pg_stat_user_indexes "
            "where idx_tup_read > 0 order by idx_tup_read desc limit 25")).all()
    for r in rows:
        print(f"{r[0]:60} scans={r[1]:6} tup_read={r[2]:8}  per submission={r[2] / 100:.1f}")

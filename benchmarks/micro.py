"""The small in-process micro-benchmark: `python -m benchmarks.micro` (SQLite, or BENCH_DATABASE_URL=postgresql://…).

Measures what a busy region does all day, at national-scale data sizes, and prints a table.
Figures are reported in notes, never asserted in tests.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

N_COMPLAINTS = int(os.environ.get("BENCH_COMPLAINTS", "3000"))


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def report(name: str, samples: list[float], unit_count: int = 1) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    rate = unit_count * len(samples) / sum(samples) if sum(samples) else float("inf")
    print(f"{name:<52} n={len(ms):>5}  p50={statistics.median(ms):8.2f} ms  p95={p95:8.2f} ms  {rate:9.1f}/s")


def main() -> int:
    db_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='lapor-bench-')}/bench.db"
    os.environ["APP_ENV"] = "testing"
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.complaints import service
    from app.deadlines.calendar import calendar_for_tenant
    from app.deadlines.policy import deadline_for
    from app.extensions import db
    from app.tenancy.files import load_tenant_config, sync_tenant
    from app.tenancy.models import frozen_time
    from app.tenancy.scope import tenant_scope

    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "JOBS_INLINE": True, "SECRET_KEY": "x" * 40,
                      "UPLOAD_DIR": tempfile.mkdtemp(prefix="lapor-bench-up-")})
    print(f"database: {db_url.split('@')[-1]}  complaints per tenant: {N_COMPLAINTS}")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory="migrations")
        tenants = [sync_tenant(load_tenant_config("tenants", s)) for s in ("banjarmasin", "katingan")]
        db.session.commit()
        bjm = tenants[0]
        start = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)

        def submit(i: int, tenant):
            data = service.SubmitData(
                title=f"Jalan berlubang nomor {i}",
                description="Lubang besar di tengah jalan, membahayakan pengendara.",
                complaint_class="pengaduan", reporter_name="Warga", reporter_email=f"w{i}@contoh.id")
            with frozen_time(start + timedelta(minutes=7 * i)):
                service.submit_complaint(data)
            db.session.commit()

        for tenant in tenants:
            with tenant_scope(tenant.id):
                samples = []
                for i in range(N_COMPLAINTS):
                    t0 = time.perf_counter()
                    submit(i, tenant)
                    samples.append(time.perf_counter() - t0)
                report(f"submit complaint + event + outbox ({tenant.slug})", samples)

        cal = calendar_for_tenant(bjm)
        t = start
        report("deadline_for (14 working days, pengaduan)",
               timed(lambda: deadline_for(cal, bjm.settings, "followup", t, "pengaduan"), 5000))

        from app.complaints.models import Complaint

        with tenant_scope(bjm.id):
            report("scoped query: 25 newest complaints",
                   timed(lambda: db.session.execute(
                       select(Complaint).order_by(Complaint.submitted_at.desc()).limit(25)).scalars().all(), 300))
            report("scoped query: count by status", timed(service.count_by_status, 300))
            from app.complaints.sweep import sweep_tenant

            report("deadline sweep of one tenant (all open complaints)",
                   timed(lambda: (sweep_tenant(bjm, start + timedelta(days=30)), db.session.rollback()), 3))

        client = app.test_client()
        code = None
        with tenant_scope(bjm.id):
            code = db.session.execute(select(Complaint.code).limit(1)).scalar_one()
        for path in ("/", "/banjarmasin/", f"/banjarmasin/lacak/{code}", "/banjarmasin/transparansi"):
            resp = client.get(path)
            if resp.status_code != 200:
                print(f"{'GET ' + path:<52} status {resp.status_code} (skipped)")
                continue
            report(f"GET {path}", timed(lambda p=path: client.get(p), 200))
    return 0


if __name__ == "__main__":
    sys.exit(main())

""""Is this already reported?" at national scale: the lookup's p50/p95 for the largest region on PostgreSQL.

    python -m benchmarks.nearby                                # full scale: 552 regions, 2,000,000 complaints
    BENCH_SCALE=0.1 python -m benchmarks.nearby                # quicker: 55 regions, 200,000 complaints
    BENCH_NEARBY_REUSE=1 python -m benchmarks.nearby           # measure an already generated database

Generates the data (benchmarks.generate; the largest region's pins lie in Banjarmasin's area), then asks
for open public reports near BENCH_NEARBY_POINTS points of the largest region (half of them existing
reports' pins, so dense spots are asked too, half anywhere in its area) with a category and a title:
(1) the service function in-process, (2) GET /<slug>/lapor/sekitar through gunicorn (1 worker, 2 threads)
over a keep-alive connection. Prints the figures against the 100 ms p95 target, the EXPLAIN ANALYZE of the
candidate query at the densest point, and writes benchmarks/results/nearby-<time>.json. The database is
dropped at the end unless BENCH_KEEP_DB=1 (or BENCH_NEARBY_REUSE=1).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks import generate as gen
from benchmarks.run import PY, ROOT, Client, env_int, pct

PORT = 8741
TARGET_MS = 100.0


def _stats(samples: list[float]) -> dict:
    ms = [s * 1000 for s in samples]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(pct(ms, 95), 2),
            "max_ms": round(max(ms), 2)}


def _largest(url: str) -> tuple[int, str, int]:
    with psycopg.connect(url) as conn:
        tid, slug = conn.execute("SELECT id, slug FROM tenant WHERE slug = 'banjarmasin'").fetchone()
        n = conn.execute("SELECT count(*) FROM complaint WHERE tenant_id = %s", (tid,)).fetchone()[0]
        return tid, slug, n


def _points(url: str, tid: int, n: int, seed: int = 16) -> list[dict]:
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        pins = conn.execute(
            "SELECT latitude, longitude, category_id FROM complaint WHERE tenant_id = %s AND latitude IS NOT NULL "
            "ORDER BY md5(id::text) LIMIT %s", (tid, n // 2)).fetchall()
        categories = [r[0] for r in conn.execute("SELECT id FROM category WHERE tenant_id = %s", (tid,))]
    (lat0, lon0), half = gen.LARGEST_AREA
    points = [{"lat": lat, "lon": lon, "category": cat} for lat, lon, cat in pins]
    while len(points) < n:
        points.append({"lat": lat0 + rng.uniform(-half, half), "lon": lon0 + rng.uniform(-half, half),
                       "category": rng.choice(categories)})
    for p in points:
        p["q"] = rng.choice(gen.TITLES)
    rng.shuffle(points)
    return points


def _app(url: str):
    from app import create_app

    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                       "JOBS_INLINE": True, "REDIS_URL": None, "SECRET_KEY": "bench-" * 8})


def measure_service(url: str, tid: int, points: list[dict]) -> dict:
    from app.complaints import nearby
    from app.extensions import db
    from app.tenancy.scope import tenant_scope

    app = _app(url)
    samples, found = [], []
    with app.app_context(), tenant_scope(tid):
        for p in points[:20]:  # warm-up: connections, caches
            nearby.nearby_reports(p["lat"], p["lon"], p["category"], p["q"])
        for p in points:
            t0 = time.perf_counter()
            result = nearby.nearby_reports(p["lat"], p["lon"], p["category"], p["q"])
            samples.append(time.perf_counter() - t0)
            found.append(len(result))
            db.session.rollback()  # one short transaction per lookup, as a request has
        db.engine.dispose()
    return {**_stats(samples), "found_mean": round(statistics.mean(found), 2),
            "with_results": sum(1 for f in found if f)}


def candidates(url: str, tid: int, points: list[dict]) -> dict:
    """How many rows the bounding box yields (per point), and the plan at the densest point."""
    from sqlalchemy.dialects import postgresql

    from app.complaints import nearby

    app = _app(url)
    since = datetime.now(UTC) - timedelta(days=app.config["NEARBY_DAYS"])
    radius = app.config["NEARBY_RADIUS_M"]
    counts, densest, plan = [], None, ""
    with psycopg.connect(url) as conn:
        def sql(p: dict, count: bool = False) -> str:
            stmt = nearby.candidates_query(p["lat"], p["lon"], radius, since).where(
                nearby.Complaint.tenant_id == tid)
            text = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
            return f"SELECT count(*) FROM ({text}) AS box" if count else text

        for p in points[:100]:
            n = conn.execute(sql(p, count=True)).fetchone()[0]
            counts.append(n)
            if densest is None or n > densest[0]:
                densest = (n, p)
        if densest is not None:
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql(densest[1])).fetchall()
            plan = "\n".join(r[0] for r in rows)
    return {"box_rows_mean": round(statistics.mean(counts), 1), "box_rows_max": max(counts),
            "densest_plan": plan}


@contextmanager
def served(url: str, tmp: Path) -> Iterator[Client]:
    """The app under gunicorn (1 worker, 2 threads) on ``url``'s database; yields a keep-alive client."""
    from cryptography.fernet import Fernet

    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "bench-secret-" * 4, "DATABASE_URL": url,
           "SECRETS_KEY": Fernet.generate_key().decode(),
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
           "SESSION_COOKIE_SECURE": "0", "RATELIMIT_ENABLED": "0", "LOG_LEVEL": "WARNING",
           "PUBLIC_BASE_URL": f"http://localhost:{PORT}", "UPLOAD_DIR": str(tmp / "uploads"), "SENTRY_DSN": "",
           "PYTHONPATH": str(ROOT)}
    log = open(tmp / "gunicorn.log", "ab")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [PY, "-m", "gunicorn", "-k", "gthread", "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{PORT}",
         "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                client = Client(PORT)
                if client.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    tail = (tmp / "gunicorn.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"gunicorn did not start:\n{tail}") from None
                time.sleep(0.3)
        yield client
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def measure_http(url: str, slug: str, points: list[dict], tmp: Path) -> dict:
    with served(url, tmp) as client:
        samples, sizes = [], []

        def get(p: dict) -> tuple[int, str]:
            query = urllib.parse.urlencode({"lat": f"{p['lat']:.6f}", "lon": f"{p['lon']:.6f}",
                                            "category": p["category"] or "", "q": p["q"]})
            status, text, _headers = client.request("GET", f"/{slug}/lapor/sekitar?{query}")
            if status != 200:
                raise RuntimeError(f"GET /{slug}/lapor/sekitar: {status} {text[:200]}")
            return status, text

        for p in points[:20]:
            get(p)
        for p in points:
            t0 = time.perf_counter()
            _status, text = get(p)
            samples.append(time.perf_counter() - t0)
            sizes.append(len(text))
        return {**_stats(samples), "body_bytes_mean": round(statistics.mean(sizes))}


def main() -> int:
    url = os.environ.get("BENCH_DATABASE_URL", gen.DEFAULT_DB)
    reuse = os.environ.get("BENCH_NEARBY_REUSE") == "1"
    results: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds")}
    with gen.generated_or_reused(url, reuse) as generated:
        results["generated"] = generated
        tid, slug, n = _largest(url)
        results["largest_region"] = {"slug": slug, "complaints": n}
        points = _points(url, tid, env_int("BENCH_NEARBY_POINTS", 300))
        results["service"] = measure_service(url, tid, points)
        with tempfile.TemporaryDirectory(prefix="lapor-nearby-") as tmp:
            results["http"] = measure_http(url, slug, points, Path(tmp))
        results["box"] = candidates(url, tid, points)
    plan = results["box"].pop("densest_plan")
    path = gen.save_results("nearby", results, {"densest_plan": plan})
    print("\nEXPLAIN ANALYZE at the densest point asked:\n" + plan)
    ok = all(results[k]["p95_ms"] <= TARGET_MS for k in ("service", "http"))
    print(f"\nlargest region {slug}: {n:,} complaints; lookup p95 service {results['service']['p95_ms']} ms, "
          f"HTTP {results['http']['p95_ms']} ms (target ≤ {TARGET_MS:.0f} ms): {'met' if ok else 'MISSED'}")
    print(f"written to {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

"""Where the time of one submission goes: `python -m benchmarks.profile_submit` (PostgreSQL + Redis).

Submits BENCH_PROFILE_N reports (default 400) through the real web form (CSRF on) and through the REST API, and
reads the region's landing page and a public tracking page as often, in
one process with Flask's test client, against a scratch PostgreSQL database (BENCH_PROFILE_DATABASE_URL,
created and dropped) migrated and synced with the two demo regions, with jobs relayed to Redis
(BENCH_PROFILE_REDIS_URL, its db flushed; no worker runs, so only the request path is measured). Prints, per
request: time, SQL statements and transactions (commits) per request, and the cProfile breakdown (cumulative) of
chosen functions of the path and of the application's own top functions (BENCH_PROFILE_TOP), so before/after
figures of a change to the request path are one command apart. No personal data: generated reports only.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter

import redis
from sqlalchemy import event

from benchmarks import generate as gen
from benchmarks.run import _rest_body, _submit_form

N = int(os.environ.get("BENCH_PROFILE_N") or 400)
TOP = int(os.environ.get("BENCH_PROFILE_TOP") or 25)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
#: Functions of the request path whose cumulative share is printed (module path substring, function name).
WATCH = [
    ("complaints/views_public.py", "submit"), ("api/rest.py", "submit"),
    ("complaints/service.py", "submit_complaint"), ("complaints/service.py", "next_code"),
    ("complaints/service.py", "validate_submission"), ("complaints/service.py", "record_event"),
    ("complaints/events.py", "emit"), ("notifications/rules.py", "on_complaint_event"),
    ("notifications/rules.py", "notify_citizens"), ("notifications/rules.py", "notify_staff"),
    ("notifications/service.py", "queue_message"), ("integrations/events.py", "on_complaint_event"),
    ("complaints/duplicate_pairs.py", "on_complaint_event"), ("jobs/outbox.py", "enqueue"),
    ("jobs/outbox.py", "relay_after_request"), ("jobs/outbox.py", "relay"),
    ("complaints/service.py", "_start_stage"), ("flask_wtf/csrf.py", "protect"), ("wtforms/form.py", "validate"),
    ("flask/templating.py", "render_template"), ("sqlalchemy/orm/session.py", "commit"),
    ("sqlalchemy/orm/session.py", "flush"), ("sqlalchemy/engine/base.py", "_execute_context"),
]


def _app(url: str, redis_url: str):
    from app import create_app

    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_ENABLED": True, "JOBS_INLINE": False, "REDIS_URL": redis_url,
                       "SECRET_KEY": "profile-" * 6, "UPLOAD_DIR": tempfile.mkdtemp(prefix="lapor-profile-"),
                       "PUBLIC_BASE_URL": "http://localhost", "LOG_LEVEL": "WARNING",
                       # As in production: the relay to RQ runs in the process's background thread, not in the
                       # request (BENCH_PROFILE_BACKGROUND=0 profiles the inline relay of tests and the demo).
                       "OUTBOX_RELAY_BACKGROUND": os.environ.get("BENCH_PROFILE_BACKGROUND", "1") == "1"})


def measure(app, send, label: str) -> dict:
    from app.extensions import db

    counts = Counter()

    def count(conn, cursor, statement, *args) -> None:
        if threading.current_thread() is not threading.main_thread():
            counts["background statements"] += 1  # the outbox relay's thread, off the request path
            return
        word = statement.lstrip().split(None, 1)[0].upper()
        counts["statements"] += 1
        counts[word] += 1

    with app.app_context():
        engine = db.engine
    for i in range(20):  # warm-up: connections, caches, compiled statements
        send(i)
    event.listen(engine, "before_cursor_execute", count)
    commits = Counter()
    event.listen(engine, "commit", lambda conn: commits.update(
        ["commits" if threading.current_thread() is threading.main_thread() else "background commits"]))
    samples = []
    profiler = cProfile.Profile()
    for i in range(N):
        t0 = time.perf_counter()
        profiler.enable()
        send(i)
        profiler.disable()
        samples.append(time.perf_counter() - t0)
    event.remove(engine, "before_cursor_execute", count)
    ms = sorted(s * 1000 for s in samples)
    stats = pstats.Stats(profiler)
    total = sum(samples)
    shares = []
    for (path, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        for want_path, want_name in WATCH:
            if path.endswith(want_path) and name == want_name:
                shares.append((row[3] / N * 1000, f"{want_path}:{name}"))
    print(f"\n{label}: {N} requests, p50 {statistics.median(ms):.2f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.2f} ms, "
          f"mean {total / N * 1000:.2f} ms (under cProfile); per request {counts['statements'] / N:.1f} SQL "
          f"statements ({', '.join(f'{k} {v / N:.1f}' for k, v in counts.most_common() if 'statements' not in k)}), "
          f"{commits['commits'] / N:.1f} commits; in the relay thread {counts['background statements'] / N:.1f} "
          f"statements, {commits['background commits'] / N:.2f} commits")
    for per_request, name in sorted(shares, reverse=True):
        print(f"  {per_request:7.2f} ms  {name}")
    own = sorted(((row[3] / N * 1000, f"{path.split('/app/', 1)[1]}:{name}")
                  for (path, _line, name), row in stats.stats.items()  # type: ignore[attr-defined]
                  if "/app/" in path and "/.venv/" not in path), reverse=True)
    print("  the application's own functions, cumulative per request:")
    for per_request, name in own[:TOP]:
        print(f"  {per_request:7.2f} ms  app/{name}")
    return {"p50_ms": statistics.median(ms), "statements": counts["statements"] / N}


def main() -> int:
    url = os.environ.get("BENCH_PROFILE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lapor_profile")
    redis_url = os.environ.get("BENCH_PROFILE_REDIS_URL", "redis://127.0.0.1:6379/6")
    redis.Redis.from_url(redis_url).flushdb()
    gen.recreate_database(url)
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app.api.keys import create_key
    from app.complaints.models import Complaint
    from app.extensions import db
    from app.tenancy.files import load_tenant_config, sync_tenant
    from app.tenancy.scope import tenant_scope

    app = _app(url, redis_url)
    try:
        with app.app_context():
            upgrade(directory="migrations")
            bjm_id = sync_tenant(load_tenant_config("tenants", "banjarmasin")).id
            sync_tenant(load_tenant_config("tenants", "katingan"))
            db.session.commit()
            with tenant_scope(bjm_id):
                _key, secret = create_key("Profile", ["read", "write"])
                db.session.commit()
        client = app.test_client()
        page = client.get("/banjarmasin/lapor").get_data(as_text=True)
        token = CSRF_RE.search(page).group(1)

        def web(i: int) -> None:
            resp = client.post("/banjarmasin/lapor", data=_submit_form(token, i))
            assert resp.status_code == 303, resp.status_code
            resp.close()  # as a WSGI server does once the answer is sent: the background relay starts then

        api = app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}

        def rest(i: int) -> None:
            resp = api.post("/banjarmasin/api/v1/complaints", json=_rest_body(i),
                            headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            assert resp.status_code == 201, resp.status_code
            resp.close()

        measure(app, web, "web form (CSRF on)")
        measure(app, rest, "REST API")
        from app.jobs.outbox import BACKGROUND, OutboxMessage

        BACKGROUND.flush(30)
        with app.app_context(), tenant_scope(bjm_id):  # every submission went to Banjarmasin
            waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.dispatched_at.is_(None)))
            queued = sum(redis.Redis.from_url(redis_url).llen(key) for key in
                         redis.Redis.from_url(redis_url).scan_iter("rq:queue:*"))
        print(f"\nafter the submissions: {waiting} outbox rows not handed to RQ, {queued} jobs queued in Redis")
        reader = app.test_client()
        with app.app_context(), tenant_scope(bjm_id):
            code = db.session.execute(select(Complaint.code).limit(1)).scalar_one()

        def get(path: str):
            def fetch(_i: int) -> None:
                resp = reader.get(path)
                assert resp.status_code == 200, (path, resp.status_code)
            return fetch

        measure(app, get("/banjarmasin/"), "landing page")
        measure(app, get(f"/banjarmasin/lacak/{code}"), "tracking page (public view)")
        with app.app_context():
            db.engine.dispose()
    finally:
        gen.drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())

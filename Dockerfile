# Production image: gunicorn serves wsgi:app; the same image runs the RQ worker and scheduler.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 APP_ENV=production

WORKDIR /srv/app
# The hashed lock (`make lock`): every transitive package pinned and checked.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .
RUN pybabel compile -d translations \
    && useradd --system --uid 10001 --home-dir /srv/app lapor \
    && mkdir -p instance/uploads && chown -R lapor:lapor instance

USER lapor
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"

# Database (README, "Database roles and row-level security"): DATABASE_URL as lapor_app (runtime),
# MIGRATION_DATABASE_URL as lapor_owner (for `flask db upgrade`), REPORTING_DATABASE_URL as lapor_reporting.
# Web (default). Worker: docker run IMAGE rq worker -w app.jobs.worker.AppWorker --with-scheduler --url "$REDIS_URL" notifications default periodic
# Periodic schedule: docker run IMAGE rq cron --url "$REDIS_URL" app/jobs/cron.py
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-", "wsgi:app"]

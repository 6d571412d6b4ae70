"""Entry points that RQ workers call. Each job gets an application context of its own."""

from __future__ import annotations

import logging

from flask import Flask, has_app_context

from app import create_app
from app.central.comparison import warm_default_comparison
from app.extensions import db
from app.integrations.sp4n import pull_all_tenants
from app.jobs.outbox import prune_processed, relay, run_message
from app.jobs.sweeps import sweep_all_tenants
from app.notifications.digest import send_digests as run
from app.privacy.retention import purge_all_tenants

log = logging.getLogger(__name__)
_app: Flask | None = None


def _worker_app() -> Flask:
    global _app
    if _app is None:

        _app = create_app()
    return _app


def run_in_app(fn, *args):
    """Call ``fn(*args)`` inside an application context: the current one, or the worker's own app."""
    if has_app_context():  # SimpleWorker inside tests, or the in-process mode
        return fn(*args)
    app = _worker_app()
    with app.app_context():

        db.engine.dispose(close=False)  # a forked work horse must not share the parent's sockets
        try:
            return fn(*args)
        finally:
            db.session.remove()


def run_outbox_job(outbox_id: int, tenant_id: int) -> str:
    """Run one outbox row (RQ job id ``outbox-<id>``)."""

    return run_in_app(run_message, outbox_id, tenant_id)


def relay_outbox() -> dict:
    """Periodic: relay rows that waited out a Redis outage."""

    return run_in_app(relay)


def prune_outbox() -> dict:
    """Periodic: delete outbox rows processed more than OUTBOX_RETENTION_DAYS ago (never unprocessed ones)."""

    return run_in_app(prune_processed)


def sweep_deadlines() -> dict:
    """Periodic: flag due-soon and overdue complaints, escalate, auto-close (all tenants)."""

    return run_in_app(sweep_all_tenants)


def pull_sp4n() -> dict:
    """Periodic: pull status and follow-ups from SP4N-LAPOR! (regions with the bridge on)."""

    return run_in_app(pull_all_tenants)


def purge_identities() -> dict:
    """Periodic: remove reporters' identities after each tenant's retention period (UU PDP)."""

    return run_in_app(purge_all_tenants)


def warm_comparison() -> dict:
    """Periodic: keep the central comparison of the last 12 months in the shared cache."""

    return run_in_app(warm_default_comparison)


def send_digests() -> dict:
    """Periodic: staff daily digests, each region in its local morning (once per user per day)."""

    return run_in_app(run)

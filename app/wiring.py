"""Explicit wiring of the features' background work and event subscribers, called once by ``create_app``.

Every process builds the app with :func:`app.create_app` (the web server through ``wsgi.py``, RQ workers
through :class:`app.jobs.worker.AppWorker` and :func:`app.jobs.runner` for cron, the CLI through
``flask --app wsgi``, the tests through their ``app`` fixture), so each of them has the same job handlers,
sweep steps and subscribers. Each module below registers itself when imported (``@job``, ``SWEEPS``,
:func:`app.complaints.events.subscribe`); importing twice is a no-op, so calling this again is harmless.
The complaint core never imports its subscribers (tests/unit/test_event_subscribers.py): this module does.
"""

from __future__ import annotations

from flask import Flask

from app.complaints import duplicate_pairs, exports, referrals, sweep  # noqa: F401
from app.integrations import events, sp4n, webhooks  # noqa: F401
from app.notifications import rules, service  # noqa: F401
from app.onboarding.cli import onboarding_cli


def register_all(app: Flask) -> None:
    """Register every job handler, periodic sweep step and complaint-event subscriber.

    - sweep steps (app.jobs.sweeps.SWEEPS): ``complaints.sweep``, the deadline sweep, and
      ``complaints.exports``, which deletes expired export files;
    - complaint-event subscribers (app.complaints.events, each with its order): ``integrations.events``
      (webhooks and the SP4N-LAPOR! bridge) and ``notifications.rules``;
    - job handlers (``@app.jobs.job``): ``complaints.exports``, ``integrations.sp4n``, ``integrations.webhooks``,
      ``notifications.service`` and ``complaints.referrals`` (which also subscribes to complaint events: the
      receiving region's public steps are mirrored to the referring region), and ``complaints.duplicate_pairs``
      (subscribes too: a submitted or changed report's duplicate candidates are recomputed by its job).
    """

def register_cli(app: Flask) -> None:
    """Command groups that features own (``flask onboarding ...``); the platform's own are in app.cli."""
    app.cli.add_command(onboarding_cli)
    app.cli.add_command(duplicate_pairs.duplicates_cli)

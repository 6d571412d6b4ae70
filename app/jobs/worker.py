"""The RQ worker class for this app: `rq worker -w app.jobs.worker.AppWorker notifications default periodic`.

RQ's default worker forks a work horse per job, and each horse builds the Flask app again (imports,
config, engine, first connection): most of a short job's time. AppWorker runs jobs in its own process
(like rq's SimpleWorker) with one app made at start-up, a fresh application context and a clean
database session per job. Run several workers for parallelism.
"""

from __future__ import annotations

from flask import Flask
from rq.worker import SimpleWorker

from app import create_app
from app.extensions import db


class AppWorker(SimpleWorker):
    """A non-forking RQ worker that keeps one Flask app (and its connection pool) for all its jobs."""

    def __init__(self, *args, app: Flask | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if app is None:

            app = create_app()
        self.flask_app = app

    def execute_job(self, job, queue) -> None:

        with self.flask_app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()  # the next job starts with no leftover state or open transaction

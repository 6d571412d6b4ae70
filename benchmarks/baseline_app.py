"""The yardstick for submission throughput: a bare Flask + SQLAlchemy endpoint that inserts one row.

Served by the harness with the same gunicorn workers and threads as the application:
    BENCH_DATABASE_URL=postgresql://… gunicorn benchmarks.baseline_app:app
"""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa
from flask import Flask, request

engine = sa.create_engine(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lapor_bench"),
                          pool_pre_ping=True)
meta = sa.MetaData()
report = sa.Table(
    "baseline_report", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("reporter_email", sa.String(255)),
)
meta.create_all(engine, checkfirst=True)
app = Flask(__name__)


@app.post("/submit")
def submit():
    with engine.begin() as conn:
        conn.execute(report.insert().values(code=uuid.uuid4().hex, title=request.form.get("title", ""),
                                            description=request.form.get("description", ""),
                                            reporter_email=request.form.get("reporter_email")))
    return "", 303, {"Location": "/done"}

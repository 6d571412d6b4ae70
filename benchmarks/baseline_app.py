"""The yardsticks: a bare Flask + SQLAlchemy endpoint that inserts one row (submission throughput), and a bare
page that renders a Jinja template of a given size (the fixed cost of a request: ``/page?bytes=N``).

Served by the harness with the same gunicorn workers and threads as the application:
    BENCH_DATABASE_URL=postgresql://… gunicorn benchmarks.baseline_app:app
"""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa
from flask import Flask, render_template_string, request

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


#: A template with a loop, as a real page has, rendering about ``bytes`` bytes.
PAGE = """<!doctype html><html lang="id"><head><title>{{ title }}</title></head><body>
<main>{% for i in range(rows) %}<p class="row">Baris {{ i }}: {{ text }}</p>
{% endfor %}</main></body></html>"""
ROW_BYTES = 80


@app.get("/page")
def page():
    rows = max(1, int(request.args.get("bytes", 8000)) // ROW_BYTES)
    return render_template_string(PAGE, title="Halaman", rows=rows, text="x" * (ROW_BYTES - 34))

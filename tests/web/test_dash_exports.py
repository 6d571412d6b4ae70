"""Exports of the region's complaints (app/complaints/exports.py) through the staff pages: the inbox's filters and
visibility, identity only for the complaint unit, formula injection neutralised in CSV and XLSX, the large export
as a job with its progress and an expiring link for its user only, tenant isolation, and the records it leaves."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from rq.job import Job
from sqlalchemy import select

from app.accounts.audit import Action, SecurityEvent
from app.complaints import exports
from app.complaints.exports import ComplaintExport, ExportStatus
from app.complaints.models import Complaint, ComplaintEvent
from app.jobs.worker import AppWorker
from app.privacy.service import processing_trail
from app.storage import storage
from app.tenancy.models import utcnow
from app.tenancy.scope import tenant_scope
from tests.jobs.test_outbox import rq_redis  # noqa: F401  (fixture)
from tests.web.staff_support import login, make_staff, submit, verify_and_dispose

FORMULA_TITLE = '=HYPERLINK("http://contoh.id/x","Klik")'
FORMULA_NAME = "@SUM(1+1)*cmd"
BASE_COLUMNS = 13


@pytest.fixture()
def world(db, bjm, ktg, make_user):
    """Banjarmasin: two complaints (one disposed to PUPR, one whose title and reporter are formulas), one
    anonymous aspirasi; Katingan: one complaint. Staff of both."""
    officer = make_staff(make_user, bjm, "officer")
    a = submit(db, bjm, title="Jalan berlubang di Pasar Lama", location_text="-3.31, 114.59 Pasar Lama")
    a = verify_and_dispose(db, bjm, a, officer, "pupr")
    b = submit(db, bjm, title=FORMULA_TITLE, reporter_name=FORMULA_NAME, reporter_phone="+6281234567001")
    c = submit(db, bjm, privacy="anonim", complaint_class="aspirasi", title="Usul taman kota di Kayu Tangi",
               reporter_name="Rahasia Sekali")
    k = submit(db, ktg, title="Jembatan Katingan rusak parah", reporter_name="Warga Katingan")
    return {"officer": officer, "liaison": make_staff(make_user, bjm, "liaison", agency_code="pupr"),
            "officer2": make_staff(make_user, bjm, "officer"), "ktg_officer": make_staff(make_user, ktg, "officer"),
            "a": a, "b": b, "c": c, "k": k, "ktg": ktg}


def _export(client, slug="banjarmasin", **form):
    return client.post(f"/{slug}/staff/complaints/export", data=form)


def _csv(resp) -> list[list[str]]:
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_unit_csv_export_has_the_filtered_rows_with_identity_when_asked(app, db, bjm, world):
    client = login(app, bjm, world["officer"])
    resp = _export(client, fmt="csv", identity="y", **{"class": "pengaduan"})
    assert resp.status_code == 200, resp.text[:300]
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "private, no-store"
    head, *rows = _csv(resp)
    assert len(head) == BASE_COLUMNS + 3
    assert sorted(r[0] for r in rows) == sorted([world["a"].code, world["b"].code])  # not the aspirasi
    by_code = {r[0]: r for r in rows}
    a = by_code[world["a"].code]
    assert a[13:] == ["Siti Norhayati Rahmah", "siti.rahmah@contoh.id", "'+6281234567890"]
    assert a[5] == "Dinas PUPR" and a[11] == "Jalan berlubang di Pasar Lama"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", a[1])  # local time, no offset
    assert a[12] == "'-3.31, 114.59 Pasar Lama"


def test_identity_stays_out_unless_the_unit_asks_and_never_for_a_liaison(app, db, bjm, world):
    unit = login(app, bjm, world["officer"])
    head, *rows = _csv(_export(unit, fmt="csv"))
    assert len(head) == BASE_COLUMNS and len(rows) == 3
    assert "Siti Norhayati Rahmah" not in _export(unit, fmt="csv").text
    liaison = login(app, bjm, world["liaison"])
    resp = _export(liaison, fmt="xlsx", identity="y")
    assert resp.status_code == 200
    ws = _xlsx(resp.data)
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert len(values[0]) == BASE_COLUMNS
    assert [r[0] for r in values[1:]] == [world["a"].code]  # only PUPR's report
    flat = " ".join(str(v) for row in values for v in row)
    assert "Siti Norhayati Rahmah" not in flat and "siti.rahmah@contoh.id" not in flat


def test_unit_sees_an_anonymous_reporters_identity_only_in_its_own_export(app, db, bjm, world):
    head, *rows = _csv(_export(login(app, bjm, world["officer"]), fmt="csv", identity="y", **{"class": "aspirasi"}))
    assert [r[13] for r in rows] == ["Rahasia Sekali"]


def test_formula_injection_is_neutralised_in_csv(app, db, bjm, world):
    _head, *rows = _csv(_export(login(app, bjm, world["officer"]), fmt="csv", identity="y"))
    b = next(r for r in rows if r[0] == world["b"].code)
    assert b[11] == "'" + FORMULA_TITLE
    assert b[13] == "'" + FORMULA_NAME
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)


def test_formula_injection_is_neutralised_in_xlsx(app, db, bjm, world):
    resp = _export(login(app, bjm, world["officer"]), fmt="xlsx", identity="y")
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = _xlsx(resp.data)
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == world["b"].code)
    title, name = row[11], row[13]
    assert title.value == FORMULA_TITLE and title.data_type == "s"  # text, not a formula
    assert name.value == FORMULA_NAME and name.data_type == "s"
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)
    assert row[1].is_date  # received: a real local date-time


def test_neutralise_covers_every_trigger():
    for text in ("=1+2", "+1", "-1", "@x", "\tx", "\rx"):
        assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("Jalan") == "Jalan" and exports.neutralise(5) == 5 and exports.neutralise(None) is None


def test_an_export_never_contains_another_regions_rows(app, db, bjm, ktg, world):
    text = _export(login(app, bjm, world["officer"]), fmt="csv", identity="y").text
    assert world["k"].code not in text and "Warga Katingan" not in text
    ktg_text = _export(login(app, ktg, world["ktg_officer"]), "katingan", fmt="csv", identity="y").text
    assert world["k"].code in ktg_text and world["a"].code not in ktg_text and "Siti" not in ktg_text


def test_each_export_is_registered_and_logged_and_identity_goes_into_each_reporters_trail(app, db, bjm, world):
    client = login(app, bjm, world["officer"])
    _export(client, fmt="csv")
    _export(client, fmt="xlsx", identity="y", **{"class": "pengaduan"})
    db.session.expire_all()
    with tenant_scope(bjm.id):
        items = db.session.scalars(select(ComplaintExport).order_by(ComplaintExport.id)).all()
        assert [(e.format, e.include_identity, e.rows_total, e.identity_rows, e.status) for e in items] == [
            ("csv", False, 3, 0, "done"), ("xlsx", True, 2, 2, "done")]
        logged = db.session.scalars(select(SecurityEvent).filter_by(action=Action.COMPLAINTS_EXPORTED)
                                    .order_by(SecurityEvent.id)).all()
        assert [(e.user_id, e.detail["rows"], e.detail["identity"]) for e in logged] == [
            (world["officer"].id, 3, False), (world["officer"].id, 2, True)]
        trail = db.session.execute(select(ComplaintEvent.complaint_id, ComplaintEvent.actor_id).filter_by(
            kind="data_export")).all()
    assert sorted(trail) == sorted([(world["a"].id, world["officer"].id), (world["b"].id, world["officer"].id)])
    with tenant_scope(bjm.id):
        steps = processing_trail(db.session.get(Complaint, world["a"].id))
    assert any(s["action"] == "data_export" for s in steps)


@pytest.fixture()
def small_threshold(app):
    old = app.config.get("EXPORT_INLINE_MAX_ROWS")
    app.config["EXPORT_INLINE_MAX_ROWS"] = 1
    yield
    app.config["EXPORT_INLINE_MAX_ROWS"] = old


def _export_row(db, tenant, export_id) -> ComplaintExport:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        item = db.session.get(ComplaintExport, export_id)
        item.status, item.storage_key  # noqa: B018  (load while bound)
        return item


def test_a_large_export_runs_as_a_job_with_progress_and_a_link_that_expires(app, db, bjm, world, small_threshold):
    client = login(app, bjm, world["officer"])
    resp = _export(client, fmt="xlsx", **{"class": "pengaduan"})
    assert resp.status_code == 303
    status_url = resp.headers["Location"]
    export_id = int(status_url.rstrip("/").rsplit("/", 1)[1])
    page = client.get(status_url)  # in-process jobs: made right after the request
    assert page.status_code == 200 and "Refresh" not in page.headers
    assert re.search(r"\b2\b[^<]*\b2\b", page.text.split('id="export-count"')[1].split("</p>")[0])
    link = re.search(r'id="export-download" href="([^"]+)"', page.text).group(1)
    item = _export_row(db, bjm, export_id)
    assert item.status == ExportStatus.DONE and item.rows_done == 2 and item.storage_key.startswith(f"{bjm.id}/")
    assert item.expires_at is not None and item.expires_at > utcnow()
    assert storage(app).exists(item.storage_key)

    file = client.get(link)
    assert file.status_code == 200 and file.headers["Cache-Control"] == "private, no-store"
    assert sorted(r[0].value for r in _xlsx(file.data).iter_rows(min_row=2)) == sorted(
        [world["a"].code, world["b"].code])

    # Another officer of the same region, and anyone of Katingan, get nothing through the link or the page.
    other = login(app, bjm, world["officer2"])
    assert other.get(link).status_code == 404 and other.get(status_url).status_code == 404
    ktg_client = login(app, world["ktg"], world["ktg_officer"])
    assert ktg_client.get(link.replace("/banjarmasin/", "/katingan/")).status_code == 404
    assert ktg_client.get(status_url.replace("/banjarmasin/", "/katingan/")).status_code == 404
    assert client.get(link[:-3] + "abc").status_code == 404  # forged

    # Expired: 410, and the file is gone.
    with tenant_scope(bjm.id):
        item = db.session.get(ComplaintExport, export_id)
        item.expires_at = utcnow() - timedelta(seconds=1)
        key = item.storage_key
        db.session.commit()
    gone = client.get(link)
    assert gone.status_code == 410 and 'id="export-expired"' in gone.text
    assert not storage(app).exists(key)
    assert _export_row(db, bjm, export_id).status == ExportStatus.EXPIRED


def test_the_sweep_deletes_expired_files(app, db, bjm, world, small_threshold):
    client = login(app, bjm, world["officer"])
    export_id = int(_export(client, fmt="csv").headers["Location"].rsplit("/", 1)[1])
    key = _export_row(db, bjm, export_id).storage_key
    with tenant_scope(bjm.id):
        assert exports.expire_exports(bjm) == {}  # not yet
        counts = exports.expire_exports(bjm, now=utcnow() + timedelta(seconds=exports.link_max_age() + 5))
        db.session.commit()
    assert counts == {"exports_expired": 1} and not storage(app).exists(key)
    assert _export_row(db, bjm, export_id).status == ExportStatus.EXPIRED


@pytest.mark.redis
def test_under_rq_the_page_shows_rows_done_of_total_until_the_worker_finishes(app, db, bjm, world, small_threshold,
                                                                              rq_redis):  # noqa: F811
    client = login(app, bjm, world["officer"])
    status_url = _export(client, fmt="csv").headers["Location"]
    export_id = int(status_url.rsplit("/", 1)[1])
    item = _export_row(db, bjm, export_id)
    assert item.status == ExportStatus.QUEUED and item.rows_total == 3
    waiting = client.get(status_url)
    assert waiting.headers["Refresh"] == "3" and 'id="export-download"' not in waiting.text
    assert "<progress max=\"3\" value=\"0\"" in waiting.text
    job = Job.fetch(f"outbox-{item.outbox_id}", connection=rq_redis)
    job.meta["rows_done"] = 2  # as the job reports it between batches
    job.save_meta()
    assert "<progress max=\"3\" value=\"2\"" in client.get(status_url).text
    AppWorker(["default"], connection=rq_redis, app=app).work(burst=True)
    assert Job.fetch(f"outbox-{item.outbox_id}", connection=rq_redis).get_meta()["rows_done"] == 3
    done = client.get(status_url)
    assert "Refresh" not in done.headers and 'id="export-download"' in done.text
    link = re.search(r'id="export-download" href="([^"]+)"', done.text).group(1)
    _head, *rows = _csv(client.get(link))
    assert len(rows) == 3


def test_the_inbox_offers_the_export_with_its_current_filters(app, db, bjm, world):
    client = login(app, bjm, world["officer"])
    html = client.get("/banjarmasin/staff/complaints?class=pengaduan&q=jalan").text
    form = html.split('id="export"')[1].split("</form>")[0]
    assert '<input type="hidden" name="class" value="pengaduan">' in form
    assert '<input type="hidden" name="q" value="jalan">' in form
    assert 'name="fmt" value="csv"' in form and 'name="fmt" value="xlsx"' in form and 'name="identity"' in form
    liaison_html = login(app, bjm, world["liaison"]).get("/banjarmasin/staff/complaints").text
    assert 'name="identity"' not in liaison_html.split('id="export"')[1].split("</form>")[0]


def test_dashboard_shows_the_charts(app, db, bjm, world):
    html = login(app, bjm, world["officer"]).get("/banjarmasin/staff/").text
    for key in ("weekly", "category", "agency", "ontime"):
        assert f'id="chart-{key}"' in html
    assert html.count('role="img"') >= 4 and "<desc id=\"chart-weekly-desc\">" in html
    assert 'id="figure-satisfaction"' in html  # no rating yet: said in words, with its (empty) table

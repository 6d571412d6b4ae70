"""Exports of the region's complaints as CSV and XLSX, with the inbox's filters and visibility.

* Rows: the reports the user may see (``inbox.visible_query``: a liaison only their agency's), narrowed by the
  inbox's filters, in the inbox's order.
* Reporter identity (name, email, phone) only for the complaint unit, and only when asked for; a liaison never
  gets it. A report whose processing is restricted (UU PDP) keeps its identity out of every export. Each report
  whose identity went into a file gets a ``data_export`` event, so the reporter's processing trail
  (``app.privacy.service.processing_trail``) shows it; every export is also in the region's security log and in
  the export register (:class:`ComplaintExport`).
* Formula injection (OWASP "CSV injection"): in CSV a text starting with ``= + - @``, a tab or a carriage return
  gets a leading apostrophe; in XLSX every text is written as a text cell (never a formula), quote-prefixed.
* Up to ``EXPORT_INLINE_MAX_ROWS`` rows (default 2000) the file is made in the request and downloaded at once.
  Above, the export is a background job (``exports.build``, through the outbox: RQ, or in-process without Redis)
  with a progress page (rows done / total, from the RQ job's meta while it runs), and a signed download link for
  the user who asked only, expiring with its file after ``EXPORT_LINK_MAX_AGE`` seconds (the deadline sweep
  deletes expired files; an expired link answers 410 and deletes its file at once too).
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from rq import get_current_job
from rq.job import Job
from sqlalchemy import insert, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import Gone, NotFound

from app.accounts import audit
from app.accounts.models import Role, User
from app.complaints import workflow
from app.complaints.access import HIDDEN_RESTRICTED, is_unit
from app.complaints.inbox import CLOCK_STATUSES, InboxFilters, class_label, count_of, inbox_query, visible_query
from app.complaints.models import ComplaintEvent, Rating, Visibility
from app.extensions import db
from app.i18n import zone_abbr
from app.jobs import job
from app.jobs.outbox import enqueue
from app.jobs.queue import redis_connection
from app.jobs.sweeps import SWEEPS
from app.storage import storage
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, current_tenant, current_tenant_id, scoped_table_args, tenant_fk

log = logging.getLogger(__name__)

FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}
#: First characters that make a spreadsheet program read a cell as a formula (or split it: tab, CR).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TOKEN_SALT = "complaint-export-download"  # noqa: S105 (a salt, not a secret)
#: Rows fetched (and progress reported) at a time.
BATCH = 500
DEFAULT_INLINE_MAX_ROWS = 2000
DEFAULT_LINK_MAX_AGE = 24 * 3600


class ExportStatus:
    QUEUED = "queued"  # waiting for (or being made by) the job
    DONE = "done"  # made: downloaded at once (no file kept) or stored until it expires
    FAILED = "failed"
    EXPIRED = "expired"  # the file was deleted after its link expired
    ALL = (QUEUED, DONE, FAILED, EXPIRED)


class ComplaintExport(TenantScoped, db.Model):
    """One export of complaints: the register of who exported what, and the state of a background export."""

    __tablename__ = "complaint_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The language of the file's headers and labels (the user's at the time of asking).
    locale: Mapped[str] = mapped_column(sa.String(10), default="id")
    user_id: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    format: Mapped[str] = mapped_column(sa.String(10))
    #: The inbox filters (InboxFilters as JSON: dates as ISO strings).
    filters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    include_identity: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(10), default=ExportStatus.QUEUED)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    #: Reports whose reporter identity went into the file.
    identity_rows: Mapped[int] = mapped_column(default=0)
    #: The file under storage (background exports only), until it expires.
    storage_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: The outbox row of the job (its RQ job id is ``outbox-<id>``), for the progress page.
    outbox_id: Mapped[int | None] = mapped_column(sa.Integer)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(sa.String(200))

    __table_args__ = scoped_table_args(
        tenant_fk(["user_id"], "user_account"),
        sa.Index("ix_complaint_export_tenant_status_expires", "tenant_id", "status", "expires_at"),
        sa.CheckConstraint(f"status IN {ExportStatus.ALL!r}", name="status"),
        sa.CheckConstraint("format IN ('csv', 'xlsx')", name="format"),
    )

    @property
    def filename(self) -> str:
        return f"pengaduan-{self.created_at:%Y%m%d-%H%M}-{self.id}.{FORMATS[self.format][1]}"

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]


# ---------------------------------------------------------------- cells and files


def neutralise(value: object) -> object:
    """A text a spreadsheet would read as a formula gets a leading apostrophe; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def identity_allowed(user, requested: bool) -> bool:
    """Only the complaint unit may export reporters' identity, and only when it asks for it."""
    return bool(requested) and is_unit(user)


def header(with_identity: bool, tz_name: str) -> list[str]:
    zone = zone_abbr(tz_name)
    cols = [_("Code"), _("Received (%(zone)s)", zone=zone), _("Status"), _("Class"), _("Category"), _("Agencies"),
            _("Stage deadline (%(zone)s)", zone=zone), _("Overdue"), _("Answered at (%(zone)s)", zone=zone),
            _("Closed at (%(zone)s)", zone=zone), _("Rating"), _("Title"), _("Location")]
    if with_identity:
        cols += [_("Reporter name"), _("Reporter email"), _("Reporter phone")]
    return cols


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz).replace(tzinfo=None, microsecond=0) if value is not None else None


def _ratings(ids: list[int]) -> dict[int, int]:
    """The latest rating (highest answer cycle) of each report."""
    found: dict[int, tuple[int, int]] = {}
    if ids:
        for cid, cycle, score in db.session.execute(
                select(Rating.complaint_id, Rating.cycle, Rating.score).where(Rating.complaint_id.in_(ids))):
            if cid not in found or cycle > found[cid][0]:
                found[cid] = (cycle, score)
    return {cid: score for cid, (_c, score) in found.items()}


@dataclass
class Row:
    complaint_id: int
    version: int
    cells: list
    #: The reporter's identity is in ``cells``.
    identity: bool


def rows(user, filters: InboxFilters, with_identity: bool, locale: str, now: datetime | None = None
         ) -> Iterator[Row]:
    """The export's rows, in the inbox's order, fetched :data:`BATCH` at a time. Times are local (naive)."""
    tenant = current_tenant()
    tz = ZoneInfo(tenant.timezone)
    now = now or utcnow()
    yes, no = _("yes"), _("no")
    stmt = inbox_query(user, filters, now).execution_options(yield_per=BATCH)
    for batch in db.session.execute(stmt).scalars().partitions():
        ratings = _ratings([c.id for c in batch])
        for c in batch:
            overdue = c.status in CLOCK_STATUSES and c.due_at is not None and c.due_at < now
            cells = [
                c.code, _local(c.submitted_at, tz), workflow.status_label(c.status), class_label(c.complaint_class),
                c.category.label(locale) if c.category else "",
                ", ".join(d.agency.short_name for d in c.dispositions if d.active),
                _local(c.due_at, tz) if c.status in CLOCK_STATUSES else None, yes if overdue else no,
                _local(c.answered_at, tz), _local(c.closed_at, tz), ratings.get(c.id), c.title, c.location_text or "",
            ]
            shown = False
            if with_identity:
                if c.processing_restricted:
                    cells += [str(HIDDEN_RESTRICTED), "", ""]
                else:
                    cells += [c.reporter_name or "", c.reporter_email or "", c.reporter_phone or ""]
                    shown = bool(c.reporter_name or c.reporter_email or c.reporter_phone)
            yield Row(c.id, c.version, cells, shown)


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return neutralise(value)


def write_csv(head: list[str], lines: Iterator[list]) -> bytes:
    """UTF-8 with a byte order mark (spreadsheet programs then read the encoding right), comma-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_csv_value(h) for h in head])
    for line in lines:
        writer.writerow([_csv_value(v) for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(head: list[str], lines: Iterator[list], title: str) -> bytes:
    """One sheet, streamed (write-only workbook); texts are text cells, never formulas."""
    # ~15 MB: loaded by the first XLSX export of a process (usually an RQ worker), not by every web worker.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31] or "Sheet")
    ws.freeze_panes = "B2"
    bold = Font(bold=True)

    def cell(value, **style):
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
            c.quotePrefix = True
        elif isinstance(value, datetime):
            c.number_format = "yyyy-mm-dd hh:mm"
        for key, v in style.items():
            setattr(c, key, v)
        return c

    ws.append([cell(h, font=bold) for h in head])
    for line in lines:
        ws.append([cell(v) for v in line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- making an export


def filters_to_json(filters: InboxFilters) -> dict:
    data = asdict(filters)
    data.pop("page", None)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items() if v is not None}


def filters_from_json(data: dict) -> InboxFilters:
    values = dict(data or {})
    for key in ("date_from", "date_to"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    return InboxFilters(**values)


def inline_max_rows() -> int:
    return int(current_app.config.get("EXPORT_INLINE_MAX_ROWS", DEFAULT_INLINE_MAX_ROWS))


def link_max_age() -> int:
    return int(current_app.config.get("EXPORT_LINK_MAX_AGE", DEFAULT_LINK_MAX_AGE))


def _record_identity_trail(export: ComplaintExport, user: User, done: list[tuple[int, int]]) -> None:
    """One ``data_export`` event per report whose identity went into the file (its reporter's processing trail).

    Written in bulk and not emitted: an export changes no report and tells nobody, but it is processing of the
    reporter's personal data, which UU PDP requires to be on record."""
    if not done:
        return
    message = _("List export #%(id)s (%(fmt)s)", id=export.id, fmt=export.format.upper())
    at = utcnow()
    tid = current_tenant_id()
    db.session.execute(insert(ComplaintEvent), [
        {"tenant_id": tid, "complaint_id": cid, "at": at, "kind": "data_export", "visibility": Visibility.INTERNAL,
         "actor_type": "staff", "actor_id": user.id, "actor_label": user.name, "message": message, "before": {},
         "after": {"export": export.id}, "version": version} for cid, version in done])


def build(export: ComplaintExport, user: User, progress: Callable[[int], None] | None = None,
          now: datetime | None = None) -> bytes:
    """Make the file of ``export`` for ``user``; records the identity trail and the counts on ``export``."""
    filters = filters_from_json(export.filters)
    with_identity = identity_allowed(user, export.include_identity)
    tz_name = current_tenant().timezone
    with force_locale(export.locale or "id"):
        head = header(with_identity, tz_name)
        trail: list[tuple[int, int]] = []
        count = 0

        def lines() -> Iterator[list]:
            nonlocal count
            for row in rows(user, filters, with_identity, export.locale or "id", now):
                if row.identity:
                    trail.append((row.complaint_id, row.version))
                count += 1
                if progress is not None and count % BATCH == 0:
                    progress(count)
                yield row.cells

        data = (write_csv(head, lines()) if export.format == "csv"
                else write_xlsx(head, lines(), _("Reports")))
        _record_identity_trail(export, user, trail)
    export.rows_done = count
    export.identity_rows = len(trail)
    if progress is not None:
        progress(count)
    return data


@dataclass
class Started:
    export: ComplaintExport
    #: The file, when made at once (small exports); None when a job makes it.
    data: bytes | None


def start_export(user: User, filters: InboxFilters, fmt: str, identity: bool, locale: str,
                 now: datetime | None = None) -> Started:
    """Register an export of the reports ``user`` sees with ``filters``: made now when small, else queued.

    :raises NotFound: for an unknown format.
    """
    if fmt not in FORMATS:
        raise NotFound()
    now = now or utcnow()
    filters = InboxFilters(**{**asdict(filters), "page": 1})
    total = count_of(visible_query(user, filters, now))
    export = ComplaintExport(user_id=user.id, format=fmt, filters=filters_to_json(filters), locale=locale,
                             include_identity=identity_allowed(user, identity), rows_total=total,
                             status=ExportStatus.QUEUED)
    db.session.add(export)
    db.session.flush()
    audit.record(audit.Action.COMPLAINTS_EXPORTED, user, export=export.id, format=fmt, rows=total,
                 identity=export.include_identity)
    if total <= inline_max_rows():
        data = build(export, user, now=now)
        export.status = ExportStatus.DONE
        export.finished_at = utcnow()
        return Started(export, data)
    export.outbox_id = enqueue("exports.build", export_id=export.id).id
    return Started(export, None)


@job("exports.build")
def build_export(tenant_id: int, export_id: int) -> str:
    """The background export: make the file, store it under the tenant's folder, set its expiry (idempotent)."""
    export = db.session.get(ComplaintExport, export_id)
    if export is None or export.status != ExportStatus.QUEUED:
        return "skip"
    user = db.session.get(User, export.user_id)
    if user is None or not user.active or user.role not in Role.STAFF:
        export.status = ExportStatus.FAILED
        export.error = "account no longer active"
        return "refused"
    rq_job = get_current_job()

    def progress(done: int) -> None:
        if rq_job is not None:  # under RQ: the progress page reads it while this transaction is still open
            rq_job.meta["rows_done"] = done
            rq_job.save_meta()

    data = build(export, user, progress)
    key = f"{tenant_id}/exports/{export.id}-{secrets.token_hex(12)}.{FORMATS[export.format][1]}"
    storage().put(key, data, export.content_type)
    export.storage_key = key
    export.status = ExportStatus.DONE
    export.finished_at = utcnow()
    export.expires_at = export.finished_at + timedelta(seconds=link_max_age())
    return "done"


# ---------------------------------------------------------------- progress and download


def access_export(export_id: int, user: User) -> ComplaintExport:
    """The user's own export (of the bound tenant). :raises NotFound: for any other."""
    export = db.session.execute(select(ComplaintExport).where(
        ComplaintExport.id == export_id, ComplaintExport.user_id == user.id)).scalar_one_or_none()
    if export is None:
        raise NotFound()
    return export


@dataclass
class Progress:
    status: str
    done: int
    total: int
    running: bool

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


def progress_of(export: ComplaintExport) -> Progress:
    """Rows done / total: from the row once finished, from the RQ job's meta while it runs."""
    if export.status != ExportStatus.QUEUED:
        return Progress(export.status, export.rows_done, export.rows_total, False)
    done, running = 0, False
    if export.outbox_id is not None and not current_app.config["JOBS_INLINE"]:
        try:
            rq_job = Job.fetch(f"outbox-{export.outbox_id}", connection=redis_connection())
            done = int(rq_job.get_meta(refresh=True).get("rows_done", 0))
            running = rq_job.get_status(refresh=False) == "started"
        except Exception as exc:  # noqa: BLE001 (not relayed yet, or Redis away: the page shows "waiting")
            log.debug("export %s: no job progress (%s)", export.id, type(exc).__name__)
    return Progress(export.status, done, export.rows_total, running)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def download_token(export: ComplaintExport) -> str:
    """The signed download link's token: this export, this user, this tenant."""
    return _serializer().dumps({"e": export.id, "u": export.user_id, "t": export.tenant_id})


def _expire(export: ComplaintExport) -> None:
    if export.storage_key:
        storage().delete(export.storage_key)
    export.storage_key = None
    export.status = ExportStatus.EXPIRED


def open_download(token: str, user: User, now: datetime | None = None) -> tuple[ComplaintExport, bytes]:
    """The file behind a download link, for the user it was made for, in its own tenant.

    :raises NotFound: a forged link, another user's or another tenant's;
    :raises Gone: an expired link (its file is deleted now if the sweep has not yet).
    """
    now = now or utcnow()
    try:
        data = _serializer().loads(token, max_age=link_max_age())
    except SignatureExpired:
        raise Gone() from None
    except BadSignature:
        raise NotFound() from None
    if not isinstance(data, dict) or data.get("t") != current_tenant_id() or data.get("u") != user.id:
        raise NotFound()
    export = access_export(int(data.get("e") or 0), user)
    if export.status == ExportStatus.EXPIRED or (export.expires_at is not None and export.expires_at <= now):
        _expire(export)
        raise Gone()
    if export.status != ExportStatus.DONE or not export.storage_key:
        raise NotFound()
    try:
        return export, storage().get(export.storage_key)
    except FileNotFoundError:
        raise NotFound() from None


def expire_exports(tenant, now: datetime | None = None) -> dict:
    """Sweep step: delete the files of the tenant's expired exports."""
    now = now or utcnow()
    expired = db.session.execute(select(ComplaintExport).where(
        ComplaintExport.status == ExportStatus.DONE, ComplaintExport.expires_at.is_not(None),
        ComplaintExport.expires_at <= now)).scalars().all()
    for export in expired:
        _expire(export)
    return {"exports_expired": len(expired)} if expired else {}


SWEEPS.append(expire_exports)

"""Stored duplicate candidates: the pairs the inbox filter "possible duplicates" reads.

A report's candidates are recomputed by the ``duplicates.scan`` job, queued through the outbox in the transaction
that submits the report (or receives it from another region), reopens it, or changes what the candidate test
compares (its title or category at verification or edit; the description and the place cannot be edited). The job
runs :func:`app.complaints.duplicates.candidates` as the complaint unit sees them (the whole region) and replaces
every pair that names the report, both ways round; running it twice gives the same rows. Without Redis the job
runs in-process right after the request. ``flask duplicates scan`` fills the pairs of existing reports.

When a report leaves the open set (merged, closed, ended) the job removes its pairs, so the table holds only open
reports' pairs and its reads do not grow with history. The job keeps ``complaint.has_duplicate_candidate`` equal
to "a stored pair names this report" for the report and its old and new partners: the complaint unit's inbox
filter reads the flag (app.complaints.duplicates.has_candidate).

The candidate test is symmetric (same category or none, the time window, the box and the text measure), so the
pairs of A found when A is scanned are also B's: a report submitted later is paired with earlier ones by its own
scan, without rescanning them.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import delete, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from app.complaints.duplicates import MAX_ROWS, DuplicateCandidate, candidates
from app.complaints.events import EventContext, subscribe
from app.complaints.models import Complaint, Status
from app.extensions import db
from app.jobs import job
from app.jobs.outbox import enqueue
from app.tenancy.models import Tenant, utcnow
from app.tenancy.scope import current_tenant_id, tenant_scope

JOB = "duplicates.scan"
#: First key of the advisory lock that makes one region's scans take turns (the second is the region's id).
SCAN_LOCK_SPACE = 17
#: Events after which a report's candidates may differ: it is new or open again, or its compared fields changed.
RESCAN_EVENTS = ("submit", "receive_referral", "reopen")
#: Fields of an edit (or verification) that the candidate test compares.
COMPARED_FIELDS = ("title", "description", "category_id", "location_text", "latitude", "longitude")


def refresh(complaint_id: int) -> int:
    """Replace the stored pairs of one report of the bound region with its current candidates (both ways
    round) and bring the ``has_duplicate_candidate`` flags of it and of its old and new partners in line;
    returns how many candidates it has. Idempotent."""
    tenant_id = current_tenant_id()
    _one_scan_at_a_time(tenant_id)
    pair = DuplicateCandidate
    partners = set(db.session.execute(select(pair.other_id).where(
        pair.tenant_id == tenant_id, pair.complaint_id == complaint_id)).scalars())
    db.session.execute(delete(pair).where(
        pair.tenant_id == tenant_id, or_(pair.complaint_id == complaint_id, pair.other_id == complaint_id))
        .execution_options(synchronize_session=False))
    c = db.session.get(Complaint, complaint_id)
    found = candidates(c, None, limit=MAX_ROWS) if c is not None and c.status in Status.OPEN else []
    if found:
        now = utcnow()
        rows = [{"tenant_id": tenant_id, "complaint_id": a, "other_id": b, "score": cand.score, "found_at": now}
                for cand in found for a, b in ((c.id, cand.complaint.id), (cand.complaint.id, c.id))]
        dialect = postgresql if _postgres() else sqlite
        db.session.execute(dialect.insert(pair).values(rows).on_conflict_do_nothing(
            index_elements=["tenant_id", "complaint_id", "other_id"]))
    _sync_flags(tenant_id, {complaint_id} | partners | {cand.complaint.id for cand in found})
    return len(found)


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _one_scan_at_a_time(tenant_id: int) -> None:
    """PostgreSQL: scans of one region take turns (a transaction-scoped advisory lock), so a partner's flag is
    never computed from pairs another scan is replacing at the same moment. SQLite writes one at a time anyway."""
    if _postgres():
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, :tenant)"),
                           {"space": SCAN_LOCK_SPACE, "tenant": tenant_id})


def _sync_flags(tenant_id: int, ids: set[int]) -> None:
    """Set ``has_duplicate_candidate`` of ``ids`` to whether a stored pair names them (only rows that differ are
    written; ``updated_at`` and the version stay: the report itself did not change)."""
    pair = DuplicateCandidate
    stored = exists().where(pair.tenant_id == Complaint.tenant_id, pair.complaint_id == Complaint.id)
    db.session.execute(
        update(Complaint).where(Complaint.tenant_id == tenant_id, Complaint.id.in_(sorted(ids)),
                                Complaint.has_duplicate_candidate != stored)
        .values(has_duplicate_candidate=stored, updated_at=Complaint.updated_at)
        .execution_options(synchronize_session=False))


@job(JOB)
def scan_job(tenant_id: int, complaint_id: int) -> int:
    """The outbox job: recompute one report's candidates (run inside its tenant)."""
    return refresh(complaint_id)


def on_complaint_event(c: Complaint, event, ctx: EventContext) -> None:
    """Queue a rescan in the transaction of a change that may alter the report's candidates."""
    changed = event.kind in ("verify", "edit") and any(
        (event.before or {}).get(k) != (event.after or {}).get(k) for k in COMPARED_FIELDS)
    # Leaving the open set (merged, closed, ended): the job removes its pairs, so the table holds open reports'
    # pairs only and the filter's read stays small (the filter checks the status anyway, so nothing waits on it).
    left_open = (event.before or {}).get("status") in Status.OPEN and c.status not in Status.OPEN
    if event.kind in RESCAN_EVENTS or changed or left_open:
        enqueue(JOB, complaint_id=c.id)


subscribe(on_complaint_event, order=200)


def scan_region(batch: int = 500) -> int:
    """Recompute the pairs of every open report of the bound region, committing every ``batch`` reports;
    returns how many reports were scanned."""
    ids = db.session.execute(select(Complaint.id).where(Complaint.status.in_(Status.OPEN))
                             .order_by(Complaint.id)).scalars().all()
    for n, complaint_id in enumerate(ids, 1):
        refresh(complaint_id)
        if n % batch == 0:
            db.session.commit()
    db.session.commit()
    return len(ids)


duplicates_cli = AppGroup("duplicates", help="Stored duplicate candidates (the inbox filter).")


@duplicates_cli.command("scan")
@click.option("--tenant", "slug", default=None, help="Only this region (its slug); default: every region.")
def scan_command(slug: str | None) -> None:
    """Fill the stored duplicate candidates of existing open reports (idempotent)."""
    query = select(Tenant).order_by(Tenant.slug)
    if slug:
        query = query.filter_by(slug=slug)
    tenants = db.session.execute(query).scalars().all()
    if slug and not tenants:
        raise click.ClickException(f"unknown tenant {slug!r}")
    for t in tenants:
        tenant_id, name = t.id, t.slug
        with tenant_scope(tenant_id):
            scanned = scan_region()
            pairs = db.session.execute(select(func.count()).select_from(DuplicateCandidate)).scalar_one()
        click.echo(f"{name}: {scanned} open reports scanned, {pairs // 2} candidate pairs")

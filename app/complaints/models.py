"""Complaints and everything that hangs off them. All rows are tenant-owned."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401  (sa.orm.Session for the listener)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy.models import UTCDateTime, utcnow
from app.tenancy.scope import TenantScoped, scoped_table_args, tenant_fk


class Status:
    SUBMITTED = "submitted"  # belum diverifikasi
    ON_HOLD = "on_hold"  # tunda: waiting for the citizen
    VERIFIED = "verified"  # terverifikasi, awaiting disposition
    DISPOSED = "disposed"  # didisposisikan: the agency works on it
    ANSWERED = "answered"  # tindak lanjut published; waiting for the citizen
    CLOSED = "closed"  # selesai
    REFERRED = "referred"  # bukan wewenang: sent to the body with authority
    ARCHIVED = "archived"  # diarsipkan
    MERGED = "merged"  # duplicate of another complaint
    ALL = (SUBMITTED, ON_HOLD, VERIFIED, DISPOSED, ANSWERED, CLOSED, REFERRED, ARCHIVED, MERGED)
    OPEN = (SUBMITTED, ON_HOLD, VERIFIED, DISPOSED, ANSWERED)
    TERMINAL = (CLOSED, REFERRED, ARCHIVED, MERGED)


class Privacy:
    PUBLIC = "public"
    ANONYMOUS = "anonim"  # identity hidden outside the complaint unit
    CONFIDENTIAL = "rahasia"  # the complaint itself is not public
    ALL = (PUBLIC, ANONYMOUS, CONFIDENTIAL)


CLASSES = ("aspirasi", "informasi", "pengaduan", "pengawasan")


class Complaint(TenantScoped, db.Model):
    """A citizen's report (aspirasi, information request or complaint)."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Tracking code, unique on the platform (tenant prefixes are unique), e.g. BJM-26-00123.
    code: Mapped[str] = mapped_column(sa.String(20))
    #: Secret part of the private tracking link.
    access_token: Mapped[str] = mapped_column(sa.String(64))
    #: Idempotency key from the submit form: a double submit creates one complaint.
    submission_key: Mapped[str | None] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    category_id: Mapped[int | None] = mapped_column(sa.Integer)
    complaint_class: Mapped[str] = mapped_column(sa.String(20))
    tags: Mapped[list] = mapped_column(sa.JSON, default=list)
    location_text: Mapped[str | None] = mapped_column(sa.String(300))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    #: Identity hidden from the public and from agencies.
    anonymous: Mapped[bool] = mapped_column(default=False)
    #: Not shown on public pages at all.
    confidential: Mapped[bool] = mapped_column(default=False)
    #: Personal data (UU PDP): shown only to those who need it, never logged.
    reporter_name: Mapped[str | None] = mapped_column(sa.String(120))
    reporter_email: Mapped[str | None] = mapped_column(sa.String(255))
    reporter_phone: Mapped[str | None] = mapped_column(sa.String(30))
    reporter_user_id: Mapped[int | None] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.String(20), default="web")
    status: Mapped[str] = mapped_column(sa.String(20), default=Status.SUBMITTED, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The deadline of the current stage (UTC) and which stage it belongs to.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_stage: Mapped[str | None] = mapped_column(sa.String(20))
    #: When the current stage's clock started, and working days paused (tunda) since.
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_working_days: Mapped[int] = mapped_column(default=0)
    #: on_time | due_soon | overdue (kept current by the periodic sweep).
    deadline_state: Mapped[str] = mapped_column(sa.String(20), default="on_time")
    #: Whether the current stage was handled within its deadline (for the transparency page).
    verified_on_time: Mapped[bool | None] = mapped_column()
    answered_on_time: Mapped[bool | None] = mapped_column()
    escalated_stage: Mapped[str | None] = mapped_column(sa.String(20))
    refer_to: Mapped[str | None] = mapped_column(sa.String(200))
    #: Referred here by another region on the platform (app.complaints.referrals) and not yet accepted or declined
    #: by this complaint unit: only that decision or an internal note is possible meanwhile, and no clock runs.
    awaiting_referral_decision: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    archive_reason: Mapped[str | None] = mapped_column(sa.String(300))
    merged_into_id: Mapped[int | None] = mapped_column(sa.Integer)
    reopen_count: Mapped[int] = mapped_column(default=0)
    #: When an agency's liaison last sent the report back to the complaint unit; cleared by the unit's next
    #: disposition (the inbox's "sent back" filter). The event log keeps who, why and when.
    sent_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: UU PDP restriction of processing: no further sharing (dispositions, merges), and the identity is
    #: shown to the complaint unit only. Set and lifted by the unit, each time with an event.
    processing_restricted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: A test report (e.g. the one sent before go-live): left out of every statistic (central comparison,
    #: peer medians, the transparency page, the command centre). Set and cleared by the complaint unit,
    #: each time with an internal event (workflow ``mark_test`` / ``unmark_test``).
    is_test: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The report has a stored duplicate candidate (app.complaints.duplicate_pairs keeps it equal to "a row of
    #: ``duplicate_candidate`` names it"), so the complaint unit's inbox filter counts through a partial index
    #: instead of probing the pairs once per open report.
    has_duplicate_candidate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: When the retention purge removed the reporter's identity (None: not purged).
    identity_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Optimistic locking: a stale write raises instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "code"),
        sa.UniqueConstraint("tenant_id", "access_token"),
        sa.UniqueConstraint("tenant_id", "submission_key"),
        tenant_fk(["category_id"], "category"),
        tenant_fk(["reporter_user_id"], "user_account"),
        tenant_fk(["merged_into_id"], "complaint"),
        sa.Index("ix_complaint_tenant_status_due", "tenant_id", "status", "due_at"),
        sa.Index("ix_complaint_tenant_submitted", "tenant_id", "submitted_at"),
        # "Is this already reported?" (app.complaints.nearby): a bounding box of open reports.
        sa.Index("ix_complaint_tenant_status_geo", "tenant_id", "status", "latitude", "longitude"),
        # Duplicate candidates (app.complaints.duplicates): one category's reports in a time window.
        sa.Index("ix_complaint_tenant_category_submitted", "tenant_id", "category_id", "submitted_at"),
        # The inbox's "sent back" filter: only the few reports waiting for the unit after a send-back.
        sa.Index("ix_complaint_tenant_sent_back", "tenant_id", "sent_back_at",
                 postgresql_where=sa.text("sent_back_at IS NOT NULL"),
                 sqlite_where=sa.text("sent_back_at IS NOT NULL")),
        # The complaint unit's "possible duplicates" filter: counted and paged from the flagged reports only.
        sa.Index("ix_complaint_tenant_duplicate", "tenant_id", "submitted_at", "status",
                 postgresql_where=sa.text("has_duplicate_candidate"),
                 sqlite_where=sa.text("has_duplicate_candidate")),
        # The inbox's free-text search (ILIKE '%word%' on code, title, description): one GIN index with the
        # tenant and trigrams (btree_gin + pg_trgm), PostgreSQL only; SQLite has no GIN and scans. A small pending
        # list (256 kB): every search reads it whole until it is merged (migration gp20c4e8a1b3).
        sa.Index("ix_complaint_tenant_search", "tenant_id", "code", "title", "description", postgresql_using="gin",
                 postgresql_ops={"code": "gin_trgm_ops", "title": "gin_trgm_ops", "description": "gin_trgm_ops"},
                 postgresql_with={"gin_pending_list_limit": 256}).ddl_if(dialect="postgresql"),
        sa.CheckConstraint(f"status IN {Status.ALL!r}", name="status"),
        sa.CheckConstraint(f"complaint_class IN {CLASSES!r}", name="class"),
    )

    category = relationship(
        "Category",
        primaryjoin="and_(Complaint.category_id == Category.id, Complaint.tenant_id == Category.tenant_id)",
        foreign_keys="[Complaint.category_id]", viewonly=True,
    )
    dispositions: Mapped[list[Disposition]] = relationship(
        primaryjoin="and_(Disposition.complaint_id == Complaint.id, Disposition.tenant_id == Complaint.tenant_id)",
        foreign_keys="[Disposition.complaint_id]", viewonly=True, order_by="Disposition.id",
    )

    @property
    def privacy(self) -> str:
        if self.confidential:
            return Privacy.CONFIDENTIAL
        return Privacy.ANONYMOUS if self.anonymous else Privacy.PUBLIC

    @property
    def is_open(self) -> bool:
        return self.status in Status.OPEN


class Disposition(TenantScoped, db.Model):
    """A complaint sent to one agency (OPD) for follow-up."""

    __tablename__ = "disposition"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    agency_id: Mapped[int] = mapped_column(sa.Integer)
    instruction: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)

    agency = relationship(
        "Agency",
        primaryjoin="and_(Disposition.agency_id == Agency.id, Disposition.tenant_id == Agency.tenant_id)",
        foreign_keys="[Disposition.agency_id]", viewonly=True,
    )

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "complaint_id", "agency_id"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["agency_id"], "agency"),
        tenant_fk(["created_by_id"], "user_account"),
        sa.Index("ix_disposition_tenant_agency", "tenant_id", "agency_id"),
    )


class FollowUpStatus:
    DRAFT = "draft"  # the liaison is writing
    SUBMITTED = "submitted"  # sent to the complaint unit for review
    RETURNED = "returned"  # sent back to the liaison with a remark
    PUBLISHED = "published"  # visible to the citizen
    ALL = (DRAFT, SUBMITTED, RETURNED, PUBLISHED)


class FollowUp(TenantScoped, db.Model):
    """An agency's answer (tindak lanjut), drafted by a liaison and published by the complaint unit."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    agency_id: Mapped[int] = mapped_column(sa.Integer)
    author_id: Mapped[int | None] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default=FollowUpStatus.DRAFT)
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(sa.Integer)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    agency = relationship(
        "Agency",
        primaryjoin="and_(FollowUp.agency_id == Agency.id, FollowUp.tenant_id == Agency.tenant_id)",
        foreign_keys="[FollowUp.agency_id]", viewonly=True,
    )
    __table_args__ = scoped_table_args(
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["agency_id"], "agency"),
        tenant_fk(["author_id"], "user_account"),
        tenant_fk(["published_by_id"], "user_account"),
        sa.CheckConstraint(f"status IN {FollowUpStatus.ALL!r}", name="status"),
    )


class Visibility:
    PUBLIC = "public"  # citizen and (if the complaint is public) everybody
    INTERNAL = "internal"  # staff only, never shown to citizens


class ComplaintEvent(TenantScoped, db.Model):
    """One append-only entry of a complaint's history: who, when, what, before and after.

    The timeline and the audit trail are these rows; nothing else stores history.
    """

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40))
    visibility: Mapped[str] = mapped_column(sa.String(20), default=Visibility.INTERNAL)
    #: citizen | staff | system
    actor_type: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: Display name of a staff actor (never the citizen's name).
    actor_label: Mapped[str | None] = mapped_column(sa.String(160))
    message: Mapped[str | None] = mapped_column(sa.Text)
    before: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    after: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: The report's version right after this event (``Complaint.version``): a staff form carries the version it
    #: was based on, so a conflict lists the events since (None for events older than this column).
    version: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = scoped_table_args(
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["actor_id"], "user_account"),
        sa.Index("ix_complaint_event_tenant_complaint", "tenant_id", "complaint_id", "at"),
    )


class AppendOnlyViolation(RuntimeError):
    """Complaint events are history: they are never changed or deleted."""


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _events_are_append_only(session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, ComplaintEvent):
            raise AppendOnlyViolation("complaint events cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, ComplaintEvent) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation("complaint events cannot be changed")


class Attachment(TenantScoped, db.Model):
    """A photo or PDF attached to a complaint (metadata stripped before storage)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    event_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: Original name, shown to staff only.
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(60))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: Path under UPLOAD_DIR, always beginning with the tenant id.
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    #: Attachments of the citizen are public only if the complaint is public and not anonymous.
    public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A small WebP copy of a photo (no metadata), in the same tenant folder; None for PDFs and for photos
    #: stored before thumbnails existed until `flask storage thumbnails` has run.
    thumb_key: Mapped[str | None] = mapped_column(sa.String(200))
    thumb_width: Mapped[int | None] = mapped_column(sa.Integer)
    thumb_height: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = scoped_table_args(
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["event_id"], "complaint_event"),
    )


class Rating(TenantScoped, db.Model):
    """The citizen's rating of the handling (1–5), once per answer cycle."""

    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    cycle: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(sa.Integer)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "complaint_id", "cycle"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="score"),
    )


class FollowerKind:
    #: The contact of whoever filed the report (its own report's private link goes to it).
    REPORTER = "reporter"
    #: A citizen who followed a public report (double opt-in): public progress only, never a private link.
    FOLLOWER = "follower"
    ALL = (REPORTER, FOLLOWER)


class Follower(TenantScoped, db.Model):
    """A contact that receives updates about a complaint: its reporter (``kind`` "reporter", also a merged
    duplicate's reporter) or a citizen who followed the public report (``kind`` "follower")."""

    __tablename__ = "follower"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.Integer)
    channel: Mapped[str] = mapped_column(sa.String(10))  # email | sms
    #: Personal data: never logged.
    recipient: Mapped[str] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(10), default="id")
    #: The complaint this contact originally reported (differs after a merge).
    origin_complaint_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: reporter | follower (:class:`FollowerKind`); only reporters get private links and private messages.
    kind: Mapped[str] = mapped_column(sa.String(10), default=FollowerKind.REPORTER,
                                      server_default=FollowerKind.REPORTER)
    #: The citizen account that followed (signed in when asking AND when confirming), for "Laporan saya".
    user_id: Mapped[int | None] = mapped_column(sa.Integer)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "complaint_id", "channel", "recipient"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["origin_complaint_id"], "complaint"),
        tenant_fk(["user_id"], "user_account"),
        sa.CheckConstraint(f"kind IN {FollowerKind.ALL!r}", name="kind"),
    )

    @property
    def is_reporter(self) -> bool:
        return self.kind == FollowerKind.REPORTER


class ContactLinkPurpose:
    FOLLOW = "follow"  # confirms following a report (double opt-in)
    LIST = "list"  # opens the list of a contact's reports once ("Laporan saya" without an account)
    ALL = (FOLLOW, LIST)


class ContactLink(TenantScoped, db.Model):
    """A one-time link sent to an email address or phone number; only the token's SHA-256 is stored."""

    __tablename__ = "contact_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    purpose: Mapped[str] = mapped_column(sa.String(10))
    channel: Mapped[str] = mapped_column(sa.String(10))  # email | sms
    #: Personal data: never logged.
    recipient: Mapped[str] = mapped_column(sa.String(255))
    locale: Mapped[str] = mapped_column(sa.String(10), default="id")
    #: The report to follow (purpose "follow").
    complaint_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: The signed-in citizen who asked (a follow confirmed by the same account is listed in "Laporan saya").
    user_id: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = scoped_table_args(
        sa.UniqueConstraint("tenant_id", "token_hash"),
        tenant_fk(["complaint_id"], "complaint", ondelete="CASCADE"),
        tenant_fk(["user_id"], "user_account", ondelete="CASCADE"),
        sa.Index("ix_contact_link_tenant_recipient", "tenant_id", "recipient", "created_at"),
        sa.CheckConstraint(f"purpose IN {ContactLinkPurpose.ALL!r}", name="purpose"),
    )


class ResponseTemplate(TenantScoped, db.Model):
    """A reusable answer text of the complaint unit."""

    __tablename__ = "response_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = scoped_table_args(sa.UniqueConstraint("tenant_id", "title"))


class CodeCounter(TenantScoped, db.Model):
    """Per-tenant, per-year sequence for tracking codes (row-locked on PostgreSQL)."""

    __tablename__ = "code_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    last_value: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = scoped_table_args(sa.UniqueConstraint("tenant_id", "year"))

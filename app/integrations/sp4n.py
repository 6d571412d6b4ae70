"""SP4N-LAPOR! bridge: push verified complaints to the national system, pull their status and follow-ups.

Nothing is entered twice:
- push: one ``BridgeLink`` per complaint (unique), checked before pushing; the request carries an
  ``Idempotency-Key`` (``<slug>:<tracking code>``) so a push repeated after a crash returns the same record;
- pull: a status change is recorded when it differs from the last one seen, and each remote follow-up
  once (``BridgeItem`` is unique per link and remote id). Pulled updates become internal events on the
  timeline; they never move the complaint through our state machine by themselves.

Privacy: the push carries the complaint's content and privacy flag, never the reporter's identity or
contact details; the complaint unit stays the contact point.

The HTTP shape (JSON, bearer token) — adapt :class:`HttpSp4nAdapter` if the national API differs:
- ``POST {base}/reports`` with ``Idempotency-Key`` → ``{"id": "..."}``
- ``GET {base}/reports/{id}`` → ``{"id", "status", "follow_ups": [{"id", "body", "agency", "published_at"}]}``
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.complaints.models import Complaint, Status
from app.complaints.service import SYSTEM, record_event
from app.extensions import db
from app.integrations import outbound
from app.integrations.models import BridgeItem, BridgeLink
from app.jobs import job
from app.jobs.outbox import enqueue
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.scope import current_tenant, tenant_scope

log = logging.getLogger(__name__)


class Sp4nError(RuntimeError):
    """The national system could not be reached or answered with an error."""


@dataclass(frozen=True)
class PushReport:
    reference: str
    title: str
    description: str
    complaint_class: str
    category: str | None
    privacy: str
    submitted_at: str
    location: str | None = None


@dataclass(frozen=True)
class RemoteFollowUp:
    id: str
    body: str
    agency: str | None = None
    published_at: str | None = None


@dataclass(frozen=True)
class RemoteReport:
    id: str
    status: str | None
    follow_ups: list[RemoteFollowUp] = field(default_factory=list)


class Sp4nAdapter(Protocol):
    """What the bridge needs from the national system."""

    def push(self, report: PushReport, idempotency_key: str) -> str:
        """Enter a complaint; returns its id at SP4N-LAPOR!. The same key must return the same id."""

    def fetch(self, external_id: str) -> RemoteReport:
        """The complaint's current status and follow-ups at SP4N-LAPOR!."""


class HttpSp4nAdapter:
    """JSON over HTTP with a bearer token (see the module docstring for the shape)."""

    def __init__(self, base_url: str, token: str, timeout: float = 15, allow_private: bool = False):
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the SP4N-LAPOR! base URL must be http(s)")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        #: Loopback/private destinations only when configured (SP4N_ALLOW_PRIVATE_HOSTS); see outbound.
        self.allow_private = allow_private

    def _call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.base_url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                     **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
        try:
            with outbound.open_checked(req, self.timeout, self.allow_private) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise Sp4nError(f"SP4N-LAPOR! answered HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise Sp4nError(f"SP4N-LAPOR! unreachable: {type(exc).__name__}") from exc

    def push(self, report: PushReport, idempotency_key: str) -> str:
        answer = self._call("POST", "/reports", report.__dict__, {"Idempotency-Key": idempotency_key})
        if not answer.get("id"):
            raise Sp4nError("SP4N-LAPOR! returned no id")
        return str(answer["id"])

    def fetch(self, external_id: str) -> RemoteReport:
        answer = self._call("GET", "/reports/" + urllib.parse.quote(external_id, safe=""))
        return RemoteReport(
            id=str(answer.get("id") or external_id), status=answer.get("status"),
            follow_ups=[RemoteFollowUp(id=str(f["id"]), body=str(f.get("body") or ""), agency=f.get("agency"),
                                       published_at=f.get("published_at"))
                        for f in answer.get("follow_ups") or [] if f.get("id") is not None])


# ---------------------------------------------------------------- configuration

def bridge_settings(tenant: Tenant) -> tuple[str, str] | None:
    """(base URL, token) when the region's bridge is on and complete, else None."""
    cfg = (tenant.settings or {}).get("sp4n") or {}
    if not cfg.get("enabled"):
        return None
    base_url = cfg.get("base_url") or current_app.config.get("SP4N_BASE_URL")
    token = (current_app.config.get("SP4N_TOKENS") or {}).get(tenant.slug)
    if not base_url or not token:
        return None
    return base_url, token


def adapter_for(tenant: Tenant) -> Sp4nAdapter | None:
    found = bridge_settings(tenant)
    if found is None:
        return None
    return HttpSp4nAdapter(found[0], found[1], timeout=current_app.config["SP4N_TIMEOUT"],
                           allow_private=current_app.config["SP4N_ALLOW_PRIVATE_HOSTS"])


def link_of(complaint_id: int) -> BridgeLink | None:
    return db.session.execute(select(BridgeLink).filter_by(complaint_id=complaint_id)).scalar_one_or_none()


# ---------------------------------------------------------------- push

def queue_push(complaint) -> bool:
    """On verification: push through the outbox (same transaction) when the bridge is on."""
    if bridge_settings(current_tenant()) is None or link_of(complaint.id) is not None:
        return False
    enqueue("sp4n.push", complaint_id=complaint.id)
    return True


def report_for(complaint) -> PushReport:
    category = complaint.category
    return PushReport(
        reference=complaint.code, title=complaint.title, description=complaint.description,
        complaint_class=complaint.complaint_class, category=category.name_id if category is not None else None,
        privacy=complaint.privacy, submitted_at=complaint.submitted_at.isoformat(),
        location=complaint.location_text,
    )


@job("sp4n.push")
def push(tenant_id: int, complaint_id: int) -> str:
    """Enter one verified complaint at SP4N-LAPOR! once; a failure raises so the job is retried."""

    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        return "missing"
    if link_of(complaint.id) is not None:
        return "already"
    tenant = current_tenant()
    adapter = adapter_for(tenant)
    if adapter is None:
        return "disabled"
    external_id = adapter.push(report_for(complaint), idempotency_key=f"{tenant.slug}:{complaint.code}")
    try:
        with db.session.begin_nested():
            db.session.add(BridgeLink(complaint_id=complaint.id, external_id=external_id))
    except IntegrityError:  # a concurrent run recorded it first
        return "already"
    record_event(complaint, SYSTEM, "sp4n_push", after={"external_id": external_id})
    log.info("complaint %s entered at SP4N-LAPOR!", complaint.code)
    return "pushed"


# ---------------------------------------------------------------- pull

def pull_tenant(tenant: Tenant, adapter: Sp4nAdapter | None = None, limit: int = 500) -> dict:
    """Pull status and follow-ups of the bound tenant's linked open complaints; flushes, never commits."""

    adapter = adapter or adapter_for(tenant)
    counts = {"pulled": 0, "status_changes": 0, "follow_ups": 0, "errors": 0}
    if adapter is None:
        return counts
    rows = db.session.execute(
        select(BridgeLink, Complaint).join(Complaint, (Complaint.id == BridgeLink.complaint_id)
                                           & (Complaint.tenant_id == BridgeLink.tenant_id))
        .where(Complaint.status.in_(Status.OPEN))
        .order_by(BridgeLink.last_pulled_at.is_not(None), BridgeLink.last_pulled_at, BridgeLink.id).limit(limit)
    ).all()
    for link, complaint in rows:
        try:
            remote = adapter.fetch(link.external_id)
        except Sp4nError as exc:
            counts["errors"] += 1
            log.warning("SP4N-LAPOR! pull of %s failed: %s", complaint.code, exc)
            continue
        counts["pulled"] += 1
        if remote.status and remote.status != link.external_status:
            record_event(complaint, SYSTEM, "sp4n_status", message=remote.status,
                         before={"external_status": link.external_status}, after={"external_status": remote.status})
            link.external_status = remote.status
            counts["status_changes"] += 1
        seen = set(db.session.execute(
            select(BridgeItem.external_item_id).filter_by(link_id=link.id)).scalars())
        for fu in remote.follow_ups:
            if fu.id in seen:
                continue
            try:
                with db.session.begin_nested():
                    item = BridgeItem(link_id=link.id, external_item_id=fu.id)
                    db.session.add(item)
            except IntegrityError:  # another pull recorded it meanwhile
                continue
            event = record_event(complaint, SYSTEM, "sp4n_followup", message=fu.body or None,
                                 after={"external_id": fu.id, "agency": fu.agency, "published_at": fu.published_at})
            item.event_id = event.id
            seen.add(fu.id)
            counts["follow_ups"] += 1
        link.last_pulled_at = utcnow()
        db.session.flush()
    return counts


def pull_all_tenants() -> dict:
    """Periodic: pull for every active region whose bridge is on, each in its own scope and transaction."""
    totals: dict[str, int] = {}
    tenants = db.session.execute(select(Tenant).filter_by(status=TenantStatus.ACTIVE)).scalars().all()
    for tenant in tenants:
        if bridge_settings(tenant) is None:
            continue
        with tenant_scope(tenant.id):
            try:
                counts = pull_tenant(tenant)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("SP4N-LAPOR! pull failed for tenant %s", tenant.slug)
                continue
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals

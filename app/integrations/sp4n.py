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
- ``GET {base}/reports?limit=1`` → any 2xx: the "test connection" button (reachable, token accepted)

Configuration, in layers: the region administrator's bridge settings page (``BridgeSettings``: on/off, base
URL, token stored encrypted) over ``tenant.toml`` ``[settings.sp4n]`` and the environment (``SP4N_BASE_URL``,
``SP4N_TOKEN_<SLUG>``). The last pull, the last connection test and the latest errors are kept on the same row
for that page.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from typing import Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.complaints.models import Complaint, Status
from app.complaints.service import SYSTEM, record_event
from app.extensions import db
from app.integrations import outbound
from app.integrations.models import BridgeItem, BridgeLink, BridgeSettings
from app.jobs import RetryLater, job
from app.jobs.outbox import enqueue
from app.onboarding.audit import record as record_change
from app.tenancy.models import Tenant, TenantStatus, utcnow
from app.tenancy.scope import current_tenant, tenant_scope

log = logging.getLogger(__name__)


class Sp4nError(RuntimeError):
    """The national system could not be reached or answered with an error.

    ``str()`` is the English text for logs; :meth:`describe` the translated one for the bridge settings page."""

    def __init__(self, message: str, display=None) -> None:
        super().__init__(message)
        self.display = display

    def describe(self) -> str:
        return str(self.display) if self.display is not None else str(self)


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

    def _open(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        """(status, body) of one request to the checked address; every failure as a :class:`Sp4nError`."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.base_url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                     **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
        try:
            with outbound.open_checked(req, self.timeout, self.allow_private) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            raise Sp4nError(f"SP4N-LAPOR! answered HTTP {exc.code}",
                            _l("SP4N-LAPOR! answered HTTP %(code)s.", code=exc.code)) from exc
        except outbound.DestinationRefused as exc:
            raise Sp4nError(f"SP4N-LAPOR! address refused: {exc}",
                            _l("This address is refused (a private or local network address).")) from exc
        except (OSError, ValueError) as exc:
            raise Sp4nError(f"SP4N-LAPOR! unreachable: {type(exc).__name__}",
                            _l("SP4N-LAPOR! could not be reached (%(error)s).", error=type(exc).__name__)) from exc

    def _call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> dict:
        _status, raw = self._open(method, path, body, headers)
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise Sp4nError(f"SP4N-LAPOR! answered something other than JSON: {type(exc).__name__}",
                            _l("SP4N-LAPOR! answered something other than JSON.")) from exc

    def check(self) -> str:
        """One real request (``GET {base}/reports?limit=1`` with the token); returns what answered.

        :raises Sp4nError: unreachable, refused address, or an answer other than 2xx (401/403: token refused).
        """
        started = perf_counter()
        status, _raw = self._open("GET", "/reports?limit=1")
        return f"HTTP {status}, {round((perf_counter() - started) * 1000)} ms"

    def push(self, report: PushReport, idempotency_key: str) -> str:
        answer = self._call("POST", "/reports", report.__dict__, {"Idempotency-Key": idempotency_key})
        if not answer.get("id"):
            raise Sp4nError("SP4N-LAPOR! returned no id", _l("SP4N-LAPOR! answered without a report id."))
        return str(answer["id"])

    def fetch(self, external_id: str) -> RemoteReport:
        answer = self._call("GET", "/reports/" + urllib.parse.quote(external_id, safe=""))
        return RemoteReport(
            id=str(answer.get("id") or external_id), status=answer.get("status"),
            follow_ups=[RemoteFollowUp(id=str(f["id"]), body=str(f.get("body") or ""), agency=f.get("agency"),
                                       published_at=f.get("published_at"))
                        for f in answer.get("follow_ups") or [] if f.get("id") is not None])


# ---------------------------------------------------------------- configuration

#: Errors kept for the settings page (newest first).
ERRORS_KEPT = 10
#: Where a value came from, for the settings page.
FROM_PAGE, FROM_FILE, FROM_ENV = "page", "file", "environment"


class BridgeSettingsError(ValueError):
    """Settings that cannot be saved; ``errors`` maps form fields to translated messages."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__(", ".join(errors))


@dataclass(frozen=True)
class BridgeConfig:
    """The bridge as it runs for a region: the page's values over the files' and the environment's."""

    enabled: bool
    base_url: str | None
    token: str | None
    token_hint: str
    enabled_from: str
    base_url_from: str | None
    token_from: str | None

    @property
    def complete(self) -> bool:
        return bool(self.base_url and self.token)

    @property
    def active(self) -> bool:
        return self.enabled and self.complete


def stored_settings() -> BridgeSettings | None:
    """The bound region's row of the bridge settings page, if the administrator ever saved it."""
    return db.session.execute(select(BridgeSettings)).scalar_one_or_none()


def _stored_or_new() -> BridgeSettings:
    row = stored_settings()
    if row is None:
        row = BridgeSettings(errors=[], last_sync_counts={})
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # a concurrent job made it first
            row = stored_settings()
    return row


def effective_config(tenant: Tenant) -> BridgeConfig:
    """The bound region's bridge configuration and where each value comes from."""
    row = stored_settings()
    files = (tenant.settings or {}).get("sp4n") or {}
    if row is not None and row.enabled is not None:
        enabled, enabled_from = bool(row.enabled), FROM_PAGE
    else:
        enabled, enabled_from = bool(files.get("enabled")), FROM_FILE
    if row is not None and row.base_url:
        base_url, base_url_from = row.base_url, FROM_PAGE
    elif files.get("base_url"):
        base_url, base_url_from = files["base_url"], FROM_FILE
    elif current_app.config.get("SP4N_BASE_URL"):
        base_url, base_url_from = current_app.config["SP4N_BASE_URL"], FROM_ENV
    else:
        base_url, base_url_from = None, None
    env_token = (current_app.config.get("SP4N_TOKENS") or {}).get(tenant.slug)
    if row is not None and row.token:
        token, token_from, hint = row.token, FROM_PAGE, row.token_hint
    elif env_token:
        token, token_from, hint = env_token, FROM_ENV, env_token[-4:]
    else:
        token, token_from, hint = None, None, ""
    return BridgeConfig(enabled, base_url, token, hint, enabled_from, base_url_from, token_from)


def bridge_settings(tenant: Tenant) -> tuple[str, str] | None:
    """(base URL, token) when the bound region's bridge is on and complete, else None."""
    cfg = effective_config(tenant)
    return (cfg.base_url, cfg.token) if cfg.active else None


def _adapter(base_url: str, token: str) -> HttpSp4nAdapter:
    return HttpSp4nAdapter(base_url, token, timeout=current_app.config["SP4N_TIMEOUT"],
                           allow_private=current_app.config["SP4N_ALLOW_PRIVATE_HOSTS"])


def adapter_for(tenant: Tenant) -> Sp4nAdapter | None:
    found = bridge_settings(tenant)
    if found is None:
        return None
    return _adapter(*found)


def note_error(kind: str, message: str) -> None:
    """Keep an error of the bound region's bridge for the settings page (short reason, no content)."""
    row = _stored_or_new()
    row.errors = [{"at": utcnow().isoformat(), "kind": kind, "message": message[:300]},
                  *(row.errors or [])][:ERRORS_KEPT]
    db.session.flush()


def recent_errors() -> list[dict]:
    """The bound region's kept errors, newest first, with ``at`` as a datetime."""
    row = stored_settings()
    return [{**e, "at": datetime.fromisoformat(e["at"])} for e in (row.errors if row is not None else []) or []]


# ---------------------------------------------------------------- the administrator's settings page

TOKEN_MAX_LENGTH = 120


def save_settings(tenant: Tenant, actor: User, enabled: bool, base_url: str | None, token: str | None,
                  clear_token: bool = False) -> BridgeSettings:
    """Switch the bridge on or off, set its base URL (empty: the files' or environment's) and its token
    (empty: keep the stored one; ``clear_token``: fall back to the environment's). Audited without the token.

    :raises BridgeSettingsError: for a base URL that is not http(s) or too long, or a token too long.
    """
    base_url = (base_url or "").strip() or None
    token = (token or "").strip() or None
    errors = {}
    if base_url is not None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(base_url) > 500:
            errors["base_url"] = _l("Enter the address as http(s)://…, at most 500 characters.")
    if token is not None and len(token) > TOKEN_MAX_LENGTH:
        errors["token"] = _l("The token may have at most %(n)s characters.", n=TOKEN_MAX_LENGTH)
    if errors:
        raise BridgeSettingsError(errors)
    row = _stored_or_new()
    before = {"enabled": row.enabled, "base_url": row.base_url, "token": f"…{row.token_hint}" if row.token else None}
    row.enabled = bool(enabled)
    row.base_url = base_url
    if clear_token:
        row.token, row.token_hint = None, ""
    elif token is not None:
        row.token, row.token_hint = token, token[-4:]
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    after = {"enabled": row.enabled, "base_url": row.base_url, "token": f"…{row.token_hint}" if row.token else None}
    if after != before or token is not None:
        record_change(tenant, "bridge.updated", actor, before=before, after=after)
    db.session.flush()
    return row


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


def check_connection(tenant: Tenant, actor: User) -> ConnectionResult:
    """Really call the configured endpoint (on or off) through the outbound rules; keep and audit the result."""
    cfg = effective_config(tenant)
    if not cfg.complete:
        result = ConnectionResult(False, str(_l("The address or the token is missing.")))
    else:
        try:
            result = ConnectionResult(True, _adapter(cfg.base_url, cfg.token).check())
        except Sp4nError as exc:
            result = ConnectionResult(False, exc.describe())
        except ValueError as exc:
            result = ConnectionResult(False, str(exc))
    row = _stored_or_new()
    row.last_test_at = utcnow()
    row.last_test_ok = result.ok
    row.last_test_message = result.message[:300]
    if not result.ok:
        note_error("test", result.message)
    record_change(tenant, "bridge.tested", actor, after={"ok": result.ok, "message": result.message[:300],
                                                         "base_url": cfg.base_url})
    db.session.flush()
    return result


def link_of(complaint_id: int) -> BridgeLink | None:
    return db.session.execute(select(BridgeLink).filter_by(complaint_id=complaint_id)).scalar_one_or_none()


# ---------------------------------------------------------------- push

def queue_push(complaint) -> bool:
    """On verification: push through the outbox (same transaction) when the bridge is on. A test report
    (``is_test``) never goes to the national system."""
    if complaint.is_test or bridge_settings(current_tenant()) is None or link_of(complaint.id) is not None:
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
    if complaint.is_test:  # marked as a test report after the push was queued
        return "test report"
    tenant = current_tenant()
    adapter = adapter_for(tenant)
    if adapter is None:
        return "disabled"
    try:
        external_id = adapter.push(report_for(complaint), idempotency_key=f"{tenant.slug}:{complaint.code}")
    except Sp4nError as exc:  # kept for the settings page; the outbox runs the push again later
        note_error("push", f"{complaint.code}: {exc.describe()}")
        return RetryLater(f"SP4N-LAPOR! push of {complaint.code}: {exc}")
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
            note_error("pull", f"{complaint.code}: {exc.describe()}")
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
    row = _stored_or_new()
    row.last_sync_at = utcnow()
    row.last_sync_counts = dict(counts)
    db.session.flush()
    return counts


def pull_all_tenants() -> dict:
    """Periodic: pull for every active region whose bridge is on, each in its own scope and transaction."""
    totals: dict[str, int] = {}
    tenants = db.session.execute(select(Tenant).filter_by(status=TenantStatus.ACTIVE)).scalars().all()
    for tenant in tenants:
        with tenant_scope(tenant.id):
            if bridge_settings(tenant) is None:  # the page's settings are the region's own rows
                continue
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

"""Factories: one valid row of every tenant-owned model, created in the bound tenant.

``tests/isolation/test_models.py`` enumerates ``tenant_owned_models()`` and fails for a model
without a factory here, so no new table escapes the isolation tests. Adding a model is a
3-line change (return an unsaved instance; ``make`` stamps the tenant, adds and flushes it):

    @factory(Thing)
    def _thing(n):
        return Thing(name=f"thing {n}", complaint_id=make(Complaint).id)

``n`` is unique per call, for values that must be unique. Referenced rows are made with
``make(...)`` in the same tenant. Factories write nothing but the row (no events, no outbox).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable

from app.accounts.audit import Action, SecurityEvent
from app.accounts.models import Role, User, UserSession
from app.agencies.models import Agency, Category
from app.api.models import ApiKey
from app.complaints.duplicates import DuplicateCandidate
from app.complaints.exports import ComplaintExport
from app.complaints.models import (
    Attachment,
    CodeCounter,
    Complaint,
    ComplaintEvent,
    ContactLink,
    Disposition,
    Follower,
    FollowUp,
    Rating,
    ResponseTemplate,
)
from app.complaints.referral_models import Referral
from app.extensions import db
from app.integrations.models import (
    BridgeItem,
    BridgeLink,
    BridgeSettings,
    InboundMessage,
    InboundToken,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.jobs.outbox import OutboxMessage
from app.notifications.models import MessageTemplate, Notification, NotificationPreference, StaffNotification
from app.onboarding.models import TenantAuditEvent
from app.privacy.models import DataAccessRequest
from app.tenancy.models import utcnow
from app.tenancy.scope import current_tenant_id

#: model class name → function(n) returning an unsaved, valid instance.
FACTORIES: dict[str, Callable[[int], object]] = {}
_seq = itertools.count(1)


def factory(model: type) -> Callable[[Callable[[int], object]], Callable[[int], object]]:
    def deco(fn: Callable[[int], object]) -> Callable[[int], object]:
        FACTORIES[model.__name__] = fn
        return fn

    return deco


def make(model: type | str, **overrides):
    """Create one row of ``model`` in the bound tenant (flushed, not committed)."""
    name = model if isinstance(model, str) else model.__name__
    obj = FACTORIES[name](next(_seq))
    for key, value in overrides.items():
        setattr(obj, key, value)
    db.session.add(obj)
    db.session.flush()
    return obj


@factory(Agency)
def _agency(n):
    return Agency(code=f"opd{n}", name=f"Dinas Uji {n}", short_name=f"Uji {n}")


@factory(Category)
def _category(n):
    return Category(code=f"cat{n}", name_id=f"Kategori {n}", name_en=f"Category {n}",
                    default_agency_id=make(Agency).id)


@factory(User)
def _user(n):
    user = User(email=f"user{n}@factory.test", name=f"Pengguna {n}", role=Role.LIAISON,
                agency_id=make(Agency).id)
    user.set_password(f"factory-password-{n}")
    return user


@factory(ComplaintExport)
def _complaint_export(n):
    return ComplaintExport(user_id=make(User).id, format="csv", filters={}, status="done", rows_total=n)


@factory(OutboxMessage)
def _outbox_message(n):
    return OutboxMessage(job="notifications.send", payload={"notification_id": -n})


@factory(MessageTemplate)
def _message_template(n):
    return MessageTemplate(key=f"factory_{n}", locale="id", subject=f"Subjek {n}", body="Isi {code}")


@factory(Notification)
def _notification(n):
    return Notification(event_key=f"factory:{n}", channel="email", recipient=f"warga{n}@contoh.id",
                        subject="Subjek", body="Isi")


@factory(NotificationPreference)
def _notification_preference(n):
    return NotificationPreference(user_id=make(User).id, group="citizen", mode="digest")


@factory(StaffNotification)
def _staff_notification(n):
    event = make(ComplaintEvent)
    return StaffNotification(user_id=make(User).id, event_id=event.id, complaint_id=event.complaint_id,
                             kind="note", group="citizen", mode="immediate")


@factory(Complaint)
def _complaint(n):
    return Complaint(code=f"UJI-26-{n:05d}", access_token=secrets.token_urlsafe(24), title=f"Laporan uji {n}",
                     description="Lampu jalan di depan pasar padam sejak minggu lalu.", complaint_class="pengaduan",
                     category_id=make(Category).id, reporter_name="Siti Norhayati")


@factory(Referral)
def _referral(n):
    # The other region of a referral is named by id only (its half lives in that region).
    return Referral(direction="out", complaint_id=make(Complaint).id, peer_tenant_id=current_tenant_id(),
                    status="sent", note=f"Rujukan {n}")


@factory(DuplicateCandidate)
def _duplicate_candidate(n):
    return DuplicateCandidate(complaint_id=make(Complaint).id, other_id=make(Complaint).id, score=0.5)


@factory(Disposition)
def _disposition(n):
    return Disposition(complaint_id=make(Complaint).id, agency_id=make(Agency).id, instruction=f"Tindak lanjuti {n}")


@factory(FollowUp)
def _follow_up(n):
    return FollowUp(complaint_id=make(Complaint).id, agency_id=make(Agency).id, author_id=make(User).id,
                    body=f"Sudah diperbaiki ({n}).")


@factory(ComplaintEvent)
def _complaint_event(n):
    return ComplaintEvent(complaint_id=make(Complaint).id, kind="note", actor_type="staff",
                          actor_id=make(User).id, message=f"Catatan {n}")


@factory(Attachment)
def _attachment(n):
    return Attachment(complaint_id=make(Complaint).id, event_id=make(ComplaintEvent).id, filename=f"foto{n}.jpg",
                      content_type="image/jpeg", size=1234, sha256="0" * 64, storage_key=f"t/{n}.jpg")


@factory(Rating)
def _rating(n):
    return Rating(complaint_id=make(Complaint).id, cycle=0, score=4, comment=f"Cepat ({n})")


@factory(Follower)
def _follower(n):
    complaint_id = make(Complaint).id
    return Follower(complaint_id=complaint_id, channel="email", recipient=f"pengikut{n}@contoh.id",
                    origin_complaint_id=complaint_id)


@factory(ContactLink)
def _contact_link(n):
    from datetime import timedelta

    from app.tenancy.models import utcnow

    return ContactLink(purpose="list", token_hash=f"{n:064x}", channel="email", recipient=f"warga{n}@contoh.id",
                       expires_at=utcnow() + timedelta(minutes=30))


@factory(ResponseTemplate)
def _response_template(n):
    return ResponseTemplate(title=f"Jawaban baku {n}", body="Terima kasih atas laporan Anda.")


@factory(CodeCounter)
def _code_counter(n):
    return CodeCounter(year=3000 + n, last_value=n)


@factory(TenantAuditEvent)
def _tenant_audit_event(n):
    return TenantAuditEvent(kind=f"factory.{n}", actor_id=make(User).id, actor_label=f"Pengguna {n}",
                            after={"n": n})


@factory(Webhook)
def _webhook(n):
    return Webhook(url=f"https://hooks.contoh.id/{n}", events=["complaint.created"], secret_nonce=f"nonce-{n}",
                   secret_hint=f"{n % 10000:04d}", created_by_id=make(User).id)


@factory(WebhookDelivery)
def _webhook_delivery(n):
    return WebhookDelivery(webhook_id=make(Webhook).id, event_id=f"factory-event-{n}", event_type="complaint.created",
                           complaint_id=make(Complaint).id, body="{}", status="succeeded", attempts=1)


@factory(WebhookAttempt)
def _webhook_attempt(n):
    return WebhookAttempt(delivery_id=make(WebhookDelivery).id, number=1, status_code=200, duration_ms=n)


@factory(InboundToken)
def _inbound_token(n):
    return InboundToken(token_hash=f"{n:064x}", token_hint=f"{n % 10000:04d}", created_by_id=make(User).id)


@factory(ApiKey)
def _api_key(n):
    return ApiKey(name=f"Integration {n}", prefix=f"{n:010x}"[-10:], key_hash=f"{n:064x}", scopes=["read"],
                  created_by_id=make(User).id)


@factory(InboundMessage)
def _inbound_message(n):
    return InboundMessage(channel="sms", gateway_message_id=f"gw-{n}", sender="+6281200000000",
                          body="Jalan di depan sekolah rusak parah.", action="created", complaint_id=make(Complaint).id)


@factory(BridgeLink)
def _bridge_link(n):
    return BridgeLink(complaint_id=make(Complaint).id, external_id=f"LAPOR-{n}", external_status="proses")


@factory(BridgeSettings)
def _bridge_settings(n):
    # One row per region (unique tenant_id): the bridge settings page's.
    return BridgeSettings(enabled=True, base_url=f"https://sp4n{n}.example.go.id/api", token=f"token-{n:06d}",
                          token_hint=f"{n % 10000:04d}", updated_by_id=make(User).id, errors=[], last_sync_counts={})


@factory(BridgeItem)
def _bridge_item(n):
    return BridgeItem(link_id=make(BridgeLink).id, external_item_id=f"tl-{n}", event_id=make(ComplaintEvent).id)


@factory(DataAccessRequest)
def _data_access_request(n):
    return DataAccessRequest(complaint_id=make(Complaint).id, token_hash=f"{n:064d}", channels="email",
                             expires_at=utcnow())


@factory(UserSession)
def _user_session(n):
    return UserSession(user_id=make(User).id, user_agent=f"Firefox on Linux {n}")


@factory(SecurityEvent)
def _security_event(n):
    return SecurityEvent(action=Action.LOGIN, user_id=make(User).id, ip="192.0.2.1", detail={"n": n})


# ------------------------------------------------------------------ reports through the real service

#: The report a test sends unless it says otherwise: valid, in Indonesian, by a named citizen.
REPORT = {
    "title": "Jalan berlubang di Kayu Tangi",
    "description": "Lubang besar di tengah jalan, sudah dua minggu tidak diperbaiki.",
    "complaint_class": "pengaduan",
    "reporter_name": "Siti Norhayati",
    "reporter_email": "siti@contoh.id",
}


def submit_complaint(tenant=None, *, when=None, category: str | None = None, photo: bool = False,
                     commit: bool = True, actor=None, **fields):
    """A report submitted through the real service (``app.complaints.service.submit_complaint``: tracking
    code, events, notifications, outbox), as the web form, the API and the gateways do; returns
    ``(complaint, created)``. THE way tests make a complaint (``make(Complaint)`` only writes a row).

    ``tenant``: bind it for the call (None: the caller has bound one). ``when``: the submission time
    (``frozen_time``). ``category``: a category code of the region. ``photo``: one small PNG attached.
    ``commit``: commit afterwards (id and code stay readable outside the scope). Other keywords are
    ``SubmitData`` fields and override :data:`REPORT`.
    """
    from contextlib import nullcontext

    from sqlalchemy import select

    from app.complaints import service
    from app.tenancy.models import frozen_time
    from app.tenancy.scope import tenant_scope

    with tenant_scope(tenant.id) if tenant is not None else nullcontext():
        if category is not None:
            fields["category_id"] = db.session.execute(select(Category.id).filter_by(code=category)).scalar_one()
        if photo:
            from app.complaints.uploads import prepare_upload

            fields["attachments"] = [prepare_upload("foto-lokasi.png", png_bytes())]
        data = service.SubmitData(**{**REPORT, **fields})
        with frozen_time(when) if when is not None else nullcontext():
            c, created = (service.submit_complaint(data) if actor is None
                          else service.submit_complaint(data, actor))
        if commit:
            db.session.commit()
            _ = c.id, c.code  # loaded while the tenant is bound
        return c, created


def png_bytes() -> bytes:
    """A tiny valid PNG (an attachment the upload checks accept)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()

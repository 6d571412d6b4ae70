"""Helpers shared by the staff page tests: reports made through the service, logins, form posts."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from PIL import Image
from sqlalchemy import select

from app.agencies.models import Agency
from app.complaints import service
from app.complaints.models import Complaint
from app.complaints.uploads import prepare_upload
from app.tenancy.models import frozen_time
from app.tenancy.scope import tenant_scope

PASSWORD = "correct-horse-battery"  # tests/conftest.py DEMO_PASSWORD
REPORTER = {"name": "Siti Norhayati Rahmah", "email": "siti.rahmah@contoh.id", "phone": "+6281234567890"}


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def submit(db, tenant, privacy: str = "public", when: datetime | None = None, with_photo: bool = False,
           **kw) -> Complaint:
    """A report sent through the service (as the citizen), committed; returns it."""
    data = service.SubmitData(
        title=kw.pop("title", "Jalan berlubang di Kayu Tangi"),
        description=kw.pop("description", "Lubang besar di tengah jalan, sudah dua minggu tidak diperbaiki."),
        complaint_class=kw.pop("complaint_class", "pengaduan"),
        privacy=privacy,
        reporter_name=kw.pop("reporter_name", REPORTER["name"]),
        reporter_email=kw.pop("reporter_email", REPORTER["email"]),
        reporter_phone=kw.pop("reporter_phone", REPORTER["phone"]),
        attachments=[prepare_upload("foto-lokasi.png", png_bytes())] if with_photo else [],
        **kw,
    )
    with tenant_scope(tenant.id), frozen_time(when or datetime.now(UTC)):
        c, _ = service.submit_complaint(data)
        db.session.commit()
        return c


def agency_id(db, tenant, code: str) -> int:
    with tenant_scope(tenant.id):
        return db.session.execute(select(Agency.id).filter_by(code=code)).scalar_one()


def verify_and_dispose(db, tenant, c: Complaint, officer, agency_code: str = "pupr") -> Complaint:
    """Through the service: verify, then dispose to ``agency_code``."""
    with tenant_scope(tenant.id):
        c = db.session.get(Complaint, c.id)
        actor = service.Actor.of(officer)
        service.verify(c, actor)
        service.dispose(c, actor, [agency_id(db, tenant, agency_code)])
        db.session.commit()
        return c


def fresh(db, tenant, complaint_id: int) -> Complaint:
    """The report as the database has it now."""
    db.session.expire_all()
    with tenant_scope(tenant.id):
        c = db.session.get(Complaint, complaint_id)
        c.status, c.version, c.title  # noqa: B018  (load while bound)
        return c


def make_staff(make_user, tenant, role: str, agency_code: str | None = None, **kw):
    """A staff account whose email passes the login form (``*.test`` addresses do not)."""
    import uuid

    email = f"{role}-{uuid.uuid4().hex[:8]}@{tenant.slug}.go.id"
    return make_user(tenant, role, email=email, agency_code=agency_code, **kw)


def login(app, tenant, user):
    """A new browser signed in as ``user``."""
    from tests.conftest import login as form_login

    client = app.test_client()
    resp = form_login(client, tenant, user.email, PASSWORD)
    assert resp.status_code == 302, resp.text[:300]
    return client


def hidden_version(html: str, prefix: str) -> str:
    m = re.search(rf'id="{re.escape(prefix)}-version" name="{re.escape(prefix)}-version" type="hidden" value="(\d+)"',
                  html)
    assert m, f"no {prefix} version field in the page"
    return m.group(1)


def post_action(client, tenant, c_id: int, path: str, prefix: str, version, **fields):
    """POST a staff action form with its prefix (e.g. ``verify-title``)."""
    data = {f"{prefix}-version": str(version)}
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    return client.post(f"/{tenant.slug}/staff/complaints/{c_id}/{path}", data=data)

"""Helpers shared by the staff page tests: reports made through the service, logins, form posts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from app.agencies.models import Agency
from app.complaints import service
from app.complaints.models import Complaint
from app.tenancy.scope import tenant_scope
from tests.factories import png_bytes, submit_complaint  # noqa: F401  (png_bytes: used by the page tests)

PASSWORD = "correct-horse-battery"  # tests/conftest.py DEMO_PASSWORD
REPORTER = {"name": "Siti Norhayati Rahmah", "email": "siti.rahmah@contoh.id", "phone": "+6281234567890"}


def submit(db, tenant, privacy: str = "public", when: datetime | None = None, with_photo: bool = False,
           **kw) -> Complaint:
    """A report sent through the service (as the citizen), committed; returns it (tests/factories.py)."""
    kw.setdefault("reporter_name", REPORTER["name"])
    kw.setdefault("reporter_email", REPORTER["email"])
    kw.setdefault("reporter_phone", REPORTER["phone"])
    return submit_complaint(tenant, privacy=privacy, when=when or datetime.now(UTC), photo=with_photo, **kw)[0]


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

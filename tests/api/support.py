"""Helpers for API tests: a key of a region, and headers that present it."""

from __future__ import annotations

from app.api import keys
from app.tenancy.scope import tenant_scope


def make_key(db, tenant, scopes=("read", "write"), name="Integration test") -> str:
    """A new key of ``tenant`` (committed); returns the full key."""
    with tenant_scope(tenant.id):
        _row, token = keys.create_key(name, list(scopes))
        db.session.commit()
        return token


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ complaints for the REST API tests

#: A reporter whose identity must never appear in an API answer.
REPORTER = {"name": "Rahmat Hidayatullah", "email": "rahmat.hidayat@contoh.id", "phone": "+6281234567890"}


def submit(db, tenant, *, when=None, **kw):
    """A complaint of ``tenant`` through the service (committed), with the known reporter; returns its code."""
    from tests.factories import submit_complaint

    kw.setdefault("title", "Lampu jalan padam di Jl. Veteran")
    kw.setdefault("description", "Sudah seminggu lampu jalan di depan pasar padam, rawan kecelakaan.")
    return submit_complaint(tenant, when=when, reporter_name=REPORTER["name"], reporter_email=REPORTER["email"],
                            reporter_phone=REPORTER["phone"], **kw)[0].code


def act(db, tenant, code, make_user, action, **kw):
    """Run one complaint-unit action on the complaint ``code`` (committed), as a fresh officer."""
    from sqlalchemy import select

    from app.complaints import service
    from app.complaints.models import Complaint

    officer = make_user(tenant, "officer")
    with tenant_scope(tenant.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        result = getattr(service, action)(c, service.Actor.of(officer), **kw)
        db.session.commit()
        return result


def agency_id(db, tenant, code):
    from sqlalchemy import select

    from app.agencies.models import Agency

    with tenant_scope(tenant.id):
        return db.session.execute(select(Agency.id).filter_by(code=code)).scalar_one()


def publish_followup(db, tenant, code, make_user, text, agency_slug="pupr"):
    """A liaison's follow-up on ``code`` submitted and published by a fresh officer (committed)."""
    from sqlalchemy import select

    from app.complaints import service
    from app.complaints.models import Complaint

    officer = make_user(tenant, "officer")
    with tenant_scope(tenant.id):
        c = db.session.execute(select(Complaint).filter_by(code=code)).scalar_one()
        fu = service.save_followup_draft(c, service.Actor.of(officer), text,
                                         agency_id=agency_id(db, tenant, agency_slug), submit=True)
        service.publish_followup(c, service.Actor.of(officer), fu.id)
        db.session.commit()

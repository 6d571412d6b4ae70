"""API keys: made by the region administrator, shown once, stored hashed, scoped, revocable, audited."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from app.api import keys
from app.api.models import ApiKey
from app.onboarding.models import TenantAuditEvent
from app.tenancy.scope import tenant_scope
from tests.api.support import make_key


def _admin(make_user, tenant):
    return make_user(tenant, "tenant_admin")


def test_administrator_makes_a_key_that_is_shown_once_and_stored_hashed(app, db, bjm, make_user, login_as):
    client = login_as(bjm, _admin(make_user, bjm))
    page = client.get("/banjarmasin/staff/api-keys/")
    assert page.status_code == 200
    resp = client.post("/banjarmasin/staff/api-keys/", data={
        "name": "Dashboard Diskominfo", "scopes": ["read"]})
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    token = re.search(r'<code id="api-key">([^<]+)</code>', resp.text).group(1)
    assert token.startswith("lpr_")
    with tenant_scope(bjm.id):
        row = db.session.execute(select(ApiKey)).scalar_one()
        assert row.scopes == ["read"] and row.name == "Dashboard Diskominfo"
        assert row.key_hash == hashlib.sha256(token.split("_", 2)[2].encode()).hexdigest()
        assert token not in str(db.session.execute(select(ApiKey.__table__)).all())
        kinds = db.session.scalars(select(TenantAuditEvent.kind)).all()
        assert "api_key.created" in kinds
    listing = client.get("/banjarmasin/staff/api-keys/")
    assert f"lpr_{row.prefix}_…" in listing.text and token not in listing.text
    assert "Dashboard Diskominfo" in listing.text
    # Where to use it: the REST base, its OpenAPI document and the Open311 base of this region.
    for address in ("/banjarmasin/api/v1/</code>", "/api/v1/openapi.json", "/banjarmasin/open311/v2/</code>"):
        assert address in listing.text


def test_a_key_needs_a_name_and_a_permission_with_translated_errors(app, db, bjm, make_user, login_as):
    client = login_as(bjm, _admin(make_user, bjm))
    client.get("/banjarmasin/staff/api-keys/")
    resp = client.post("/banjarmasin/staff/api-keys/", data={"name": "x"})
    assert resp.status_code == 400
    assert "Pilih paling sedikit satu izin" in resp.text  # Indonesian by default
    with tenant_scope(bjm.id):
        assert db.session.execute(select(ApiKey)).first() is None


def test_revoked_key_stops_working_and_the_revocation_is_audited(app, db, bjm, make_user, login_as):
    token = make_key(db, bjm)
    with tenant_scope(bjm.id):
        assert keys.authenticate(token) is not None
        key_id = db.session.execute(select(ApiKey.id)).scalar_one()
    client = login_as(bjm, _admin(make_user, bjm))
    client.get("/banjarmasin/staff/api-keys/")
    resp = client.post(f"/banjarmasin/staff/api-keys/{key_id}/revoke", data={})
    assert resp.status_code == 302
    with tenant_scope(bjm.id):
        db.session.expire_all()
        assert keys.authenticate(token) is None
        assert "api_key.revoked" in db.session.scalars(select(TenantAuditEvent.kind)).all()


def test_a_key_works_only_in_its_own_region(app, db, bjm, ktg):
    token = make_key(db, bjm)
    with tenant_scope(ktg.id):
        assert keys.authenticate(token) is None
    with tenant_scope(bjm.id):
        assert keys.authenticate(token) is not None
        assert keys.authenticate(token[:-2] + "xx") is None
        assert keys.authenticate("lpr_nonsense") is None


def test_only_the_region_administrator_manages_keys(app, db, bjm, ktg, make_user, login_as):
    client = login_as(bjm, make_user(bjm, "officer"))
    assert client.get("/banjarmasin/staff/api-keys/").status_code == 403


def test_an_administrator_cannot_revoke_another_regions_key(app, db, bjm, ktg, make_user, login_as):
    make_key(db, ktg)
    with tenant_scope(ktg.id):
        other_id = db.session.execute(select(ApiKey.id)).scalar_one()
    client = login_as(bjm, _admin(make_user, bjm))
    client.get("/banjarmasin/staff/api-keys/")
    resp = client.post(f"/banjarmasin/staff/api-keys/{other_id}/revoke",
                       data={})
    assert resp.status_code == 404
    with tenant_scope(ktg.id):
        db.session.expire_all()
        assert db.session.execute(select(ApiKey.revoked_at)).scalar_one() is None

"""Every URL rule is classified; Katingan's staff get nothing of Banjarmasin's through any of them;
tenants are found by path, custom domain or subdomain, and pending or suspended ones are not served.
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.accounts.models import User, UserSession
from app.agencies.models import Agency, Category
from app.api.models import ApiKey
from app.complaints.exports import ComplaintExport
from app.complaints.models import Attachment, Complaint, ComplaintEvent, FollowUp, ResponseTemplate
from app.integrations.models import Webhook, WebhookDelivery
from app.tenancy.models import Tenant, TenantStatus
from app.tenancy.scope import tenant_scope
from tests.api.support import auth, make_key
from tests.conftest import login
from tests.factories import make

#: Platform rules (no tenant in the URL), each with the reason it is not tenant-scoped.
PLATFORM = {
    "central.index": "platform landing page: lists the active regions",
    "central.set_language": "stores the visitor's language choice; no tenant data",
    "central.login": "central administrators sign in; they belong to no tenant",
    "central.logout": "central administrators sign out",
    "central.console": "central console for platform administrators (central_admin_required)",
    "central.suspend": "central administrators suspend a region (central_admin_required); the id names a "
                       "region, never an object of one",
    "central.reactivate": "central administrators lift a region's suspension (central_admin_required)",
    "central.login_mfa": "second sign-in step of central administrators (pending sign-in in the session)",
    "central.login_mfa_setup": "central administrators enrol their second factor during sign-in",
    "central.account": "the central administrator's own account page (central_admin_required)",
    "central.change_password": "the central administrator changes their own password (central_admin_required)",
    "central.recovery_codes": "the central administrator's own recovery codes (central_admin_required)",
    "central.revoke_all_sessions": "the central administrator signs out everywhere (central_admin_required)",
    "central.revoke_session": "the central administrator ends one of their own sessions (central_admin_required); "
                              "the id is looked up among their own sessions only",
    "central.audit_log": "the platform security log for central administrators (central_admin_required)",
    "ops.healthz": "liveness probe for the orchestrator",
    "ops.readyz": "readiness probe: database and Redis reachable",
    "ops.favicon": "the site icon, a static file",
    "ops.robots": "robots.txt, a static text naming no tenant",
    "ops.dev_outbox": "development/testing only: messages stored by the development adapters",
    "central_compare.compare": "cross-region comparison for central administrators (central_admin_required); "
                               "aggregates per region only",
    "central_compare.drill_down": "one region's aggregates for central administrators (central_admin_required); "
                                  "the slug names a region, never an object of one",
    "central_compare.export_csv": "comparison export for central administrators (central_admin_required)",
    "central_compare.export_xlsx": "comparison export for central administrators (central_admin_required)",
    "central_compare.method": "how the comparison's indicators are computed, for central administrators "
                              "(central_admin_required); formulas and configured weights, no region data",
    "onboarding.apply": "public sign-up page: a region that is not yet a tenant applies",
    "onboarding.thanks": "confirmation after applying; shows only the applicant's own session data",
    "onboarding.applications": "central administrators review applications (central_admin_required)",
    "onboarding.application": "one application, for central administrators (central_admin_required)",
    "onboarding.approve": "central administrators approve and provision a tenant (central_admin_required)",
    "onboarding.reject": "central administrators reject an application (central_admin_required)",
    # Open311's platform door: jurisdiction_id (query or form) names the region, which is bound for the
    # request like a /<slug>/ URL (active and live regions only); tests/api/test_open311.py tries it
    # with another region's codes and keys.
    **{f"open311_platform.{name}": "Open311 GeoReport v2 platform endpoint: the region is bound from jurisdiction_id"
       for name in ("discovery", "services", "service_definition", "list_requests", "create_request",
                    "get_request", "token")},
    "api_docs.document": "the REST API's OpenAPI document: describes the API for every region, holds no region's "
                         "data (the API itself is under /<tenant>/api/v1 and needs a key of that region)",
}
STATIC = {"static"}
#: Tenant rules answered by API key, not by the session cookie: without a key they answer 401.
API_KEY_PREFIXES = ("tenant.api.",)

#: URL arguments of tenant rules → how to build a Banjarmasin value for them (see ``bjm_objects``).
OBJECT_ARGS = {
    "complaint_id": lambda o: o["complaint"].id,
    "other_id": lambda o: o["complaint"].id,  # the duplicate comparison's second report
    "attachment_id": lambda o: o["attachment"].id,
    "att_id": lambda o: o["attachment"].id,
    "followup_id": lambda o: o["followup"].id,
    "template_id": lambda o: o["template"].id,
    "code": lambda o: o["complaint"].code,
    "webhook_id": lambda o: o["webhook"].id,
    "delivery_id": lambda o: o["delivery"].id,
    "agency_id": lambda o: o["agency"].id,
    "category_id": lambda o: o["category"].id,
    "user_id": lambda o: o["user"].id,
    "session_id": lambda o: o["session"].id,
    "key_id": lambda o: o["api_key"].id,
    "fmt": lambda o: "json",  # the answer format of the Open311 rules, not an object
    "service_code": lambda o: o["category"].code,
    "service_request_id": lambda o: o["complaint"].code,
    "token": lambda o: o["open311_token"],
    "export_id": lambda o: o["export"].id,
    # A group of a peer's set-up copied at onboarding (not an object): Katingan copied nothing, so 404.
    "item": lambda o: "agencies",
}
#: Public tenant rules that answer 400 without their query string: the query each is asked with, and why.
QUERY_ARGS = {
    # "Is this already reported?" (issue 16): open public reports near a point of the region, as JSON;
    # public data only (no identity), the same for everybody, rate-limited per address.
    "tenant.complaints_public.nearby_reports": "?lat=-3.3194&lon=114.5908",
}
#: Tenant rules left out of the cross-tenant id test, with the reason.
OBJECT_RULES_TESTED_ELSEWHERE = {
    "tenant.accounts.set_language": "the argument is a language code, not an object",
    "tenant.accounts.reset_password": "the token is not an object id: tests/web/test_accounts.py tries a "
                                      "Banjarmasin token in Katingan",
    # Open311 rules whose only argument is the answer format (json/xml): no object to try. Katingan reading
    # or posting Banjarmasin's requests through them is tried in tests/api/test_open311.py.
    "tenant.open311.discovery": "the argument is the answer format, not an object",
    "tenant.open311.services": "the argument is the answer format, not an object",
    "tenant.open311.list_requests": "the argument is the answer format; tests/api/test_open311.py asks Katingan's "
                                    "list for Banjarmasin's codes",
    "tenant.open311.create_request": "the argument is the answer format; tests/api/test_open311.py posts with "
                                     "Katingan's key to Banjarmasin",
}


def _rules(app):
    return list(app.url_map.iter_rules())


def _tenant_rules(app):
    return [r for r in _rules(app) if r.endpoint.startswith("tenant.")]


def _url(rule, slug: str, values: dict | None = None) -> str:
    url = rule.rule.replace("<tenant>", slug)
    for name, value in (values or {}).items():
        url = re.sub(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>", str(value), url)
    assert "<" not in url, f"unfilled argument in {url}"
    return url


# ------------------------------------------------------------------ classification


def test_every_url_rule_is_classified(app):
    unclassified = sorted(
        f"{r.endpoint} {r.rule}" for r in _rules(app)
        if not (r.endpoint.startswith("tenant.") or r.endpoint in PLATFORM or r.endpoint in STATIC)
    )
    assert not unclassified, f"classify these rules in PLATFORM (with a reason) or mount them under tenant: " \
                             f"{unclassified}"


def test_platform_list_has_no_stale_entries(app):
    endpoints = {r.endpoint for r in _rules(app)}
    assert not set(PLATFORM) - endpoints


def test_tenant_rules_carry_the_tenant_in_the_path_and_platform_rules_do_not(app):
    for rule in _rules(app):
        if rule.endpoint.startswith("tenant."):
            assert rule.rule.startswith("/<tenant>/"), rule.rule
        else:
            assert "tenant" not in rule.arguments, rule.rule


def test_every_object_argument_of_a_tenant_rule_has_a_cross_tenant_value(app):
    unknown = sorted(
        f"{r.endpoint}: {arg}" for r in _tenant_rules(app) if r.endpoint not in OBJECT_RULES_TESTED_ELSEWHERE
        for arg in r.arguments - {"tenant"} if arg not in OBJECT_ARGS
    )
    assert not unknown, f"add these URL arguments to OBJECT_ARGS so the cross-tenant test can try them: {unknown}"


# ------------------------------------------------------------------ Katingan staff on Banjarmasin's pages


@pytest.fixture()
def ktg_admin(ktg, make_user):
    return make_user(ktg, "tenant_admin", name="Supardi Egal")


@pytest.fixture()
def ktg_admin_client(app, ktg, ktg_admin):
    client = app.test_client()
    assert login(client, ktg, ktg_admin.email).status_code == 302
    return client


def _no_arg_get_rules(app):
    return [r for r in _tenant_rules(app) if "GET" in r.methods and r.arguments == {"tenant"}]


def test_katingan_admin_is_treated_as_anonymous_on_every_banjarmasin_page(app, db, bjm, ktg_admin, ktg_admin_client):
    anonymous = app.test_client()
    rules = _no_arg_get_rules(app)
    assert len(rules) >= 5
    for rule in rules:
        url = _url(rule, "banjarmasin") + QUERY_ARGS.get(rule.endpoint, "")
        as_staff, as_nobody = ktg_admin_client.get(url), anonymous.get(url)
        assert as_staff.status_code == as_nobody.status_code, url
        allowed = (200, 302, 403, 404) + ((401,) if rule.endpoint.startswith(API_KEY_PREFIXES) else ())
        assert as_staff.status_code in allowed, url
        if as_staff.status_code == 302:
            assert "/banjarmasin/login" in as_staff.headers["Location"], url
        if as_staff.status_code == 200:
            assert ktg_admin.name not in as_staff.text, f"{url} shows the Katingan user as signed in"
            assert 'href="/banjarmasin/staff/"' not in as_staff.text, f"{url} shows the staff menu"


def test_staff_pages_that_katingan_admin_may_open_at_home_are_closed_in_banjarmasin(app, db, ktg_admin_client):
    opened_at_home = 0
    for rule in _no_arg_get_rules(app):
        if "/staff" not in rule.rule:
            continue
        home = ktg_admin_client.get(_url(rule, "katingan"))
        away = ktg_admin_client.get(_url(rule, "banjarmasin"))
        opened_at_home += home.status_code == 200
        assert away.status_code in (302, 403, 404), rule.rule
        if away.status_code == 302:
            assert "/banjarmasin/login" in away.headers["Location"]
    assert opened_at_home >= 2  # the admin really is signed in at home: the refusal above means something


@pytest.fixture()
def bjm_objects(db, bjm):
    """One Banjarmasin object for every kind of id a tenant URL takes."""
    with tenant_scope(bjm.id):
        complaint = make(Complaint)
        objects = {
            "complaint": complaint,
            "followup": make(FollowUp, complaint_id=complaint.id, status="submitted"),
            "attachment": make(Attachment, complaint_id=complaint.id, public=True),
            "template": make(ResponseTemplate),
            "webhook": make(Webhook),
            "agency": make(Agency),
            "category": make(Category),
            "user": make(User),
            "api_key": make(ApiKey),
            "export": make(ComplaintExport),
        }
        objects["delivery"] = make(WebhookDelivery, webhook_id=objects["webhook"].id, complaint_id=complaint.id)
        objects["session"] = make(UserSession, user_id=objects["user"].id)
        # A request posted through Open311 is found again by its token (stored as the submission key).
        objects["open311_token"] = "0123456789abcdef0123456789abcdef"
        make(Complaint, submission_key="open311:" + objects["open311_token"])
        db.session.commit()
        for obj in objects.values():
            if not isinstance(obj, str):
                db.session.refresh(obj)
    return objects


def _bjm_state(db, bjm, complaint_id):
    db.session.expire_all()
    with tenant_scope(bjm.id):
        c = db.session.get(Complaint, complaint_id)
        events = db.session.scalar(select(func.count(ComplaintEvent.id)).filter_by(complaint_id=complaint_id))
        templates = [(t.title, t.active) for t in db.session.scalars(select(ResponseTemplate).order_by("id"))]
        hooks = [(h.active, h.secret_nonce) for h in db.session.scalars(select(Webhook).order_by("id"))]
        deliveries = [(d.status, d.attempts) for d in db.session.scalars(select(WebhookDelivery).order_by("id"))]
        agencies = [(a.name, a.active) for a in db.session.scalars(select(Agency).order_by("id"))]
        categories = [(x.name_id, x.default_agency_id, x.active) for x in db.session.scalars(select(Category))]
        users = [(u.role, u.agency_id, u.active) for u in db.session.scalars(select(User).order_by("id"))]
        api_keys = [(k.revoked_at, k.scopes) for k in db.session.scalars(select(ApiKey).order_by("id"))]
        return c.version, c.status, events, templates, hooks, deliveries, agencies, categories, users, api_keys


def test_katingan_admin_gets_404_for_banjarmasin_ids_on_every_tenant_rule(app, db, bjm, ktg, ktg_admin_client,
                                                                           bjm_objects):
    before = _bjm_state(db, bjm, bjm_objects["complaint"].id)
    # A valid Katingan API key with every scope goes along, so the API rules get past authentication too.
    headers = auth(make_key(db, ktg, ("read", "write")))
    tried = 0
    for rule in _tenant_rules(app):
        args = rule.arguments - {"tenant"}
        if not args or rule.endpoint in OBJECT_RULES_TESTED_ELSEWHERE:
            continue
        url = _url(rule, "katingan", {a: OBJECT_ARGS[a](bjm_objects) for a in args})
        for method in sorted(rule.methods & {"GET", "POST"}):
            resp = ktg_admin_client.open(url, method=method, data={}, headers=headers)
            assert resp.status_code == 404, f"{method} {url} → {resp.status_code}"
            tried += 1
    assert tried >= 1
    assert _bjm_state(db, bjm, bjm_objects["complaint"].id) == before


def test_katingan_admin_opens_a_katingan_complaint_by_the_same_route(app, db, ktg, ktg_admin_client):
    """The control for the 404s above: the detail route works for Katingan's own report."""
    if "tenant.complaints_staff.detail" not in {r.endpoint for r in _rules(app)}:
        pytest.skip("no staff complaint page yet")
    with tenant_scope(ktg.id):
        c = make(Complaint)
        db.session.commit()
        c_id = c.id
    assert ktg_admin_client.get(f"/katingan/staff/complaints/{c_id}").status_code == 200


# ------------------------------------------------------------------ finding the tenant


def _add_tenant(db, slug: str, status: str) -> Tenant:
    tenant = Tenant(slug=slug, name=f"Pemerintah Kabupaten {slug.title()}", type="kabupaten",
                    province="Kalimantan Tengah", region_code=f"62.{len(slug):02d}{status[0]}",
                    code_prefix=slug[:3].upper(), timezone="Asia/Pontianak", status=status)
    db.session.add(tenant)
    db.session.commit()
    return tenant


def test_unknown_tenant_answers_the_404_page(app, client, tenants):
    resp = client.get("/atlantis/")
    assert resp.status_code == 404
    assert '<html lang="id">' in resp.text
    with app.test_request_context(), force_locale("id"):
        heading = gettext("Page not found")
    assert f"<h1>{heading}</h1>" in resp.text


def test_pending_tenant_answers_404(app, db, client, tenants):
    _add_tenant(db, "kapuas", TenantStatus.PENDING)
    assert client.get("/kapuas/").status_code == 404
    assert client.get("/kapuas/login").status_code == 404


def test_suspended_tenant_answers_503_with_the_suspension_page(app, db, client, tenants):
    tenant = _add_tenant(db, "seruyan", TenantStatus.SUSPENDED)
    resp = client.get("/seruyan/")
    assert resp.status_code == 503
    assert tenant.name in resp.text
    assert client.get("/seruyan/lapor").status_code == 503
    assert client.post("/seruyan/lapor", data={}).status_code == 503
    # Its staff may still sign in and read (data is kept); tests/web/test_central_console.py covers the rest.
    assert client.get("/seruyan/login").status_code == 200
    assert client.get("/seruyan/staff/").status_code == 302


@pytest.fixture()
def host_routing(app):
    """Domain routing with a fresh cache (it outlives tests), and BASE_DOMAIN lapor.example."""
    middleware = app.wsgi_app
    old_base = app.config["BASE_DOMAIN"]
    app.config["BASE_DOMAIN"] = "lapor.example"
    middleware.invalidate()
    yield middleware
    app.config["BASE_DOMAIN"] = old_base
    middleware.invalidate()


def test_custom_domain_serves_its_tenant_at_the_root(client, tenants, host_routing):
    resp = client.get("/", headers={"Host": "lapor.banjarmasinkota.go.id"})
    assert resp.status_code == 200
    assert "Lapor Baiman" in resp.text and "Pemerintah Kota Banjarmasin" in resp.text
    assert client.get("/login", headers={"Host": "lapor.banjarmasinkota.go.id"}).status_code == 200
    # The path-prefixed URLs that url_for produces keep working on the custom domain.
    assert client.get("/banjarmasin/login", headers={"Host": "lapor.banjarmasinkota.go.id"}).status_code == 200


def test_custom_domain_never_serves_another_tenant(client, tenants, host_routing):
    assert client.get("/katingan/", headers={"Host": "lapor.banjarmasinkota.go.id"}).status_code == 404


def test_subdomain_of_the_base_domain_serves_its_tenant(client, tenants, host_routing):
    resp = client.get("/", headers={"Host": "katingan.lapor.example"})
    assert resp.status_code == 200 and "Lapor Katingan" in resp.text
    assert client.get("/", headers={"Host": "atlantis.lapor.example"}).status_code == 404
    # The bare base domain is the platform.
    platform = client.get("/", headers={"Host": "lapor.example"})
    assert platform.status_code == 200 and "Lapor Katingan" in platform.text and "Lapor Baiman" in platform.text


def test_a_new_custom_domain_works_after_the_cache_is_invalidated(db, client, bjm, ktg, host_routing):
    from app.tenancy.models import TenantDomain

    assert client.get("/", headers={"Host": "lapor.katingankab.go.id"}).status_code == 200  # unknown: platform
    db.session.add(TenantDomain(tenant_id=ktg.id, host="lapor.katingankab.go.id"))
    db.session.commit()
    host_routing.invalidate()
    resp = client.get("/", headers={"Host": "lapor.katingankab.go.id"})
    assert resp.status_code == 200 and "Lapor Katingan" in resp.text and "Lapor Baiman" not in resp.text


def test_health_checks_answer_on_a_tenant_domain(client, tenants, host_routing):
    assert client.get("/healthz", headers={"Host": "lapor.banjarmasinkota.go.id"}).status_code == 200

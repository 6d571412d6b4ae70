"""The public report form's rate limit keeps the report (security review, issue 15 item 11).

Past the limit the form comes back with everything typed (files excepted, and the page says so), a
translated explanation of when to send it again, 429 and ``Retry-After``. Limits are per region
(``settings.rate_limits`` in tenant.toml, default in tenants/_template), and a front desk (a signed-in
staff member of the region, or an address in the region's trusted networks) is not limited.
"""

from __future__ import annotations

import io
import tempfile
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.tenancy.files import TenantConfigError, load_tenant_config
from tests.conftest import DEMO_PASSWORD, REPO, login
from tests.web.citizen_support import form_data, pin_of

LIMIT = 2
TITLE = "Jembatan <kayu> di Gang Mawar & sekitarnya rapuh"
DESCRIPTION = "Papan jembatan banyak yang patah, anak sekolah harus lewat sini setiap pagi. Mohon segera diperbaiki."
OFFICER = "petugas@banjarmasin.example"


@pytest.fixture(scope="module")
def limited():
    """An app of its own with rate limiting on, two regions, and a small limit in each region's settings."""
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.services import create_user
    from app.extensions import db, limiter
    from app.tenancy.files import sync_tenant
    from app.tenancy.scope import tenant_scope

    folder = tempfile.mkdtemp(prefix="lapor-submitlimit-")
    application = create_app({
        "APP_ENV": "testing", "TESTING": True, "SECRET_KEY": "submit-limit-test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/test.db", "REDIS_URL": None, "JOBS_INLINE": True,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "SUBMIT_RATE_LIMIT": None, "MAIL_SERVER": None, "SMS_GATEWAY_URL": None,
    })
    slugs = {}
    try:
        with application.app_context():
            upgrade(directory=str(REPO / "migrations"))
            for slug in ("banjarmasin", "katingan"):
                tenant = sync_tenant(load_tenant_config(REPO / "tenants", slug))
                slugs[slug] = tenant.id
            with tenant_scope(slugs["banjarmasin"]):
                create_user(OFFICER, "Petugas", "officer", password=DEMO_PASSWORD)
            db.session.commit()
            db.session.remove()
        yield application, slugs
    finally:
        limiter.reset()
        limiter.enabled = False
        with application.app_context():
            db.engine.dispose()


def _set_limits(app, tenant_id: int, **rate_limits) -> None:
    from app.extensions import db
    from app.tenancy.models import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "rate_limits": {"submit": f"{LIMIT} per minute", **rate_limits}}
        db.session.commit()
        db.session.remove()


@pytest.fixture()
def app_(limited):
    from app.extensions import limiter

    application, slugs = limited
    for tenant_id in slugs.values():
        _set_limits(application, tenant_id)
    limiter.reset()
    return application


def _post(client, slug: str, with_file: bool = False, **overrides):
    data = form_data(title=TITLE, description=DESCRIPTION, **pin_of(slug, overrides))
    if with_file:
        data["attachments"] = [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "surat.pdf")]
    return client.post(f"/{slug}/lapor", data=data, content_type="multipart/form-data")


def _complaints(app, tenant_id: int) -> int:
    from app.complaints.models import Complaint
    from app.extensions import db
    from app.tenancy.scope import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        n = db.session.scalar(select(func.count(Complaint.id)))
        db.session.remove()
        return n


def test_a_limited_report_comes_back_with_everything_typed_and_when_to_retry(app_, limited):
    _, slugs = limited
    client = app_.test_client()
    for _ in range(LIMIT):
        assert _post(client, "banjarmasin").status_code == 303
    key = "0123456789abcdef0123456789abcdef"
    resp = _post(client, "banjarmasin", with_file=True, submission_key=key, reporter_phone="081298765432")
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.text
    # Everything typed is in the form again (escaped as text), the submission key included, so a retry
    # cannot create the report twice.
    assert "Jembatan &lt;kayu&gt; di Gang Mawar &amp; sekitarnya rapuh" in html
    assert "Papan jembatan banyak yang patah" in html
    assert "081298765432" in html and "siti.rahmah@contoh.id" in html and "Siti Norhayati Rahmah" in html
    assert f'value="{key}"' in html
    # In Indonesian (the default), with when to send it again, and that files must be chosen again.
    assert "laporan ini belum terkirim" in html and "kirim lagi dalam" in html
    assert "pilih berkas Anda lagi" in html
    assert _complaints(app_, slugs["banjarmasin"]) == LIMIT


def test_the_explanation_follows_the_language(app_):
    client = app_.test_client()
    for _ in range(LIMIT):
        _post(client, "banjarmasin")
    resp = client.post("/banjarmasin/lapor?lang=en", data=form_data(title=TITLE, description=DESCRIPTION))
    assert resp.status_code == 429
    assert "this report was not sent yet" in resp.text and "send it again in" in resp.text


def test_each_region_counts_its_own_reports(app_, limited):
    _, slugs = limited
    client = app_.test_client()
    for _ in range(LIMIT):
        assert _post(client, "banjarmasin").status_code == 303
    assert _post(client, "banjarmasin").status_code == 429
    # The same address in another region: its own counter, its own limit.
    _set_limits(app_, slugs["katingan"], submit=f"{LIMIT + 1} per minute")
    assert [_post(client, "katingan").status_code for _ in range(LIMIT + 1)] == [303] * (LIMIT + 1)
    assert _post(client, "katingan").status_code == 429


def test_a_front_desk_officer_of_the_region_is_not_limited(app_, limited):
    _, slugs = limited
    client = app_.test_client()
    assert login(client, SimpleNamespace(slug="banjarmasin"), OFFICER).status_code == 302
    assert [_post(client, "banjarmasin").status_code for _ in range(LIMIT + 3)] == [303] * (LIMIT + 3)
    # Another visitor on the same address is still limited (the front desk's reports did not count).
    visitor = app_.test_client()
    assert [_post(visitor, "banjarmasin").status_code for _ in range(LIMIT + 1)] == [303] * LIMIT + [429]


def test_a_trusted_network_of_the_region_is_not_limited(app_, limited):
    _, slugs = limited
    _set_limits(app_, slugs["banjarmasin"], trusted_networks=["127.0.0.0/29"])
    client = app_.test_client()
    assert [_post(client, "banjarmasin").status_code for _ in range(LIMIT + 3)] == [303] * (LIMIT + 3)
    # Only that region trusts the network.
    statuses = [_post(client, "katingan").status_code for _ in range(LIMIT + 1)]
    assert statuses == [303] * LIMIT + [429]
    # An address outside the network is limited as usual.
    other = [client.post("/banjarmasin/lapor", data=form_data(), environ_base={"REMOTE_ADDR": "10.9.8.7"},
                         content_type="multipart/form-data").status_code for _ in range(LIMIT + 1)]
    assert other == [303] * LIMIT + [429]


def test_the_template_sets_a_limit_sized_for_shared_addresses_and_bad_values_are_refused(tmp_path):
    import shutil

    from limits import parse_many

    settings = load_tenant_config(REPO / "tenants", "banjarmasin").settings["rate_limits"]
    per_minute = [lim for lim in parse_many(settings["submit"]) if lim.GRANULARITY.name == "minute"]
    assert per_minute and per_minute[0].amount >= 10  # more than the old 5: CGNAT puts many behind one address
    assert settings["trusted_networks"] == []
    shutil.copytree(REPO / "tenants", tmp_path / "tenants")
    path = tmp_path / "tenants" / "katingan" / "tenant.toml"
    original = path.read_text()
    for bad, field in (('submit = "lots"', "settings.rate_limits.submit"),
                       ('trusted_networks = ["kantor kelurahan"]', "settings.rate_limits.trusted_networks[0]")):
        path.write_text(original + f"\n[settings.rate_limits]\n{bad}\n")
        with pytest.raises(TenantConfigError) as exc:
            load_tenant_config(tmp_path / "tenants", "katingan")
        assert exc.value.field == field

"""Language choice (user, explicit, region, default) and Indonesian date, time zone and money formats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale, get_locale, gettext

from app.accounts.models import User
from app.i18n import format_dt, format_number, format_rupiah, zone_abbr
from app.tenancy.scope import tenant_scope

# 28 November 2026 is a Saturday; 06.05 UTC is 14.05 WITA, 13.05 WIB, 15.05 WIT.
AT = datetime(2026, 11, 28, 6, 5, tzinfo=UTC)


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize(("value", "zone", "locale", "expected"), [
    (AT, "Asia/Makassar", "id", "Sabtu, 28 November 2026, 14.05 WITA"),
    (datetime(2026, 11, 27, 6, 5, tzinfo=UTC), "Asia/Makassar", "id", "Jumat, 27 November 2026, 14.05 WITA"),
    (AT, "Asia/Pontianak", "id", "Sabtu, 28 November 2026, 13.05 WIB"),
    (AT, "Asia/Jakarta", "id", "Sabtu, 28 November 2026, 13.05 WIB"),
    (AT, "Asia/Jayapura", "id", "Sabtu, 28 November 2026, 15.05 WIT"),
    (AT, "Asia/Makassar", "en", "Saturday, 28 November 2026, 14:05 WITA"),
    (datetime(2026, 8, 17, 2, 0, tzinfo=UTC), "Asia/Makassar", "id", "Senin, 17 Agustus 2026, 10.00 WITA"),
])
def test_format_dt_writes_the_local_day_date_time_and_zone(app, value, zone, locale, expected):
    with app.app_context():
        assert format_dt(value, zone, locale) == expected


def test_format_dt_takes_the_local_date_across_midnight(app):
    late = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)  # 01.00 WITA on Sunday 29 November
    with app.app_context():
        assert format_dt(late, "Asia/Makassar", "id", with_time=False) == "Minggu, 29 November 2026"
        assert format_dt(late, "Asia/Pontianak", "id", with_time=False) == "Minggu, 29 November 2026"
        assert format_dt(late, "Asia/Pontianak", "id") == "Minggu, 29 November 2026, 00.00 WIB"


def test_format_dt_reads_naive_values_as_utc_and_none_as_empty(app):
    with app.app_context():
        assert format_dt(AT.replace(tzinfo=None), "Asia/Makassar", "id") == "Sabtu, 28 November 2026, 14.05 WITA"
        assert format_dt(None, "Asia/Makassar", "id") == ""


def test_format_dt_in_a_request_uses_the_regions_zone_and_language(app, client, bjm, ktg):
    from flask import g

    for tenant, expected in ((bjm, "Sabtu, 28 November 2026, 14.05 WITA"), (ktg, "Sabtu, 28 November 2026, 13.05 WIB")):
        with app.test_request_context(f"/{tenant.slug}/"):
            g.tenant = tenant
            assert format_dt(AT) == expected


def test_zone_abbreviations():
    assert [zone_abbr(z, AT) for z in ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")] == ["WIB", "WITA", "WIT"]


def test_rupiah_and_numbers_use_indonesian_separators(app):
    assert format_rupiah(1_500_000) == "Rp1.500.000"
    assert format_rupiah(0) == "Rp0"
    assert format_number(657_663, "id") == "657.663"
    assert format_number(657_663, "en") == "657,663"


# ------------------------------------------------------------------ choosing the language


def _lang(resp) -> str:
    return resp.text.split('<html lang="', 1)[1].split('"', 1)[0]


def test_pages_are_indonesian_by_default(client, bjm):
    assert _lang(client.get("/banjarmasin/")) == "id"
    assert _lang(client.get("/")) == "id"


def test_lang_query_switches_one_page(client, bjm):
    assert _lang(client.get("/banjarmasin/?lang=en")) == "en"
    assert _lang(client.get("/banjarmasin/")) == "id"  # not remembered
    assert _lang(client.get("/banjarmasin/?lang=fr")) == "id"  # unsupported: ignored


def test_choosing_a_language_is_remembered_and_returns_to_the_page(client, bjm):
    resp = client.post("/lang/en?next=/banjarmasin/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/"
    assert _lang(client.get("/banjarmasin/")) == "en"
    with client.session_transaction() as session:
        assert session["lang"] == "en"
    client.post("/lang/id")
    assert _lang(client.get("/banjarmasin/")) == "id"


def test_choosing_an_unknown_language_is_404_and_an_outside_next_is_ignored(client, bjm):
    assert client.post("/lang/fr").status_code == 404
    resp = client.post("/lang/en?next=https://evil.example/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_a_signed_in_users_choice_is_saved_as_their_preference_and_wins(db, client, bjm, make_user, login_as):
    user = make_user(bjm, "officer")
    login_as(bjm, user)
    page = client.get("/banjarmasin/staff/").text
    assert 'action="/banjarmasin/lang/en?next=' in page  # the switcher stays inside the region
    resp = client.post("/banjarmasin/lang/en?next=/banjarmasin/staff/")
    assert resp.status_code == 302 and resp.headers["Location"] == "/banjarmasin/staff/"
    db.session.expire_all()
    with tenant_scope(bjm.id):
        assert db.session.get(User, user.id).locale == "en"
    with client.session_transaction() as session:
        session.pop("lang")
    assert _lang(client.get("/banjarmasin/staff/?lang=id")) == "en"  # the account's language wins
    assert client.post("/banjarmasin/lang/fr").status_code == 404


def test_a_regions_default_language_applies_to_its_pages_only(db, client, bjm, ktg):
    ktg.locale = "en"
    db.session.commit()
    assert _lang(client.get("/katingan/")) == "en"
    assert _lang(client.get("/banjarmasin/")) == "id"
    assert _lang(client.get("/katingan/?lang=id")) == "id"


def test_get_locale_follows_the_request(app):
    for url, expected in (("/banjarmasin/?lang=en", "en"), ("/banjarmasin/", "id"), ("/?lang=xx", "id")):
        with app.app_context(), app.test_request_context(url):  # a fresh g: Flask-Babel caches the locale there
            assert str(get_locale()) == expected


def test_the_404_page_renders_in_each_language(app, client):
    for locale in ("id", "en"):
        resp = client.get(f"/atlantis/?lang={locale}")
        assert resp.status_code == 404 and _lang(resp) == locale
        with app.test_request_context(), force_locale(locale):
            assert f"<h1>{gettext('Page not found')}</h1>" in resp.text

"""Maps (issue 16): the region's area on every channel, the tile server in the Content-Security-Policy, a
report's position for the people allowed to see it, and the transparency page's map, filters and privacy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm.attributes import flag_modified

from app.complaints.area import Area, area_from_settings
from app.config import OSM_TILE_URL, load_config
from app.tenancy.files import TenantConfigError, load_tenant_config
from app.web_security import csp_for
from tests.api.support import auth, make_key
from tests.conftest import REPO
from tests.web.citizen_support import drive, post_report, the_complaint, token_from
from tests.web.staff_support import login, make_staff

OUTSIDE_BJM = {"latitude": "-1.8950", "longitude": "113.4050"}  # Kasongan, in Katingan


@pytest.fixture(autouse=True)
def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, "officer", name="Faturrahim")


def sent(client, db, tenant, **overrides):
    resp = post_report(client, tenant, **overrides)
    assert resp.status_code == 303, resp.text[:2000]
    return the_complaint(db, tenant), token_from(resp.headers["Location"])


def without_area(db, tenant):
    settings = dict(tenant.settings)
    settings.pop("area", None)
    tenant.settings = settings
    flag_modified(tenant, "settings")
    db.session.commit()


# ---------------------------------------------------------------- the area

def test_demo_regions_have_an_area_and_the_template_none():
    bjm = area_from_settings(load_tenant_config(REPO / "tenants", "banjarmasin").settings)
    ktg = area_from_settings(load_tenant_config(REPO / "tenants", "katingan").settings)
    assert bjm.contains(-3.3194, 114.5908) and not bjm.contains(-1.895, 113.405)
    assert ktg.contains(-1.895, 113.405) and ktg.contains(-3.23, 113.08) and not ktg.contains(-3.3194, 114.5908)
    from app.tenancy.files import load_template_config
    assert area_from_settings(load_template_config(REPO / "tenants").settings) is None


def test_a_boundary_narrows_the_box():
    triangle = Area(-3.4, 114.5, -3.2, 114.7, ((-3.4, 114.5), (-3.2, 114.5), (-3.4, 114.7)))
    assert triangle.contains(-3.38, 114.52) and not triangle.contains(-3.22, 114.68)


@pytest.mark.parametrize("area, problem", [
    ("bbox = [-3.2, 114.5, -3.4, 114.7]", "settings.area.bbox"),
    ("bbox = [1, 2, 3]", "settings.area.bbox"),
    ("bbox = [-3.4, 114.5, -3.2, 114.7]\nboundary = [[0, 0], [1, 1], [2, 2]]", "settings.area.boundary"),
    ("box = [-3.4, 114.5, -3.2, 114.7]", "settings.area.box"),
])
def test_a_bad_area_is_refused_naming_the_field(tmp_path, area, problem):
    import shutil

    shutil.copytree(REPO / "tenants" / "_template", tmp_path / "_template")
    (tmp_path / "kapuas").mkdir()
    (tmp_path / "kapuas" / "tenant.toml").write_text(
        '[tenant]\nslug = "kapuas"\nname = "Kab. Kapuas"\ntype = "kabupaten"\nprovince = "Kalimantan Tengah"\n'
        f'region_code = "62.03"\ncode_prefix = "KPS"\ntimezone = "Asia/Pontianak"\n\n[settings.area]\n{area}\n')
    with pytest.raises(TenantConfigError) as err:
        load_tenant_config(tmp_path, "kapuas")
    assert err.value.field == problem


def test_web_form_accepts_a_pin_inside_and_refuses_one_outside_the_region(client, db, bjm):
    c, _ = sent(client, db, bjm)
    assert (c.latitude, c.longitude) == (pytest.approx(-3.3194), pytest.approx(114.5908))
    resp = post_report(client, bjm, **OUTSIDE_BJM)
    assert resp.status_code == 400
    assert "outside the area of Pemerintah Kota Banjarmasin" in resp.text
    assert 'id="latitude-errors"' in resp.text or "latitude" in resp.text


def test_web_form_error_is_translated(client, db, bjm):
    with client.session_transaction() as session:
        session["lang"] = "id"
    resp = post_report(client, bjm, **OUTSIDE_BJM)
    assert resp.status_code == 400 and "di luar wilayah Pemerintah Kota Banjarmasin" in resp.text


def test_rest_refuses_a_pin_outside_the_region_at_the_location_fields(client, db, bjm):
    token = make_key(db, bjm)
    body = {"title": "Sampah menumpuk di pasar", "class": "pengaduan",
            "description": "Sampah di Pasar Lama tidak diangkut sejak lima hari, baunya sampai ke rumah warga.",
            "location": {"text": "Pasar Lama", "latitude": -1.895, "longitude": 113.405},
            "reporter": {"name": "Siti", "email": "siti@contoh.id"}}
    resp = client.post("/banjarmasin/api/v1/complaints", json=body, headers=auth(token))
    assert resp.status_code == 400, resp.text
    fields = resp.json["error"]["fields"]
    assert "outside the area" in fields["location.latitude"] and "location.longitude" in fields
    body["location"].update(latitude=-3.3186, longitude=114.5944)
    assert client.post("/banjarmasin/api/v1/complaints", json=body, headers=auth(token)).status_code == 201


def test_open311_refuses_a_pin_outside_the_region(client, db, bjm):
    token = make_key(db, bjm)
    data = {"service_code": "jalan", "lat": "-1.895", "long": "113.405", "api_key": token, "first_name": "Siti",
            "description": "Lubang besar di tengah jalan, sudah dua minggu tidak diperbaiki."}
    resp = client.post("/banjarmasin/open311/v2/requests.json", data=data)
    assert resp.status_code == 400 and "outside the area" in resp.text
    data.update(lat="-3.3194", long="114.5908")
    assert client.post("/banjarmasin/open311/v2/requests.json", data=data).status_code == 201


def test_a_region_without_an_area_accepts_any_position_in_indonesia(client, db, bjm):
    without_area(db, bjm)
    c, _ = sent(client, db, bjm, **OUTSIDE_BJM)
    assert c.latitude == pytest.approx(-1.895)
    assert post_report(client, bjm, latitude="51.5", longitude="0.1").status_code == 400  # still Indonesia only


# ---------------------------------------------------------------- the form

def test_form_has_the_map_button_and_no_visible_control_needs_javascript(client, bjm):
    html = client.get("/banjarmasin/lapor").text
    assert 'data-map-open hidden' in html and "data-locate hidden" in html and "data-map-picker hidden" in html
    assert 'data-bbox="-3.39,114.51,-3.25,114.67"' in html
    assert "leaflet.js" in html and "<script src=" in html and 'src="/static/vendor' not in html  # on demand only
    css = client.get("/static/app.css").text
    assert "[hidden] { display: none !important; }" in css  # no .btn rule can show a hidden control


# ---------------------------------------------------------------- tiles and the CSP

def test_the_csp_allows_the_configured_tile_host_and_nothing_else(app, client, bjm, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example.go.id/{z}/{x}/{y}.png")
    resp = client.get("/banjarmasin/lapor")
    csp = resp.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.go.id;" in csp
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    assert 'data-tile-url="https://tiles.example.go.id/{z}/{x}/{y}.png"' in resp.text
    assert "img-src 'self' data: https://*.tile.example.org;" in csp_for("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data:;" in csp_for("")  # no tiles: no outside host


def test_production_defaults_to_openstreetmap_tiles_with_their_credit(monkeypatch):
    monkeypatch.delenv("MAP_TILE_URL", raising=False)
    monkeypatch.delenv("MAP_TILE_ATTRIBUTION", raising=False)
    cfg = load_config({"APP_ENV": "production", "SECRET_KEY": "x" * 40,
                       "SECRETS_KEYS": ["k"]})
    assert cfg["MAP_TILE_URL"] == OSM_TILE_URL and "OpenStreetMap" in cfg["MAP_TILE_ATTRIBUTION"]
    assert load_config({"APP_ENV": "testing"})["MAP_TILE_URL"] == ""


# ---------------------------------------------------------------- a report's position

def test_position_is_shown_with_the_private_link_and_to_staff_but_not_by_code(app, client, db, bjm, officer):
    c, token = sent(client, db, bjm)
    drive(db, bjm, c, officer, "verify")
    private = client.get(f"/banjarmasin/lacak/{c.code}?t={token}").text
    assert "-3.319400, 114.590800" in private and 'href="geo:-3.319400,114.590800"' in private
    assert "https://www.openstreetmap.org/?mlat=-3.319400&amp;mlon=114.590800#map=17/-3.319400/114.590800" in private
    assert "data-map-view" in private and "map_loader.js" in private
    by_code = client.get(f"/banjarmasin/lacak/{c.code}").text
    assert "114.5908" not in by_code and "geo:" not in by_code
    staff = login(app, bjm, officer).get(f"/banjarmasin/staff/complaints/{c.id}").text
    assert "-3.319400, 114.590800" in staff and "geo:-3.319400,114.590800" in staff


def test_no_position_no_map(client, db, bjm):
    c, token = sent(client, db, bjm, latitude="", longitude="")
    page = client.get(f"/banjarmasin/lacak/{c.code}?t={token}").text
    assert "data-map-view" not in page and "geo:" not in page


# ---------------------------------------------------------------- the public map

def test_public_map_shows_checked_reports_never_confidential_anonymous_approximately(client, db, bjm, ktg, officer):
    public, _ = sent(client, db, bjm, title="Drainase tersumbat di Sungai Miai", latitude="-3.298123",
                     longitude="114.599456")
    anon, _ = sent(client, db, bjm, privacy="anonim", title="Parkir liar di Pasar Lama", reporter_name="Budi Santoso",
                   reporter_email="budi@contoh.id", latitude="-3.315678", longitude="114.599987")
    secret, _ = sent(client, db, bjm, privacy="rahasia", title="Pungutan liar di kantor kelurahan")
    unchecked, _ = sent(client, db, bjm, title="Belum diperiksa unit pengaduan")
    drive(db, bjm, public, officer, "verify", "dispose", "publish")
    drive(db, bjm, anon, officer, "verify")
    drive(db, bjm, secret, officer, "verify")

    points = client.get("/banjarmasin/transparansi/peta.json").json["points"]
    by_code = {p["code"]: p for p in points}
    assert set(by_code) == {public.code, anon.code}
    assert (by_code[public.code]["lat"], by_code[public.code]["lng"]) == (-3.29812, 114.59946)
    assert (by_code[anon.code]["lat"], by_code[anon.code]["lng"]) == (-3.316, 114.6)  # about 100 m
    text = str(points)
    assert "Budi" not in text and "budi@" not in text and secret.code not in text and unchecked.code not in text
    assert by_code[public.code]["url"] == f"/banjarmasin/lacak/{public.code}"
    assert client.get("/katingan/transparansi/peta.json").json["points"] == []

    html = client.get("/banjarmasin/transparansi").text
    assert 'data-points-url="/banjarmasin/transparansi/peta.json"' in html and "data-map-points" in html
    assert "Pungutan liar" not in html and "Budi" not in html
    assert "Dinas PUPR" in html or "PUPR" in html  # per-agency figures


def test_transparency_filters_by_category_status_and_month(client, db, bjm, officer):
    from app.agencies.models import Category
    from app.tenancy.scope import tenant_scope

    with tenant_scope(bjm.id):
        jalan = db.session.query(Category).filter_by(code="jalan").one().id
    road, _ = sent(client, db, bjm, title="Jalan berlubang di Kayu Tangi", category_id=str(jalan))
    other, _ = sent(client, db, bjm, title="Sampah menumpuk di Teluk Dalam")
    drive(db, bjm, road, officer, "verify", "dispose")
    drive(db, bjm, other, officer, "verify")

    def listed(query: str) -> tuple[str, set[str]]:
        html = client.get(f"/banjarmasin/transparansi?{query}").text
        codes = {p["code"] for p in client.get(f"/banjarmasin/transparansi/peta.json?{query}").json["points"]}
        return html, codes

    html, codes = listed("category=jalan")
    assert "Jalan berlubang" in html and "Sampah menumpuk" not in html and codes == {road.code}
    assert 'value="jalan" selected' in html
    html, codes = listed("status=verified")
    assert "Sampah menumpuk" in html and "Jalan berlubang" not in html and codes == {other.code}
    month = datetime.now(UTC).strftime("%Y-%m")
    html, codes = listed(f"month={month}")
    assert "Jalan berlubang" in html and codes == {road.code, other.code}
    html, codes = listed("month=2001-01")
    assert "Jalan berlubang" not in html and codes == set()
    html, codes = listed("category=nonsense&status=archived&month=13-99")  # unknown values: ignored
    assert "Jalan berlubang" in html and "Sampah menumpuk" in html


def test_staff_of_another_region_do_not_see_the_position(app, client, db, bjm, ktg, make_user):
    c, _ = sent(client, db, bjm)
    other = make_staff(make_user, ktg, "officer")
    page = login(app, ktg, other).get(f"/banjarmasin/staff/complaints/{c.id}")
    assert page.status_code in (302, 403, 404) and "114.5908" not in page.text

"""The command center wall screen: who may open it, what its JSON carries (and never carries), isolation,
and assets that are all local with no inline script."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.models import Role
from app.config import ConfigError, load_config
from tests.conftest import login
from tests.web.staff_support import REPORTER, submit, verify_and_dispose

WALL = "/banjarmasin/staff/command-center"
DATA = WALL + "/data.json"


def _client(app, tenant, user):
    client = app.test_client()
    assert login(client, tenant, user.email).status_code == 302
    return client


@pytest.fixture()
def officer(bjm, make_user):
    return make_user(bjm, Role.OFFICER, name="Faturrahim")


@pytest.fixture()
def officer_client(app, bjm, officer):
    return _client(app, bjm, officer)


@pytest.mark.parametrize("role", [Role.OFFICER, Role.TENANT_ADMIN])
def test_the_complaint_unit_and_administrators_open_the_wall_and_its_data(app, db, bjm, make_user, role):
    client = _client(app, bjm, make_user(bjm, role))
    assert client.get(WALL).status_code == 200
    resp = client.get(DATA)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"


def test_liaisons_get_403_and_strangers_are_sent_to_sign_in(app, db, bjm, ktg, make_user, client):
    liaison = _client(app, bjm, make_user(bjm, Role.LIAISON))
    assert liaison.get(WALL).status_code == 403 and liaison.get(DATA).status_code == 403
    for path in (WALL, DATA):
        resp = client.get(path)
        assert resp.status_code == 302 and "/banjarmasin/login" in resp.headers["Location"]
    ktg_admin = _client(app, ktg, make_user(ktg, Role.TENANT_ADMIN))
    assert ktg_admin.get("/katingan/staff/command-center/data.json").status_code == 200
    resp = ktg_admin.get(DATA)
    assert resp.status_code == 302 and "/banjarmasin/login" in resp.headers["Location"]


def test_the_board_counts_today_deadlines_and_agencies(app, db, bjm, officer, officer_client):
    now = datetime.now(UTC)
    submit(db, bjm, title="Lampu jalan padam di Jl. Veteran", latitude=-3.319, longitude=114.603)
    late = submit(db, bjm, title="Drainase tersumbat di Teluk Dalam", when=now - timedelta(days=20))
    disposed = submit(db, bjm, title="Jalan berlubang di Kayu Tangi", when=now - timedelta(days=1))
    verify_and_dispose(db, bjm, disposed, officer, "pupr")

    board = officer_client.get(DATA).get_json()
    assert board["today"]["received"] == 1
    assert board["today"]["disposed"] == 1 and board["today"]["verified"] == 1
    assert board["totals"] == {"open": 3, "overdue": 1, "due_soon": board["totals"]["due_soon"]}
    assert [i["code"] for i in board["overdue"]] == [late.code]
    assert board["overdue"][0]["late_working_days"] >= 5
    assert [i["title"] for i in board["incoming"]] == ["Lampu jalan padam di Jl. Veteran"]
    unit, *agencies = board["agencies"]
    assert unit["unit"] is True and unit["open"] == 2 and unit["overdue"] == 1 and unit["incoming"] == 1
    pupr = next(a for a in agencies if a["name"] == "Dinas PUPR")
    assert pupr["open"] == 1 and pupr["incoming"] == 1
    assert all(a["open"] or a["incoming"] for a in agencies)  # idle agencies stay off the wall
    [pin] = board["map"]["pins"]
    assert pin["lat"] == -3.319 and pin["lng"] == 114.603 and pin["state"] == "on_time"


def test_the_board_never_carries_the_complainants_identity(app, db, bjm, officer_client):
    submit(db, bjm, privacy="anonim", title="Pungutan liar di kelurahan", latitude=-3.31, longitude=114.59)
    submit(db, bjm, privacy="rahasia", title="Dugaan suap perizinan di dinas", latitude=-3.32, longitude=114.60)
    submit(db, bjm, title="Sampah menumpuk di TPS Pasar Lama", latitude=-3.315, longitude=114.599)
    text = officer_client.get(DATA).get_data(as_text=True)
    for value in (REPORTER["name"], REPORTER["email"], REPORTER["phone"], "Norhayati", "reporter"):
        assert value not in text
    board = json.loads(text)
    assert "Dugaan suap" not in text  # rahasia: no title anywhere, no pin
    confidential = [i for i in board["incoming"] if i["confidential"]]
    assert len(confidential) == 1 and confidential[0]["code"].startswith("BJM-")
    assert len(board["map"]["pins"]) == 2
    assert {p["lat"] for p in board["map"]["pins"]} == {-3.31, -3.315}
    allowed = {"code", "title", "confidential", "category", "class", "status", "status_label", "stage", "agencies",
               "received", "due", "late_working_days"}
    for item in board["incoming"]:
        assert set(item) <= allowed


def test_the_board_shows_only_its_own_region(app, db, bjm, ktg, officer_client):
    submit(db, ktg, title="Dermaga Tumbang Samba rusak", latitude=-1.465, longitude=112.95)
    submit(db, bjm, title="Jalan rusak di Alalak", latitude=-3.28, longitude=114.58)
    text = officer_client.get(DATA).get_data(as_text=True)
    assert "Tumbang Samba" not in text and "KTG-" not in text and "112.95" not in text
    assert json.loads(text)["today"]["received"] == 1


def test_the_wall_uses_local_assets_and_no_inline_script(app, db, bjm, officer_client):
    page = officer_client.get(WALL).text
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all('src="/static/' in s for s in scripts)
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)  # no inline code between the tags
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert not re.search(r"""(src|href)="(https?:)?//""", page)  # nothing from another host
    assert 'data-tile-url=""' in page  # no tile server configured: markers on a plain background
    client = app.test_client()
    for path in ("/static/vendor/leaflet-1.9.4/leaflet.js", "/static/vendor/leaflet-1.9.4/leaflet.css",
                 "/static/command_center.js", "/static/vendor/leaflet-1.9.4/LICENSE"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        resp.close()


def test_a_configured_tile_server_reaches_the_page(app, db, bjm, officer_client, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example.go.id/{z}/{x}/{y}.png")
    assert 'data-tile-url="https://tiles.example.go.id/{z}/{x}/{y}.png"' in officer_client.get(WALL).text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://tiles.example.go.id/tile.png"])
def test_a_tile_url_without_placeholders_or_scheme_is_refused_at_start(url):
    with pytest.raises(ConfigError):
        load_config({"APP_ENV": "testing", "MAP_TILE_URL": url})

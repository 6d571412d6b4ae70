"""Maps in a real browser (issue 16): the report form's map picker (Leaflet loaded only when opened),
the position on the tracking page, tiles from the configured server, the public map, and the form with
JavaScript off (no dead control; the report is sent). Page weights are printed (``-s``) and appended to
screenshots/page-weight.txt; screenshots go to screenshots/maps/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from struct import pack

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import BIN, REPO, SCREENSHOTS, _free_port
from tests.e2e.test_page_weight import Meter

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "maps"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MAP_BUDGET = 100 * 1024
FORM_BUDGET = 50 * 1024


def _png(rgb=(214, 230, 220)) -> bytes:
    """A plain 256×256 tile."""
    raw = b"".join(b"\x00" + bytes(rgb) * 256 for _ in range(256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


class TileServer:
    """A local XYZ tile server: a PNG for any /z/x/y.png; the paths asked are kept."""

    def __init__(self):
        self.paths: list[str] = []
        tile, paths = _png(), self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                paths.append(self.path)
                ok = re.fullmatch(r"/\d+/\d+/\d+\.png", self.path)
                body = tile if ok else b""
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tiles():
    server = TileServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def tiled_server(live_server, tiles, tmp_path_factory):
    """A second app server on a copy of the seeded demo database, with MAP_TILE_URL on the local tile server."""
    import os

    tmp = tmp_path_factory.mktemp("tiled")
    db = live_server.upload_dir.parent / "e2e.db"
    for suffix in ("", "-wal", "-shm"):
        if (db.parent / (db.name + suffix)).exists():
            shutil.copy(db.parent / (db.name + suffix), tmp / ("e2e.db" + suffix))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")}
    env.update({"APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp}/e2e.db", "UPLOAD_DIR": str(tmp / "up"),
                "PUBLIC_BASE_URL": base, "RATELIMIT_ENABLED": "0", "JOBS_INLINE": "1", "LOG_LEVEL": "WARNING",
                "MAP_TILE_URL": tiles.url + "/{z}/{x}/{y}.png", "MAP_TILE_ATTRIBUTION": "Local test tiles"})
    log = (tmp / "server.log").open("a")
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",  # noqa: S603
                             "--threads", "4", "--no-control-socket", "wsgi:app"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:  # noqa: S310 (our server)
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the tiled server did not start:\n" + (tmp / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def _context(browser, base_url, viewport, js=True):
    context = browser.new_context(base_url=base_url, locale="id-ID", viewport=viewport, java_script_enabled=js)
    context.set_default_timeout(15_000)
    return context


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and "tile" not in msg.text.lower()
            and "ERR_CONNECTION" not in msg.text and errors.append(msg.text))
    return errors


def _fill_report(page, t, slug: str) -> None:
    page.get_by_label(t("Short title")).fill("Lampu jalan mati di gang sempit dekat sungai")
    page.get_by_label(t("What happened?")).fill("Sudah satu minggu lampu jalan di gang ini mati, gelap sekali.")
    page.locator("input[name=complaint_class]").first.check()
    page.get_by_label(t("Your name")).fill("Ahmad Fauzi")
    page.get_by_label(t("Email"), exact=True).fill(f"ahmad.peta.{slug}@example.com")
    page.get_by_label(t("Public"), exact=True).check()
    page.get_by_label(t("I have read and accept the terms of use.")).check()


def _record(lines: list[str]) -> None:
    text = "\n".join(lines)
    print("\n" + text)
    SCREENSHOTS.mkdir(exist_ok=True)
    with (SCREENSHOTS / "page-weight.txt").open("a") as out:
        out.write(text + "\n")


@pytest.mark.parametrize("slug", ["banjarmasin", "katingan"])
def test_pin_on_the_map_fills_the_inputs_and_the_tracking_page_shows_the_position(slug, browser, live_server, catalog):
    """Phone, no tile server (the demo's case): the pin stands on a plain background."""
    t = catalog
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, live_server.url, PHONE)
    page = context.new_page()
    errors = _errors(page)
    meter = Meter(page, live_server.url)
    try:
        page.goto(f"/{slug}/lapor")
        page.wait_for_load_state("networkidle")
        assert page.locator("link[href*=leaflet]").count() == 0 and page.locator("script[src*=leaflet]").count() == 0
        page.evaluate("""() => { window.__moves = [];
            document.addEventListener('location:changed', e => window.__moves.push(e.detail)); }""")
        page.get_by_role("button", name=t("Choose on the map")).click()
        expect(page.locator("#pick-map.leaflet-container")).to_be_visible()
        page.wait_for_load_state("networkidle")
        size, lines, foreign = meter.total()
        _record([f"{slug} submission page with the map opened (JavaScript on, no tiles): {size:,} B "
                 f"({size / 1024:.1f} KB), {len(lines)} requests", *lines])
        assert not foreign, foreign
        assert size <= MAP_BUDGET, f"{size:,} B > {MAP_BUDGET:,} B\n" + "\n".join(lines)

        box = page.locator("#pick-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
        expect(page.locator("#pick-map .leaflet-marker-icon")).to_be_visible()
        lat, lng = float(page.locator("#latitude").input_value()), float(page.locator("#longitude").input_value())
        south, west, north, east = map(float, page.locator("#pick-map").get_attribute("data-bbox").split(","))
        assert south <= lat <= north and west <= lng <= east
        moves = page.evaluate("window.__moves")
        assert moves and moves[-1] == {"lat": lat, "lng": lng}

        # Dragging the pin moves the position.
        pin = page.locator("#pick-map .leaflet-marker-icon").bounding_box()
        page.mouse.move(pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] - 4)
        page.mouse.down()
        page.mouse.move(pin["x"] + pin["width"] / 2 + 30, pin["y"] + pin["height"] + 20, steps=8)
        page.mouse.up()
        expect(page.locator("#longitude")).not_to_have_value(f"{lng:.6f}")
        dragged = float(page.locator("#longitude").input_value())
        assert dragged > lng and page.evaluate("window.__moves")[-1]["lng"] == dragged

        # Typing moves the pin and is announced too.
        page.locator("#latitude").fill(f"{(south + north) / 2:.6f}")
        page.locator("#latitude").dispatch_event("change")
        assert page.evaluate("window.__moves")[-1]["lat"] == pytest.approx((south + north) / 2)
        page.screenshot(path=str(SHOTS / f"{slug}-phone-form-map.png"), full_page=False)
        page.locator("#pick-map").screenshot(path=str(SHOTS / f"{slug}-phone-map-pin.png"))

        _fill_report(page, t, slug)
        page.get_by_role("button", name=t("Send report")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
        link = page.get_by_label(t("Your private tracking link")).input_value()
        page.goto(link)
        coords = page.locator(".coords-value")
        expect(coords).to_contain_text(f"{(south + north) / 2:.6f}")
        view = page.locator("[data-map-view]")
        view.scroll_into_view_if_needed()
        expect(page.locator("[data-map-view].leaflet-container .leaflet-marker-icon")).to_be_visible()
        geo = page.get_by_role("link", name=t("Open in a map app"))
        expect(geo).to_have_attribute("href", re.compile(r"^geo:-?\d+\.\d{6},\d+\.\d{6}$"))
        expect(page.get_by_role("link", name=t("Open in OpenStreetMap"))).to_have_attribute(
            "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=.*#map=17/"))
        page.screenshot(path=str(SHOTS / f"{slug}-phone-tracking.png"), full_page=True)
        assert not errors, errors
    finally:
        context.close()


def test_tiles_come_from_the_configured_server_on_the_form_and_the_public_map(browser, tiled_server, tiles, catalog):
    t = catalog
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, tiled_server, DESKTOP)
    page = context.new_page()
    errors = _errors(page)
    try:
        page.goto("/banjarmasin/lapor")
        before = len(tiles.paths)
        page.get_by_role("button", name=t("Choose on the map")).click()
        expect(page.locator("#pick-map .leaflet-tile-loaded").first).to_be_visible()
        assert len(tiles.paths) > before and all(re.fullmatch(r"/\d+/\d+/\d+\.png", p) for p in tiles.paths)
        expect(page.locator("#pick-map .leaflet-control-attribution")).to_contain_text("Local test tiles")
        box = page.locator("#pick-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        expect(page.locator("#pick-map .leaflet-marker-icon")).to_be_visible()
        page.locator("#pick-map").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "banjarmasin-desktop-form-map-tiles.png"), full_page=False)

        before = len(tiles.paths)
        page.goto("/banjarmasin/transparansi")
        page.locator("#map-of-reports").scroll_into_view_if_needed()
        expect(page.locator("[data-map-points] .leaflet-tile-loaded").first).to_be_visible()
        expect(page.locator("[data-map-points] path.leaflet-interactive").first).to_be_visible()
        assert len(tiles.paths) > before
        page.screenshot(path=str(SHOTS / "banjarmasin-desktop-transparency-map.png"), full_page=False)
        page.get_by_label(t("Status")).select_option("closed")
        page.get_by_role("button", name=t("Filter")).click()
        expect(page).to_have_url(re.compile(r"status=closed"))
        expect(page.locator("[data-map-points].leaflet-container")).to_be_visible()
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("viewport, name", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_public_map_on_a_plain_background_without_tiles(browser, live_server, viewport, name):
    context = _context(browser, live_server.url, viewport)
    page = context.new_page()
    try:
        page.goto("/katingan/transparansi")
        page.locator("#map-of-reports").scroll_into_view_if_needed()
        expect(page.locator("[data-map-points] path.leaflet-interactive").first).to_be_visible()
        page.locator("#map-of-reports").screenshot(path=str(SHOTS / f"katingan-{name}-transparency-map.png"))
    finally:
        context.close()


def test_without_javascript_no_dead_control_is_shown_and_the_typed_position_is_sent(browser, live_server, catalog):
    t = catalog
    context = _context(browser, live_server.url, PHONE, js=False)
    page = context.new_page()
    meter = Meter(page, live_server.url)
    try:
        page.goto("/banjarmasin/lapor")
        page.wait_for_load_state("load")
        size, lines, foreign = meter.total()
        _record([f"banjarmasin submission page without JavaScript: {size:,} B ({size / 1024:.1f} KB), "
                 f"{len(lines)} requests", *lines])
        assert not foreign and size <= FORM_BUDGET
        expect(page.get_by_role("button", name=t("Use my current position"))).to_be_hidden()
        expect(page.get_by_role("button", name=t("Choose on the map"))).to_be_hidden()
        expect(page.locator("#pick-map")).to_be_hidden()
        visible = [b.inner_text().strip() for b in page.locator("form.report-form button").all() if b.is_visible()]
        assert visible == [t("Send report")], visible  # the only button works without JavaScript

        page.get_by_text(t("Add the map position (optional)")).click()
        page.locator("#latitude").fill("-3.3194")
        page.locator("#longitude").fill("114.5908")
        _fill_report(page, t, "banjarmasin-nojs")
        page.screenshot(path=str(SHOTS / "banjarmasin-phone-form-nojs.png"), full_page=True)
        page.get_by_role("button", name=t("Send report")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
        page.goto(page.get_by_label(t("Your private tracking link")).input_value())
        expect(page.locator(".coords-value")).to_have_text("-3.319400, 114.590800")
        expect(page.locator("[data-map-view]")).to_be_hidden()  # no empty box without JavaScript
    finally:
        context.close()

"""Issue 16's citizen journey in one walk, on a phone and on a desktop (Banjarmasin): sign up; on the report
form place a pin on the map beside an open public report, see it in "already reported?", follow it (double
opt-in through the development outbox); file a new report with a photo and a pin; see the thumbnail and the
map on its tracking page; find both under "Laporan saya". axe-core checks every page on the way (conftest).
Screenshots: screenshots/journey/<device>-<step>.png. (JavaScript off: tests/e2e/test_map16_map.py.)"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_mine16_myreports import PASSWORD, _outbox_body
from tests.e2e.test_nearby_panel_walk import _open_public_report
from tests.e2e.test_photo16_photos import street_photo

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "journey"
T = "banjarmasin"
DEVICES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


@pytest.mark.parametrize("device", list(DEVICES))
def test_pin_nearby_follow_file_with_photo_track_and_my_reports(device, browser, live_server, catalog, tmp_path):
    t = catalog
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server.url, locale="id-ID", **DEVICES[device])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    email = f"warga-{device}-{uuid.uuid4().hex[:6]}@contoh.id"
    report = _open_public_report(live_server, T)

    def shot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{device}-{name}.png"), full_page=True)

    try:
        # An account, signed in at once.
        page.goto(f"/{T}/register")
        page.fill("input[name=name]", "Warga Perjalanan")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=confirm]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state("load")

        # The form: a place near the open report, then the map opened there and a tap beside the pin.
        page.goto(f"/{T}/lapor")
        page.get_by_label(t("Short title")).fill(report["title"].split(" di ")[0])
        coords = page.locator("details.coords")
        if coords.count() and coords.get_attribute("open") is None:
            coords.locator("summary").click()
        page.locator("#latitude").fill(f"{report['latitude']:.6f}")
        page.locator("#longitude").fill(f"{report['longitude']:.6f}")
        page.get_by_role("button", name=t("Choose on the map")).click()
        expect(page.locator("#pick-map .leaflet-marker-icon")).to_be_visible()
        box = page.locator("#pick-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2 + 12, box["y"] + box["height"] / 2 + 12)
        expect(page.locator("#latitude")).not_to_have_value(f"{report['latitude']:.6f}")
        lat, lng = float(page.locator("#latitude").input_value()), float(page.locator("#longitude").input_value())
        assert abs(lat - report["latitude"]) < 0.002 and abs(lng - report["longitude"]) < 0.002

        # "Already reported?": the open report is listed with its distance; follow it.
        panel = page.locator("#nearby")
        expect(panel).to_be_visible()
        item = panel.locator("li", has=page.locator(f"a[href='/{T}/lacak/{report['code']}']"))
        expect(item).to_have_count(1)
        expect(item).to_contain_text(" m")
        item.scroll_into_view_if_needed()
        shot("1-pin-and-nearby")
        item.get_by_role("link", name=t("Follow this report")).click()
        page.wait_for_url(re.compile(rf"/lacak/{report['code']}/ikuti"))
        page.fill("input[name=contact]", email)
        page.locator("#follow form button[type=submit]").click()
        expect(page.locator("#follow .flash.info")).to_be_visible()
        body = _outbox_body(page, live_server.url, email, f"/lacak/{report['code']}/ikuti/")
        page.goto(re.search(r"https?://\S+/ikuti/\S+", body).group(0))
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(re.compile(rf"/lacak/{report['code']}$"))
        shot("2-followed")

        # A new report with a photo and a pin on the map.
        page.goto(f"/{T}/lapor")
        page.get_by_label(t("Short title")).fill("Lubang besar di depan pasar")
        page.get_by_label(t("What happened?")).fill("Lubang selebar satu meter di tengah jalan, berbahaya untuk motor.")
        page.locator("#complaint_class-0").check()
        page.get_by_role("button", name=t("Choose on the map")).click()
        expect(page.locator("#pick-map.leaflet-container")).to_be_visible()
        box = page.locator("#pick-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        expect(page.locator("#pick-map .leaflet-marker-icon")).to_be_visible()
        pin = page.locator("#latitude").input_value()
        page.get_by_label(t("Photos or documents (optional)")).set_input_files(street_photo(tmp_path / "jalan.jpg"))
        page.get_by_label(t("Your name")).fill("Warga Perjalanan")
        page.get_by_label(t("Email"), exact=True).fill(email)
        page.get_by_label(t("Public"), exact=True).check()
        page.get_by_label(t("I have read and accept the terms of use.")).check()
        page.get_by_role("button", name=t("Send report")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
        shot("3-received")
        mine = page.url.split("/lapor/diterima/")[1].split("?")[0]
        page.goto(page.get_by_label(t("Your private tracking link")).input_value())

        # Its tracking page: the photo as a thumbnail and the position on a small map.
        thumb = page.get_by_role("link", name=t("Photo %(n)s", n=1), exact=True).locator("img")
        thumb.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        expect(page.locator(".coords-value")).to_contain_text(pin)
        page.locator("[data-map-view]").scroll_into_view_if_needed()
        expect(page.locator("[data-map-view].leaflet-container .leaflet-marker-icon")).to_be_visible()
        shot("4-tracking")

        # "Laporan saya": the report filed and the report followed.
        page.get_by_role("link", name=re.compile("Laporan saya|My reports")).first.click()
        page.wait_for_url(re.compile(r"/laporan-saya$"))
        expect(page.locator(f"#report-{mine}")).to_be_visible()
        expect(page.locator(f"#report-{mine} a[href*='?t=']")).to_have_count(1)
        expect(page.locator(f"#report-{report['code']}")).to_be_visible()
        shot("5-my-reports")
        assert not errors, errors
    finally:
        context.close()

"""Photos as pictures, in a real browser: a report with a photo shows its thumbnail on the tracking
page, tapping it opens the full photo; the confirmation page's link, copy button and QR code on a
phone (390×844) and a desktop. Screenshots in screenshots/photo16/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS

pytestmark = pytest.mark.e2e

SHOTS = SCREENSHOTS / "photo16"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def street_photo(path: Path) -> Path:
    """A 1600×1200 JPEG with a camera name and a GPS position, like a phone's photo."""
    img = Image.new("RGB", (1600, 1200), (120, 160, 200))
    for y in range(700, 1200):
        shade = 70 + (y - 700) // 10
        for x in range(0, 1600, 4):
            img.putpixel((x, y), (shade, shade, shade))
    for x in range(500, 1100):
        for y in range(850, 950):
            img.putpixel((x, y), (40, 30, 20))  # the pothole
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "E2E Phone"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (3.0, 19.0, 9.8)}
    img.save(path, "JPEG", exif=exif, quality=85)
    return path


def file_report(page, t, photo: Path) -> str:
    page.goto("/banjarmasin/lapor")
    page.get_by_label(t("Short title")).fill("Lubang besar di Jl. Veteran")
    page.get_by_label(t("What happened?")).fill("Lubang selebar satu meter di tengah jalan, berbahaya untuk motor.")
    page.locator("#complaint_class-0").check()
    page.get_by_label(t("Photos or documents (optional)")).set_input_files(photo)
    page.get_by_label(t("Your name")).fill("Rudi Hartono")
    page.get_by_label(t("Email"), exact=True).fill("rudi.foto@example.com")
    page.get_by_label(t("Public"), exact=True).check()
    page.get_by_label(t("I have read and accept the terms of use.")).check()
    page.get_by_role("button", name=t("Send report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
    return page.get_by_label(t("Your private tracking link")).input_value()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_photo_thumbnail_and_confirmation_page(device, browser, live_server, catalog, tmp_path):
    t = catalog
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server.url, locale="id-ID",
                                  **(PHONE if device == "phone" else DESKTOP))
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    try:
        link = file_report(page, t, street_photo(tmp_path / "jalan.jpg"))
        assert re.search(r"/banjarmasin/lacak/[A-Z]+-\d{2}-\d{5}\?t=", link), link

        # The confirmation page: the whole link readable (wrapped, nothing cut off), a copy button, a QR code.
        box = page.locator("#private-link")
        expect(box).to_be_visible()
        fits = box.evaluate("e => e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1")
        assert fits, "the private link box cuts the link off"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "page scrolls sideways"
        qr = page.get_by_role("img", name=t("QR code that opens your report"))
        expect(qr).to_be_visible()
        copy = page.get_by_role("button", name=t("Copy link"))
        expect(copy).to_be_visible()
        copy.click()
        expect(page.locator("[data-copy-status]")).to_have_text(t("The link was copied."))
        assert page.evaluate("navigator.clipboard.readText()") == link
        page.screenshot(path=str(SHOTS / f"{device}-received.png"), full_page=True)

        # The tracking page (private link) shows the photo as a thumbnail...
        finished: list = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(link)
        thumb = page.get_by_role("link", name=t("Photo %(n)s", n=1), exact=True).locator("img")
        expect(thumb).to_be_visible()
        thumb.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        assert thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [320, 240]
        assert thumb.get_attribute("loading") == "lazy"
        assert (thumb.get_attribute("width"), thumb.get_attribute("height")) == ("320", "240")
        src = thumb.get_attribute("src")
        resp = page.request.get(src)
        assert resp.ok and resp.headers["content-type"] == "image/webp"
        page.screenshot(path=str(SHOTS / f"{device}-track.png"), full_page=True)
        weight = sum(sum(r.sizes()[k] for k in ("requestHeadersSize", "requestBodySize", "responseHeadersSize",
                                                 "responseBodySize")) for r in finished)
        thumb_bytes = len(resp.body())
        with (SHOTS / "weights.txt").open("a") as out:
            out.write(f"{device} tracking page with one photo (private link, JavaScript on): {weight:,} B transferred "
                      f"({weight / 1024:.1f} KB), {len(finished)} requests; thumbnail {thumb_bytes:,} B\n")
        assert weight <= 50 * 1024, f"tracking page with a photo: {weight} B"

        # ... and tapping it opens the full photo (metadata stripped, full size).
        with context.expect_page() as opened:
            if device == "phone":
                thumb.tap()
            else:
                thumb.click()
        full = opened.value
        full.wait_for_load_state("load")
        assert re.search(r"/lampiran/\d+\?t=", full.url), full.url
        assert full.evaluate("document.contentType") == "image/jpeg"
        assert full.evaluate("[document.images[0].naturalWidth, document.images[0].naturalHeight]") == [1600, 1200]
        full.screenshot(path=str(SHOTS / f"{device}-full-photo.png"))
        full.close()
    finally:
        context.close()


def test_staff_and_transparency_pages_show_the_thumbnail(browser, live_server, catalog, tmp_path):
    """The complaint unit sees the photo as a picture and verifies the public report; then the
    transparency page shows its thumbnail to anyone (on a desktop and a phone)."""
    t = catalog
    SHOTS.mkdir(parents=True, exist_ok=True)
    citizen_ctx = browser.new_context(base_url=live_server.url, locale="id-ID", **DESKTOP)
    staff_ctx = browser.new_context(base_url=live_server.url, locale="id-ID", **DESKTOP)
    phone_ctx = browser.new_context(base_url=live_server.url, locale="id-ID", **PHONE)
    try:
        for ctx in (citizen_ctx, staff_ctx, phone_ctx):
            ctx.set_default_timeout(10_000)
        page = citizen_ctx.new_page()
        link = file_report(page, t, street_photo(tmp_path / "jalan.jpg"))
        code = re.search(r"/lacak/([A-Z0-9-]+)\?", link).group(1)

        staff = staff_ctx.new_page()
        staff.goto("/banjarmasin/login")
        staff.get_by_label(t("Email"), exact=True).fill("koordinator@banjarmasin.demo")
        staff.get_by_label(t("Password"), exact=True).fill("demo-lapor-2026")
        staff.get_by_role("button", name=t("Sign in"), exact=True).click()
        expect(staff.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))
        staff.goto("/banjarmasin/staff/complaints")
        staff.get_by_label(t("Search")).fill(code)
        staff.get_by_role("button", name=t("Filter")).click()
        staff.get_by_role("link", name=code, exact=True).click()
        thumb = staff.locator("ul.attachments li.photo img")
        expect(thumb).to_have_count(1)
        thumb.scroll_into_view_if_needed()
        staff.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=thumb.element_handle())
        staff.screenshot(path=str(SHOTS / "desktop-staff-detail.png"), full_page=True)
        panel = staff.locator("details.action").filter(
            has=staff.locator("summary", has_text=re.compile(rf"^\s*{re.escape(t('Verify'))}\s*$")))
        panel.locator("summary").click()
        panel.get_by_role("button", name=t("Verify"), exact=True).click()
        expect(staff.locator("#report-status")).to_have_text(t("Verified"))

        for device, ctx in (("desktop", citizen_ctx), ("phone", phone_ctx)):
            visitor = ctx.new_page()
            visitor.goto("/banjarmasin/transparansi")
            # This report's card: other walkthroughs of the same run may have published photos too.
            card = visitor.locator("article.public-report").filter(has_text="Lubang besar di Jl. Veteran")
            img = card.locator("a.report-photo img").first
            expect(img).to_be_visible()
            img.scroll_into_view_if_needed()  # loading="lazy": fetched when it comes near the screen
            visitor.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=img.element_handle())
            assert "Lubang besar di Jl. Veteran" in img.get_attribute("alt")
            assert "?t=" not in img.get_attribute("src")  # the public route, no private link
            card.screenshot(path=str(SHOTS / f"{device}-transparency-report.png"))
    finally:
        for ctx in (citizen_ctx, staff_ctx, phone_ctx):
            ctx.close()

"""A complaint's whole life in a real browser, for each demo region.

Citizen sends a report with a geotagged photo → tracks it → the complaint unit verifies it and sends
it to Dinas PUPR → the PUPR liaison writes the follow-up → the unit publishes it → the citizen rates
and replies → the unit closes it. Every step leaves screenshots/<tenant>/NN-step.png and fails on
any browser console error, uncaught page error or server error.

Texts are looked up in the server's compiled Indonesian catalog (the English source text while a
text is not translated yet), so the test follows the translation work instead of fighting it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Locator, Page, expect

from app.tenancy.files import load_tenant_config
from tests.mfa_support import SECRETS, next_code, remember_secret

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo-lapor-2026"  # noqa: S105 (the printed demo password, see app/demo.py)


@dataclass(frozen=True)
class Region:
    slug: str
    code_prefix: str
    pupr_name: str
    category: str  # Indonesian label of the "jalan" category (routed to PUPR)
    complaint_class: str  # Indonesian label of the "pengaduan" class

    @classmethod
    def load(cls, slug: str) -> Region:
        cfg = load_tenant_config(REPO / "tenants", slug)
        pupr = next(a for a in cfg.agencies if a["code"] == "pupr")
        road = next(c for c in cfg.categories if c["code"] == "jalan")
        return cls(slug=slug, code_prefix=cfg.tenant["code_prefix"], pupr_name=pupr["name"],
                   category=road["name_id"], complaint_class=cfg.settings["classes"]["pengaduan"]["name_id"])


def geotagged_jpeg(path: Path) -> Path:
    """A small JPEG photo whose EXIF carries a camera make and a GPS position (Banjarmasin)."""
    img = Image.new("RGB", (320, 240), (52, 101, 164))
    for x in range(40, 280):
        for y in range(150, 170):
            img.putpixel((x, y), (90, 90, 90))  # a "road"
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "E2E Camera"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (3.0, 19.0, 9.84),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (114.0, 35.0, 26.9),
    }
    img.save(path, "JPEG", exif=exif, quality=90)
    with Image.open(path) as check:  # the photo really is geotagged before upload
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return path


def assert_no_exif(data: bytes, what: str) -> None:
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG", f"{what}: not a JPEG but {img.format}"
        assert img.size == (320, 240), f"{what}: size changed to {img.size}"
        exif = img.getexif()
        assert len(exif) == 0, f"{what}: EXIF left in the file: {dict(exif)}"
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo), f"{what}: GPS data left in the file"
        assert "exif" not in img.info, f"{what}: EXIF segment left in the file"


def action(page: Page, label: str) -> Locator:
    """Open the collapsed action panel whose summary reads ``label``; returns the panel."""
    panel = page.locator("details.action").filter(
        has=page.locator("summary", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))
    expect(panel).to_have_count(1)
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def flash(page: Page, text: str) -> None:
    expect(page.locator(".flash").filter(has_text=text)).to_be_visible()


def deadline_of(page: Page, t) -> Locator:
    """The <dd> next to the "Deadline" term of the citizen's page."""
    term = page.locator("dl.facts dt", has_text=re.compile(rf"^\s*{re.escape(t('Deadline'))}\s*$"))
    return term.locator("xpath=following-sibling::dd[1]")


def sign_in(actor, email: str, t) -> None:
    page = actor.page
    page.goto(actor.url("login"))
    page.get_by_label(t("Email"), exact=True).fill(email)
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))


@pytest.mark.parametrize("slug", ["banjarmasin", "katingan"])
def test_complaint_walkthrough(slug, live_server, actors, catalog, clean_screenshots, tmp_path):
    t = catalog  # t(msgid) → the text the server shows
    region = Region.load(slug)
    clean_screenshots(slug)
    code_re = re.compile(rf"^{region.code_prefix}-\d{{2}}-\d{{5}}$")
    title = f"Jalan berlubang di depan pasar ({slug})"
    answer = "Lubang jalan sudah ditambal oleh tim UPT Jalan pada hari Senin. Terima kasih atas laporannya."

    citizen = actors(slug, "citizen")
    page = citizen.page

    # a. The citizen sends a report --------------------------------------------------------------
    page.goto(citizen.url(""))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    send_link = page.get_by_role("link", name=t("Send a report"), exact=True)
    expect(send_link).to_be_visible()
    if catalog.translated("Send a report"):
        expect(send_link).to_have_text(re.compile(r"\b(Lapor|Laporan|Kirim)", re.I))
    citizen.step("01-home")

    send_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Send a report"))
    citizen.step("02-submit-form")

    photo = geotagged_jpeg(tmp_path / "foto-jalan-berlubang.jpg")
    page.get_by_label(t("Short title")).fill(title)
    page.get_by_label(t("What happened?")).fill(
        "Ada lubang besar di badan jalan depan pasar, sudah dua minggu. Motor sering jatuh saat hujan.")
    page.get_by_label(region.complaint_class, exact=True).check()
    page.get_by_label(t("Topic (optional)")).select_option(label=region.category)
    page.get_by_label(t("Location (optional)")).fill("Jl. Pasar Baru, depan pintu masuk pasar")
    page.get_by_label(t("Photos or documents (optional)")).set_input_files(photo)
    page.get_by_label(t("Your name")).fill("Rina Maulida")
    page.get_by_label(t("Email"), exact=True).fill(f"rina.{slug}@example.com")
    page.get_by_label(t("Public"), exact=True).check()
    page.get_by_label(t("I have read and accept the terms of use.")).check()
    citizen.step("03-submit-filled")

    page.get_by_role("button", name=t("Send report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Thank you: your report has been received"))
    code_el = page.get_by_text(code_re)
    expect(code_el).to_be_visible()
    code = code_el.inner_text().strip()
    link = page.get_by_label(t("Your private tracking link")).input_value()
    assert link.startswith(f"{live_server.url}/{slug}/lacak/{code}?t="), link
    citizen.step("04-received")

    # b. The citizen opens the private link ------------------------------------------------------
    page.get_by_role("link", name=t("Open my report")).click()
    expect(page).to_have_url(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(code)
    expect(page.locator("#report-status")).to_have_text(t("Awaiting verification"))
    expect(deadline_of(page, t)).to_be_visible()
    expect(deadline_of(page, t)).to_contain_text(re.compile(r"\d{4}"))  # a date with its year
    citizen.step("05-track-awaiting-verification")

    # g. The photo the citizen gets back carries no EXIF (no GPS, no camera) ----------------------
    photo_link = page.get_by_role("link", name=t("Photo %(n)s", n=1), exact=True)
    expect(photo_link).to_be_visible()
    resp = page.request.get(photo_link.get_attribute("href"))
    assert resp.ok, resp.status
    assert resp.headers["content-type"] == "image/jpeg"
    assert_no_exif(resp.body(), "citizen's attachment")

    # c. The complaint unit verifies it and sends it to Dinas PUPR --------------------------------
    officer = actors(slug, "officer")
    opage = officer.page
    sign_in(officer, f"koordinator@{slug}.demo", t)
    officer.step("06-officer-signed-in")

    opage.get_by_role("link", name=re.compile(re.escape(t("reports in the inbox")))).click()
    expect(opage.get_by_role("heading", level=1)).to_have_text(t("Inbox"))
    opage.get_by_label(t("Search")).fill(code)
    opage.get_by_role("button", name=t("Filter")).click()
    expect(opage.locator("table.list tbody tr")).to_have_count(1)
    officer.step("07-officer-inbox-filtered")

    opage.get_by_role("link", name=code, exact=True).click()
    expect(opage.get_by_role("heading", level=1)).to_have_text(title)
    expect(opage.locator("#report-status")).to_have_text(t("Awaiting verification"))
    staff_photo = opage.get_by_role("link", name=photo.name).first  # also linked from the timeline
    expect(staff_photo).to_be_visible()
    resp = opage.request.get(staff_photo.get_attribute("href"))
    assert resp.ok, resp.status
    assert_no_exif(resp.body(), "stored attachment (staff download)")
    officer.step("08-officer-detail")

    panel = action(opage, t("Verify"))
    expect(panel.get_by_label(t("Title"), exact=True)).to_have_value(title)
    officer.step("09-officer-verify-form")
    panel.get_by_role("button", name=t("Verify"), exact=True).click()
    flash(opage, t("The report is verified."))
    expect(opage.locator("#report-status")).to_have_text(t("Verified"))
    officer.step("10-officer-verified")

    panel = action(opage, t("Send to agencies (disposition)"))
    panel.get_by_label(region.pupr_name, exact=True).check()
    panel.get_by_label(t("Instruction to the agencies (internal)")).fill("Mohon segera ditinjau dan ditambal.")
    officer.step("11-officer-dispose-form")
    panel.get_by_role("button", name=t("Send to agencies (disposition)")).click()
    flash(opage, t("The report is sent to the agencies."))
    expect(opage.locator("#report-status")).to_have_text(t("In progress at the agency"))
    officer.step("12-officer-disposed")

    # d. The PUPR liaison writes the follow-up and sends it for review ----------------------------
    liaison = actors(slug, "pupr liaison")
    lpage = liaison.page
    sign_in(liaison, f"pupr@{slug}.demo", t)
    lpage.get_by_role("link", name=re.compile(re.escape(t("reports in the inbox")))).click()
    expect(lpage.get_by_role("link", name=code, exact=True)).to_be_visible()
    liaison.step("13-liaison-inbox")

    lpage.get_by_role("link", name=code, exact=True).click()
    expect(lpage.get_by_role("heading", level=1)).to_have_text(title)
    lpage.get_by_label(t("Follow-up (tindak lanjut)")).fill(answer)
    liaison.step("14-liaison-followup-form")
    lpage.get_by_role("button", name=t("Send for review")).click()
    flash(lpage, t("The follow-up is sent for review."))
    expect(lpage.locator(".followup").filter(has_text=answer).locator(".badge")).to_have_text(t("Sent for review"))
    liaison.step("15-liaison-sent-for-review")

    # e. The complaint unit publishes the follow-up ----------------------------------------------
    opage.reload()
    panel = action(opage, t("Publish to the reporter"))
    expect(panel.get_by_label(t("Text to publish"))).to_have_value(answer)
    officer.step("16-officer-publish-form")
    panel.get_by_role("button", name=t("Publish"), exact=True).click()
    flash(opage, t("The follow-up is published to the reporter."))
    expect(opage.locator("#report-status")).to_have_text(t("Answered"))
    officer.step("17-officer-published")

    # f. The citizen reads the answer, rates it, replies; the unit closes the report --------------
    page.goto(link)
    expect(page.locator("#report-status")).to_have_text(t("Answered"))
    expect(page.get_by_role("heading", name=t("Answer (follow-up)"))).to_be_visible()
    expect(page.get_by_text(answer)).to_be_visible()
    citizen.step("18-citizen-answer")

    page.get_by_label(t("5: very satisfied")).check()
    page.get_by_label(t("Comment (optional)")).fill("Cepat dan jelas, terima kasih.")
    page.get_by_role("button", name=t("Send rating")).click()
    flash(page, t("Thank you for your rating."))
    expect(page.get_by_text(t("Your rating: %(score)s of 5.", score=5))).to_be_visible()
    citizen.step("19-citizen-rated")

    page.get_by_label(t("Your reply to the answer")).fill("Terima kasih")
    page.get_by_role("button", name=t("Send reply")).click()
    flash(page, t("Your reply was sent. The agency will answer again."))
    expect(page.locator("#report-status")).to_have_text(t("In progress at the agency"))
    citizen.step("20-citizen-replied")

    opage.reload()
    expect(opage.locator("#report-status")).to_have_text(t("In progress at the agency"))
    panel = action(opage, t("Close"))
    panel.get_by_label(t("Closing message (optional)")).fill("Jalan sudah diperbaiki. Laporan ditutup.")
    # The citizen replied after the answer and nothing was published since: closing needs a recorded reason.
    panel.get_by_label(t("Why close without answering the reporter's objection? (staff only)")).fill(
        "Balasan warga berupa ucapan terima kasih; tidak ada keberatan atas jawaban.")
    panel.get_by_role("button", name=t("Close"), exact=True).click()
    flash(opage, t("The report is closed."))
    expect(opage.locator("#report-status")).to_have_text(t("Closed"))
    officer.step("21-officer-closed")

    page.reload()
    expect(page.locator("#report-status")).to_have_text(t("Closed"))
    expect(page.get_by_text(t("Your rating: %(score)s of 5.", score=5))).to_be_visible()
    expect(deadline_of(page, t)).to_have_count(0)  # no clock runs on a closed report
    citizen.step("22-citizen-closed")


def enter_second_factor(actor, t, email: str) -> None:
    """The demo administrators are enrolled with the printed demo key (app/demo.py); each code is accepted
    once per account, so tests/mfa_support gives a second sign-in within 30 seconds the next step's code."""
    from app.demo import DEMO_TOTP_SECRET

    if ("e2e", email) not in SECRETS:
        remember_secret("e2e", email, DEMO_TOTP_SECRET)
    page = actor.page
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Two-factor authentication"))
    page.get_by_label(t("Code"), exact=True).fill(next_code("e2e", email))
    page.get_by_role("button", name=t("Continue"), exact=True).click()


def test_administrators_sign_in_with_a_second_factor(live_server, actors, catalog):
    """The tenant administrator and the central administrator: password, then the authenticator code;
    each sees their security log, and no page breaks the Content-Security-Policy (console errors fail)."""
    t = catalog
    admin = actors("banjarmasin", "tenant-admin")
    page = admin.page
    page.goto(admin.url("login"))
    page.get_by_label(t("Email"), exact=True).fill("admin@banjarmasin.demo")
    page.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=t("Sign in"), exact=True).click()
    admin.step("90-admin-second-factor")
    enter_second_factor(admin, t, "admin@banjarmasin.demo")
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("Staff desk"))
    # The security log is part of the one audit trail, reached through the header's Administration link.
    page.locator("ul.staff-nav.wide-only").get_by_role("link", name=t("Administration"), exact=True).click()
    page.locator("ul.tabs").get_by_role("link", name=t("Audit trail"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Audit trail"))
    expect(page.locator("table.list")).to_contain_text("Berhasil masuk")  # translated label of login.success
    admin.step("91-admin-security-log")
    page.goto(admin.url("account"))
    expect(page.locator("#sessions")).to_be_visible()
    admin.step("92-admin-account-sessions")

    central = actors("central", "central-admin")
    cpage = central.page
    cpage.goto("/central/login")
    cpage.get_by_label(t("Email"), exact=True).fill("pusat@lapor.demo")
    cpage.get_by_label(t("Password"), exact=True).fill(DEMO_PASSWORD)
    cpage.get_by_role("button", name=t("Sign in"), exact=True).click()
    enter_second_factor(central, t, "pusat@lapor.demo")
    expect(cpage.get_by_role("heading", level=1)).to_have_text(t("Central console"))
    cpage.goto("/central/audit")
    expect(cpage.locator("table.list")).to_contain_text("Berhasil masuk")  # translated label of login.success
    central.step("93-central-security-log")

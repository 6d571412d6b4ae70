"""Photos as pictures: thumbnails made at upload (WebP, small, no metadata), served under the originals'
access rules, shown on the tracking, staff and transparency pages; the backfill command; the
confirmation page's QR code and copy button; the skip link."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from app.complaints import service
from app.complaints.models import Attachment, Complaint
from app.complaints.uploads import THUMB_MAX, public_thumbnail_url, thumb_key_for
from app.storage import storage
from app.tenancy.scope import tenant_scope
from tests.web.citizen_support import jpeg_bytes, pdf_bytes, post_report, the_complaint, token_from
from tests.web.staff_support import login, make_staff


@pytest.fixture(autouse=True)
def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def attachments_of(db, tenant, complaint_id: int) -> list[Attachment]:
    with tenant_scope(tenant.id):
        return list(db.session.execute(select(Attachment).filter_by(complaint_id=complaint_id)
                                       .order_by(Attachment.id)).scalars())


def verify(db, tenant, make_user, c: Complaint) -> None:
    officer = make_user(tenant, "officer")
    with tenant_scope(tenant.id):
        service.verify(db.session.get(Complaint, c.id), service.Actor.of(officer))
        db.session.commit()


def big_photo() -> bytes:
    """A 1200×900 photo carrying camera and GPS data, like a phone's."""
    return jpeg_bytes(with_exif=True, size=(1200, 900))


@pytest.mark.usefixtures("storage_backend")
def test_a_photo_gets_a_small_webp_thumbnail_without_metadata(app, client, db, bjm):
    resp = post_report(client, bjm, files=[(big_photo(), "IMG_1.jpg"), (pdf_bytes(author="Siti"), "surat.pdf")])
    assert resp.status_code == 303
    c = the_complaint(db, bjm)
    photo, pdf = attachments_of(db, bjm, c.id)
    assert photo.thumb_key == thumb_key_for(photo.storage_key)
    assert photo.thumb_key.startswith(f"{bjm.id}/") and photo.thumb_key.endswith(".thumb.webp")
    assert (photo.thumb_width, photo.thumb_height) == (THUMB_MAX, 240)
    data = storage(app).get(photo.thumb_key)
    assert len(data) < 10_000
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP" and img.size == (320, 240)
        assert len(img.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp"} & set(img.info)
    assert b"SpyCam" not in data and b"Model X" not in data and b"EXIF" not in data and b"XMP " not in data
    # PDFs get no thumbnail: the page keeps the plain link.
    assert pdf.thumb_key is None and pdf.thumb_width is None


def test_a_small_photo_is_not_enlarged(client, db, bjm):
    post_report(client, bjm, files=[(jpeg_bytes(), "kecil.jpg")])
    [att] = attachments_of(db, bjm, the_complaint(db, bjm).id)
    assert (att.thumb_width, att.thumb_height) == (40, 30)


def test_a_portrait_photo_keeps_its_upright_orientation(app, client, db, bjm):
    img = Image.new("RGB", (800, 600), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: shown upright it is 600 wide and 800 high
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    post_report(client, bjm, files=[(out.getvalue(), "tegak.jpg")])
    [att] = attachments_of(db, bjm, the_complaint(db, bjm).id)
    assert (att.thumb_width, att.thumb_height) == (240, 320)


def test_public_report_shows_thumbnails_that_open_the_full_photo(client, db, bjm, make_user):
    post_report(client, bjm, files=[(big_photo(), "a.jpg"), (pdf_bytes(), "b.pdf")])
    c = the_complaint(db, bjm)
    photo, pdf = attachments_of(db, bjm, c.id)
    thumb_url = f"/banjarmasin/lacak/{c.code}/lampiran/{photo.id}/kecil"
    assert client.get(thumb_url).status_code == 404  # not verified yet: nothing public
    verify(db, bjm, make_user, c)
    page = client.get(f"/banjarmasin/lacak/{c.code}").text
    img = re.search(r'<a href="([^"]+)"[^>]*><img src="([^"]+)" alt="([^"]+)" width="(\d+)" height="(\d+)" '
                    r'loading="lazy"></a>', page)
    assert img, page
    assert img.group(1) == f"/banjarmasin/lacak/{c.code}/lampiran/{photo.id}"
    assert img.group(2) == thumb_url
    assert img.group(3) == "Photo 1"
    assert (img.group(4), img.group(5)) == ("320", "240")
    # The PDF stays a link, without a picture.
    assert f'/lampiran/{pdf.id}/kecil' not in page and f"/lampiran/{pdf.id}" in page
    resp = client.get(thumb_url)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/webp"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    assert client.get(f"/banjarmasin/lacak/{c.code}/lampiran/{pdf.id}/kecil").status_code == 404
    assert client.get(f"/katingan/lacak/{c.code}/lampiran/{photo.id}/kecil").status_code == 404
    # The transparency page shows it too, and the helper for other lists finds it.
    listing = client.get("/banjarmasin/transparansi").text
    assert thumb_url in listing
    with tenant_scope(bjm.id), client.application.test_request_context("/banjarmasin/"):
        from flask import g

        g.tenant = bjm
        assert public_thumbnail_url(db.session.get(Complaint, c.id)) == thumb_url


def test_an_anonymous_reports_thumbnail_needs_the_private_link_or_the_unit(app, client, db, bjm, make_user):
    resp = post_report(client, bjm, privacy="anonim", files=[(big_photo(), "wajah.jpg")])
    token = token_from(resp.headers["Location"])
    c = the_complaint(db, bjm)
    [att] = attachments_of(db, bjm, c.id)
    assert att.public is False and att.thumb_key
    verify(db, bjm, make_user, c)
    url = f"/banjarmasin/lacak/{c.code}/lampiran/{att.id}/kecil"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}?t=wrong").status_code == 404
    assert url not in client.get(f"/banjarmasin/lacak/{c.code}").text
    assert url not in client.get("/banjarmasin/transparansi").text
    with tenant_scope(bjm.id), app.test_request_context("/banjarmasin/"):
        assert public_thumbnail_url(db.session.get(Complaint, c.id)) is None
    # The reporter, with the private link:
    own_page = client.get(f"/banjarmasin/lacak/{c.code}?t={token}").text
    assert f"{url}?t={token}" in own_page
    own = client.get(f"{url}?t={token}")
    assert own.status_code == 200 and own.headers["Content-Type"] == "image/webp"
    assert own.headers["Cache-Control"] == "private, no-store"
    # The complaint unit sees it on the staff page, with its own thumbnail route.
    officer = login(app, bjm, make_staff(make_user, bjm, "officer"))
    staff_url = f"/banjarmasin/staff/complaints/{c.id}/attachments/{att.id}/thumbnail"
    detail = officer.get(f"/banjarmasin/staff/complaints/{c.id}").text
    assert f'<img src="{staff_url}"' in detail and 'loading="lazy"' in detail
    assert f'href="/banjarmasin/staff/complaints/{c.id}/attachments/{att.id}"' in detail
    staff = officer.get(staff_url)
    assert staff.status_code == 200 and staff.headers["Content-Type"] == "image/webp"
    assert staff.headers["Cache-Control"] == "private, no-store"
    # An agency's liaison does not get an anonymous reporter's photo, nor its thumbnail.
    liaison = login(app, bjm, make_staff(make_user, bjm, "liaison", agency_code="pupr"))
    assert liaison.get(staff_url).status_code == 404
    # Nobody signed out does.
    assert app.test_client().get(staff_url).status_code in (302, 401, 404)


@pytest.mark.usefixtures("storage_backend")
def test_the_backfill_makes_missing_thumbnails_once(app, client, db, bjm):
    post_report(client, bjm, files=[(big_photo(), "lama.jpg"), (pdf_bytes(), "surat.pdf")])
    c = the_complaint(db, bjm)
    photo, _pdf = attachments_of(db, bjm, c.id)
    # As stored before thumbnails existed:
    storage(app).delete(photo.thumb_key)
    with tenant_scope(bjm.id):
        row = db.session.get(Attachment, photo.id)
        row.thumb_key = row.thumb_width = row.thumb_height = None
        db.session.commit()
    runner = app.test_cli_runner()
    with app.app_context():
        first = runner.invoke(args=["storage", "thumbnails"])
        assert first.exit_code == 0, first.output
        assert "thumbnails made 1, unreadable or missing 0" in first.output
        again = runner.invoke(args=["storage", "thumbnails"])
        assert again.exit_code == 0 and "thumbnails made 0, unreadable or missing 0" in again.output
        other = runner.invoke(args=["storage", "thumbnails", "--tenant", "tidak-ada"])
        assert other.exit_code == 1
    [photo, pdf] = attachments_of(db, bjm, c.id)
    assert photo.thumb_key == thumb_key_for(photo.storage_key) and (photo.thumb_width, photo.thumb_height) == (320, 240)
    assert pdf.thumb_key is None
    with Image.open(io.BytesIO(storage(app).get(photo.thumb_key))) as img:
        assert img.format == "WEBP" and len(img.getexif()) == 0


def test_the_backfill_counts_a_missing_original_and_goes_on(app, client, db, bjm):
    post_report(client, bjm, files=[(big_photo(), "hilang.jpg")])
    [att] = attachments_of(db, bjm, the_complaint(db, bjm).id)
    storage(app).delete(att.storage_key)
    storage(app).delete(att.thumb_key)
    with tenant_scope(bjm.id):
        db.session.get(Attachment, att.id).thumb_key = None
        db.session.commit()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["storage", "thumbnails"])
    assert result.exit_code == 0 and "thumbnails made 0, unreadable or missing 1" in result.output


def test_the_retention_purge_removes_the_thumbnail_too(app, client, db, bjm):
    from app.complaints.uploads import stored_keys

    post_report(client, bjm, files=[(big_photo(), "x.jpg")])
    [att] = attachments_of(db, bjm, the_complaint(db, bjm).id)
    assert stored_keys(att) == [att.storage_key, att.thumb_key]


# ------------------------------------------------------------------ the confirmation page


def test_confirmation_page_has_the_whole_link_a_copy_button_and_a_qr_code(client, db, bjm):
    resp = post_report(client, bjm)
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200
    html = page.text
    c = the_complaint(db, bjm)
    token = token_from(resp.headers["Location"])
    link = f"/banjarmasin/lacak/{c.code}?t={token}"
    # The link in full, in a box that wraps (a textarea), not a one-line input.
    box = re.search(r'<textarea id="private-link" class="link-box" readonly[^>]*>([^<]+)</textarea>', html)
    assert box and box.group(1).endswith(link)
    # The copy button: hidden until the script shows it, with its status messages and a live region.
    button = re.search(r'<button type="button" class="btn secondary" hidden data-copy="private-link"'
                       r' data-done="([^"]+)" data-fail="([^"]+)">Copy link</button>', html)
    assert button, html
    assert button.group(1) == "The link was copied."
    assert 'role="status" data-copy-status' in html
    assert "/static/copy.js" in html
    # The QR code, inline SVG with an accessible name, drawn here (no outside service).
    svg = re.search(r'<svg role="img" aria-label="QR code that opens your report"[^>]*class="qr-code"', html)
    assert svg, html
    assert "style=" not in html.split('<svg', 1)[1].split("</svg>", 1)[0]  # the CSP allows no inline style


def test_the_qr_code_encodes_the_private_link():
    from app.complaints.links import qr_svg

    svg = str(qr_svg("https://lapor.example/bjm/lacak/BJM-1?t=abc", 'Kode <QR> "x"'))
    assert svg.startswith('<svg role="img" aria-label="Kode &lt;QR&gt; &#34;x&#34;"')
    assert svg.rstrip().endswith("</svg>")


# ------------------------------------------------------------------ the skip link


def test_the_skip_link_is_the_first_focusable_element_and_leads_to_main(client, bjm):
    html = client.get("/banjarmasin/").text
    body = html.split("<body", 1)[1]
    first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body)
    assert first.group(0) == '<a class="skip-link" href="#main">'
    assert '<main id="main"' in body


# ------------------------------------------------------------------ the nearby panel (is this already reported?)


def test_the_nearby_lookup_gives_a_public_reports_thumbnail_and_never_an_anonymous_ones(client, db, bjm, make_user):
    post_report(client, bjm, files=[(big_photo(), "publik.jpg")], title="Lampu jalan mati dekat pasar")
    public = the_complaint(db, bjm)
    post_report(client, bjm, privacy="anonim", files=[(big_photo(), "anonim.jpg")], title="Lampu jalan mati lagi")
    anonymous = the_complaint(db, bjm)
    assert anonymous.id != public.id
    verify(db, bjm, make_user, public)
    verify(db, bjm, make_user, anonymous)
    [photo] = attachments_of(db, bjm, public.id)
    r = client.get("/banjarmasin/lapor/sekitar", query_string={"lat": "-3.3194", "lon": "114.5908"})
    assert r.status_code == 200
    items = {i["code"]: i for i in r.get_json()["reports"]}
    assert items[public.code]["thumbnail"] == f"/banjarmasin/lacak/{public.code}/lampiran/{photo.id}/kecil"
    assert items[anonymous.code]["thumbnail"] is None
    assert client.get(items[public.code]["thumbnail"]).headers["Content-Type"] == "image/webp"

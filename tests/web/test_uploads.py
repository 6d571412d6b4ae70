"""Attachments through the citizen pages: metadata stripped, type checked by content, at most 5, who may download.

Every test runs on both storage backends (the local folder and an S3 bucket; see ``storage_backend``)."""

from __future__ import annotations

import io

import pikepdf
import pytest
from markupsafe import escape
from PIL import Image, ImageFile
from sqlalchemy import select

from app.complaints import service
from app.complaints.models import Attachment, Complaint
from app.storage import storage
from app.tenancy.scope import tenant_scope
from tests.web.citizen_support import (
    counts,
    huge_png_bytes,
    jpeg_bytes,
    pdf_bytes,
    post_report,
    the_complaint,
    token_from,
)

pytestmark = pytest.mark.usefixtures("storage_backend")


@pytest.fixture(autouse=True)
def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def stored_files(app) -> set[str]:
    return set(storage(app).keys())


def attachments_of(db, tenant, complaint_id: int) -> list[Attachment]:
    with tenant_scope(tenant.id):
        return list(db.session.execute(select(Attachment).filter_by(complaint_id=complaint_id)
                                       .order_by(Attachment.id)).scalars())


def test_the_test_photo_really_carries_gps_and_camera_data():
    exif = Image.open(io.BytesIO(jpeg_bytes(with_exif=True))).getexif()
    assert exif[0x010F] == "SpyCam Industries"
    assert exif.get_ifd(0x8825)[1] == "S"


def test_uploaded_photo_is_stored_without_exif(app, client, db, bjm):
    resp = post_report(client, bjm, files=[(jpeg_bytes(with_exif=True), "IMG_20260317_150000.jpg")])
    assert resp.status_code == 303
    c = the_complaint(db, bjm)
    [att] = attachments_of(db, bjm, c.id)
    assert att.content_type == "image/jpeg" and att.public is True
    data = storage(app).get(att.storage_key)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.size == (40, 30)
        exif = img.getexif()
        assert len(exif) == 0 and not exif.get_ifd(0x8825)
        assert "exif" not in img.info
    assert b"SpyCam" not in data and b"Model X" not in data


def test_text_file_renamed_jpg_is_rejected_with_a_clear_error(app, client, db, bjm):
    before = stored_files(app)
    resp = post_report(client, bjm, files=[(b"this is not a photo, just text\n", "foto.jpg")])
    assert resp.status_code == 400
    assert str(escape("foto.jpg: Only photos (JPEG, PNG, WebP) and PDF documents are accepted.")) in resp.text
    assert counts(db, bjm) == (0, 0, 0)
    assert stored_files(app) == before


def test_more_than_five_files_are_rejected(app, client, db, bjm):
    before = stored_files(app)
    resp = post_report(client, bjm, files=[(jpeg_bytes(), f"foto{i}.jpg") for i in range(6)])
    assert resp.status_code == 400
    assert "Attach at most 5 files." in resp.text
    assert counts(db, bjm) == (0, 0, 0)
    assert stored_files(app) == before


def test_five_files_are_accepted(client, db, bjm):
    resp = post_report(client, bjm, files=[(jpeg_bytes(), f"foto{i}.jpg") for i in range(5)])
    assert resp.status_code == 303
    assert counts(db, bjm) == (1, 1, 5)


def test_public_reports_photo_downloads_inline_with_nosniff_for_anyone(client, db, bjm, ktg, make_user):
    post_report(client, bjm, files=[(jpeg_bytes(), "foto.jpg")])
    c = the_complaint(db, bjm)
    [att] = attachments_of(db, bjm, c.id)
    # Before verification nobody without the private link gets the photo.
    assert client.get(f"/banjarmasin/lacak/{c.code}/lampiran/{att.id}").status_code == 404
    officer = make_user(bjm, "officer")
    with tenant_scope(bjm.id):
        service.verify(db.session.get(Complaint, c.id), service.Actor.of(officer))
        db.session.commit()
    page = client.get(f"/banjarmasin/lacak/{c.code}")
    assert f"/banjarmasin/lacak/{c.code}/lampiran/{att.id}" in page.text
    resp = client.get(f"/banjarmasin/lacak/{c.code}/lampiran/{att.id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("inline")
    assert "foto.jpg" not in resp.headers["Content-Disposition"]  # the original name stays with the staff
    assert client.get(f"/katingan/lacak/{c.code}/lampiran/{att.id}").status_code == 404


def test_anonymous_reports_photo_needs_the_private_link(client, db, bjm):
    resp = post_report(client, bjm, privacy="anonim", files=[(jpeg_bytes(), "foto.jpg")])
    token = token_from(resp.headers["Location"])
    c = the_complaint(db, bjm)
    [att] = attachments_of(db, bjm, c.id)
    assert att.public is False
    url = f"/banjarmasin/lacak/{c.code}/lampiran/{att.id}"
    assert url not in client.get(f"/banjarmasin/lacak/{c.code}").text
    assert client.get(url).status_code == 404
    assert client.get(f"{url}?t=wrong").status_code == 404
    own = client.get(f"{url}?t={token}")
    assert own.status_code == 200 and own.headers["Content-Type"] == "image/jpeg"
    assert own.headers["Cache-Control"] == "private, no-store"


def test_attachment_of_another_report_is_not_reachable_through_mine(client, db, bjm):
    post_report(client, bjm, files=[(jpeg_bytes(), "foto.jpg")])
    first = the_complaint(db, bjm)
    [att] = attachments_of(db, bjm, first.id)
    resp = post_report(client, bjm, privacy="rahasia")
    mine, token = the_complaint(db, bjm), token_from(resp.headers["Location"])
    assert client.get(f"/banjarmasin/lacak/{mine.code}/lampiran/{att.id}?t={token}").status_code == 404


def test_added_information_carries_private_cleaned_attachments(app, client, db, bjm):
    resp = post_report(client, bjm)
    token = token_from(resp.headers["Location"])
    c = the_complaint(db, bjm)
    resp = client.post(f"/banjarmasin/lacak/{c.code}/informasi", content_type="multipart/form-data", data={
        "t": token, "info-message": "Foto tambahan dari sisi utara jalan.",
        "info-attachments": [(io.BytesIO(jpeg_bytes(with_exif=True)), "utara.jpg")]})
    assert resp.status_code == 303
    [att] = attachments_of(db, bjm, c.id)
    assert att.public is False
    data = storage(app).get(att.storage_key)
    assert b"SpyCam" not in data
    bad = client.post(f"/banjarmasin/lacak/{c.code}/informasi", content_type="multipart/form-data", data={
        "t": token, "info-message": "Dokumen", "info-attachments": [(io.BytesIO(b"MZ\x90\x00"), "surat.pdf")]})
    assert bad.status_code == 400 and "surat.pdf" in bad.text
    assert len(attachments_of(db, bjm, c.id)) == 1


# ------------------------------------------------------------------ PDF documents


def test_the_test_pdf_really_names_its_author():
    data = pdf_bytes(author="Siti Norhayati Rahmah")
    assert data.count(b"Siti Norhayati Rahmah") >= 3
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert str(pdf.docinfo["/Author"]) == "Siti Norhayati Rahmah" and "/Metadata" in pdf.Root


def test_uploaded_pdf_is_stored_without_author_creator_or_xmp_and_keeps_its_content(app, client, db, bjm):
    resp = post_report(client, bjm, files=[(pdf_bytes(author="Siti Norhayati Rahmah"), "surat.pdf")])
    assert resp.status_code == 303
    c = the_complaint(db, bjm)
    [att] = attachments_of(db, bjm, c.id)
    assert att.content_type == "application/pdf"
    data = storage(app).get(att.storage_key)
    assert b"Siti" not in data and b"Laptop" not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert not any("/Metadata" in obj for obj in pdf.objects
                       if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream))
        assert len(pdf.pages) == 1
        assert b"(Surat keterangan: lampu jalan padam) Tj" in pdf.pages[0].Contents.read_bytes()


@pytest.mark.parametrize("content", [b"%PDF-1.7\n" + b"bukan pdf " * 200, b"%PDF-1.4\n%%EOF"])
def test_a_pdf_that_cannot_be_parsed_is_refused_with_a_clear_error(app, client, db, bjm, content):
    before = stored_files(app)
    resp = post_report(client, bjm, files=[(content, "rusak.pdf")])
    assert resp.status_code == 400
    assert str(escape("rusak.pdf: The PDF document could not be read (damaged or password-protected). Save it "
                      "again as PDF without a password, or send a photo of it.")) in resp.text
    assert counts(db, bjm) == (0, 0, 0) and stored_files(app) == before


def test_the_form_says_that_metadata_is_removed(client, bjm):
    page = client.get("/banjarmasin/lapor")
    assert "author and other metadata are removed from PDF documents" in page.text


# ------------------------------------------------------------------ pixel limits


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    return huge_png_bytes()


@pytest.fixture()
def decoded(monkeypatch) -> list:
    """Every image Pillow decodes in the test, by size (a spy: the real decoder still runs)."""
    sizes, real_load = [], ImageFile.ImageFile.load

    def load(self):
        if self.tile:  # still to decode (a loaded image has no tiles left)
            sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


def test_a_small_file_of_30_megapixels_is_refused_before_it_is_decoded(app, client, db, bjm, huge_png, decoded):
    # Pillow refuses only above twice its limit: a 30 Mpx PNG of a few KB was decoded, converted and
    # re-encoded (and one of 40-80 Mpx took ~1 GB and seconds of CPU, five per form).
    assert len(huge_png) < 100_000
    before = stored_files(app)
    resp = post_report(client, bjm, files=[(huge_png, "panorama.png")])
    assert resp.status_code == 400
    assert str(escape("panorama.png: The photo is too large (30 megapixels; at most 24). Send a smaller version: "
                      "most phones can share a photo in a reduced size.")) in resp.text
    assert decoded == [] and counts(db, bjm) == (0, 0, 0) and stored_files(app) == before


def test_the_pixel_limit_is_configurable_and_inclusive(app, client, db, bjm, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 40 * 30)
    assert post_report(client, bjm, files=[(jpeg_bytes(size=(41, 30)), "a.jpg")]).status_code == 400
    assert post_report(client, bjm, files=[(jpeg_bytes(size=(40, 30)), "a.jpg")]).status_code == 303


def test_the_photos_of_one_request_share_a_pixel_budget(app, client, db, bjm, monkeypatch, decoded):
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 40 * 30)
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS_PER_REQUEST", 2 * 40 * 30)
    resp = post_report(client, bjm, files=[(jpeg_bytes(), f"foto{i}.jpg") for i in range(3)])
    assert resp.status_code == 400
    assert "foto2.jpg: Together the photos are too large to process at once" in resp.text
    assert len(decoded) == 2 and counts(db, bjm) == (0, 0, 0)
    # The budget is per request: the next form starts afresh.
    assert post_report(client, bjm, files=[(jpeg_bytes(), f"foto{i}.jpg") for i in range(2)]).status_code == 303


def test_the_added_information_form_refuses_a_huge_photo_too(app, client, db, bjm, huge_png, decoded):
    token = token_from(post_report(client, bjm).headers["Location"])
    c = the_complaint(db, bjm)
    resp = client.post(f"/banjarmasin/lacak/{c.code}/informasi", content_type="multipart/form-data", data={
        "t": token, "info-message": "Foto panorama.", "info-attachments": [(io.BytesIO(huge_png), "besar.png")]})
    assert resp.status_code == 400 and "30 megapixels" in resp.text
    assert decoded == [] and attachments_of(db, bjm, c.id) == []

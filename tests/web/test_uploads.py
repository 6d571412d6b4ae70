"""Attachments through the citizen pages: metadata stripped, type checked by content, at most 5, who may download.

Every test runs on both storage backends (the local folder and an S3 bucket; see ``storage_backend``)."""

from __future__ import annotations

import io

import pytest
from markupsafe import escape
from PIL import Image
from sqlalchemy import select

from app.complaints import service
from app.complaints.models import Attachment, Complaint
from app.storage import storage
from app.tenancy.scope import tenant_scope
from tests.web.citizen_support import counts, jpeg_bytes, post_report, the_complaint, token_from

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

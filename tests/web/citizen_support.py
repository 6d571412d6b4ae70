"""Helpers of the citizen page tests: the report form's data, reports driven through the service."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pikepdf
from PIL import Image
from sqlalchemy import func, select

from app.agencies.models import Agency
from app.complaints import service
from app.complaints.models import Attachment, Complaint, ComplaintEvent
from app.tenancy.scope import tenant_scope

#: A map pin inside each demo region's area (tenant.toml [settings.area]): the intake refuses one outside.
PINS = {"banjarmasin": ("-3.3194", "114.5908"), "katingan": ("-1.8950", "113.4050")}

REPORTER = {"name": "Siti Norhayati Rahmah", "email": "siti.rahmah@contoh.id", "phone": "+6281234567890"}


def form_data(**overrides) -> dict:
    """A valid report as the form posts it."""
    data = {
        "title": "Lampu jalan mati di Jl. Ahmad Yani km 2",
        "description": "Sudah seminggu lampu jalan mati, jalan gelap dan rawan kecelakaan pada malam hari.",
        "complaint_class": "pengaduan",
        "category_id": "",
        "location_text": "Jl. Ahmad Yani km 2, depan masjid",
        "latitude": "-3.3194",
        "longitude": "114.5908",
        "reporter_name": REPORTER["name"],
        "reporter_email": REPORTER["email"],
        "reporter_phone": REPORTER["phone"],
        "privacy": "public",
        "consent": "y",
        "hp_note": "",
        "submission_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def pin_of(slug: str, overrides: dict | None = None) -> dict:
    """``overrides`` with the demo region's own map pin unless they set one (regions without an area: none)."""
    out = dict(overrides or {})
    if slug in PINS and "latitude" not in out and "longitude" not in out:
        out["latitude"], out["longitude"] = PINS[slug]
    return out


def post_report(client, tenant, files: list[tuple[bytes, str]] | None = None, **overrides):
    data = form_data(**pin_of(tenant.slug, overrides))
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post(f"/{tenant.slug}/lapor", data=data, content_type="multipart/form-data")


def local_year(tenant) -> int:
    return datetime.now(UTC).astimezone(ZoneInfo(tenant.timezone)).year % 100


def counts(db, tenant) -> tuple[int, int, int]:
    """(complaints, events, attachments) of ``tenant``."""
    with tenant_scope(tenant.id):
        return tuple(db.session.scalar(select(func.count(m.id))) for m in (Complaint, ComplaintEvent, Attachment))


def the_complaint(db, tenant, code: str | None = None) -> Complaint:
    db.session.expire_all()
    with tenant_scope(tenant.id):
        stmt = select(Complaint).order_by(Complaint.id.desc())
        if code:
            stmt = stmt.filter_by(code=code)
        c = db.session.execute(stmt.limit(1)).scalar_one()
        c.status, c.access_token, c.reopen_count  # noqa: B018  (load while bound)
        return c


def jpeg_bytes(with_exif: bool = False, size=(40, 30)) -> bytes:
    img = Image.new("RGB", size, (30, 120, 200))
    out = io.BytesIO()
    if with_exif:
        exif = Image.Exif()
        exif[0x010F] = "SpyCam Industries"  # Make
        exif[0x0110] = "Model X"  # Model
        gps = exif.get_ifd(0x8825)  # GPSInfo
        gps[1] = "S"
        gps[2] = (3.0, 19.0, 10.0)
        gps[3] = "E"
        gps[4] = (114.0, 35.0, 27.0)
        img.save(out, "JPEG", exif=exif.tobytes())
    else:
        img.save(out, "JPEG")
    return out.getvalue()


def token_from(location: str) -> str:
    match = re.search(r"[?&]t=([^&]+)", location)
    assert match, location
    return match.group(1)


def drive(db, tenant, c: Complaint, officer, *steps: str) -> Complaint:
    """Move ``c`` through the service as ``officer``: verify, dispose, publish, close, hold."""
    with tenant_scope(tenant.id):
        c = db.session.get(Complaint, c.id)
        unit = service.Actor.of(officer)
        pupr = db.session.execute(select(Agency.id).filter_by(code="pupr")).scalar_one()
        for step in steps:
            if step == "verify":
                service.verify(c, unit)
            elif step == "dispose":
                service.dispose(c, unit, [pupr])
            elif step == "publish":
                fu = service.save_followup_draft(c, unit, "Lampu sudah diganti oleh petugas pada hari Kamis.",
                                                 agency_id=pupr, submit=True)
                service.publish_followup(c, unit, fu.id)
            elif step == "close":
                service.close(c, unit)
            elif step == "hold":
                service.hold(c, unit, "Mohon kirim foto lokasi yang lebih jelas.")
            else:
                raise ValueError(step)
        db.session.commit()
        c.status  # noqa: B018
        return c


def pdf_bytes(author: str | None = None, text: str = "Surat keterangan: lampu jalan padam") -> bytes:
    """A real one-page PDF; with ``author``, that name is in the document information (Author, Creator),
    in the document's XMP and in an image's XMP, all stored uncompressed."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 200))
    page = pdf.pages[0]
    page.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1"))
    if author:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:creator"] = [author]
            meta["xmp:CreatorTool"] = f"Laptop {author}"
        pdf.docinfo["/Author"] = author
        pdf.docinfo["/Creator"] = f"Word on the laptop of {author}"
        image = pdf.make_stream(b"\x00\x00\x00", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=1,
                                Height=1, BitsPerComponent=8, ColorSpace=pikepdf.Name.DeviceRGB)
        image.Metadata = pdf.make_stream(f"<x:xmpmeta><dc:creator>{author}</dc:creator></x:xmpmeta>".encode())
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def huge_png_bytes(size=(6000, 5000)) -> bytes:
    """A PNG of ``size`` pixels (default 30 Mpx) that is only a few kilobytes on disk: one bit per pixel, all
    white, so it compresses to almost nothing, while decoding it would take ~120 MB and seconds of CPU."""
    out = io.BytesIO()
    Image.new("1", size, 1).save(out, format="PNG")
    return out.getvalue()

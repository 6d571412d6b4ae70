"""Attachments: type checked by content; image metadata (EXIF, GPS, camera) and PDF metadata (document
information, XMP) stripped before storage; images bounded in pixels before they are decoded."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, g, has_request_context, url_for
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from app.complaints.models import Attachment, Complaint, ComplaintEvent
from app.config import PILLOW_MAX_IMAGE_PIXELS
from app.extensions import db
from app.storage import storage

MAX_FILES = 5
MAX_BYTES = 5 * 1024 * 1024
# Pillow warns above this and refuses (DecompressionBombError) only above twice this, while opening: a
# last wall. The real limits (MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS_PER_REQUEST) are checked from the
# header before decoding, in check_image_size().
Image.MAX_IMAGE_PIXELS = PILLOW_MAX_IMAGE_PIXELS

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


class UploadError(ValueError):
    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


@dataclass(frozen=True)
class Thumbnail:
    """A small WebP copy of a photo (pixels only: no EXIF, XMP or ICC profile)."""

    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class PreparedUpload:
    """A checked, cleaned file ready to store."""

    filename: str
    content_type: str
    data: bytes
    #: For photos: the thumbnail shown on the pages; None for PDFs.
    thumbnail: Thumbnail | None = None


def sniff(head: bytes) -> str | None:
    """The content type from the first bytes; the file name is never trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _megapixels(pixels: int) -> str:
    """Megapixels as the reader writes numbers (30; 12,5 in Indonesian)."""
    return format_decimal(pixels / 1_000_000, format="#,##0.#")


def check_image_size(width: int, height: int) -> None:
    """Refuse a photo above MAX_IMAGE_PIXELS, or one that takes the photos of this request together above
    MAX_IMAGE_PIXELS_PER_REQUEST, from its header's dimensions, before its pixels are decoded: a small
    compressed file can stand for gigabytes of pixels (and Pillow itself only refuses above twice its
    own limit). The request's count lives on ``flask.g``, so every form that takes files is covered.

    :raises UploadError: with a translated message naming the limit.
    """
    pixels = width * height
    limit = int(current_app.config["MAX_IMAGE_PIXELS"])
    if pixels > limit:
        raise UploadError(_l("The photo is too large (%(size)s megapixels; at most %(max)s). Send a smaller "
                             "version: most phones can share a photo in a reduced size.",
                             size=_megapixels(pixels), max=_megapixels(limit)))
    if has_request_context():
        budget = int(current_app.config["MAX_IMAGE_PIXELS_PER_REQUEST"])
        used = g.get("upload_pixels", 0) + pixels
        if used > budget:
            raise UploadError(_l("Together the photos are too large to process at once (at most %(max)s "
                                 "megapixels per form). Send fewer or smaller photos.", max=_megapixels(budget)))
        g.upload_pixels = used


def strip_image_metadata(data: bytes, content_type: str) -> bytes:
    """Re-encode the pixels only: EXIF (GPS, camera, time), XMP and comments are dropped.

    :raises UploadError: for an unreadable image, or one too large to decode (see check_image_size).
    """
    return clean_image(data, content_type)[0]


def clean_image(data: bytes, content_type: str) -> tuple[bytes, Thumbnail]:
    """The photo re-encoded without metadata (as :func:`strip_image_metadata`) and its thumbnail,
    both from one decoding of the pixels.

    :raises UploadError: for an unreadable image, or one too large to decode (see check_image_size).
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            check_image_size(*img.size)  # from the header: nothing is decoded yet
            img.load()
            img = ImageOps.exif_transpose(img)  # keep the visible orientation, lose the tag
            fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[content_type]
            if img.mode in ("P", "PA", "LA"):
                img = img.convert("RGBA")
            if fmt == "JPEG" and img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            clean = Image.new(img.mode, img.size)
            clean.paste(img)  # a fresh image carries no info/exif from the original
            out = io.BytesIO()
            options = {"optimize": True} if fmt == "PNG" else {"quality": 88}
            clean.save(out, format=fmt, **options)
            return out.getvalue(), _thumbnail_of(clean)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # beyond Pillow's own wall
        limit = int(current_app.config["MAX_IMAGE_PIXELS"])
        raise UploadError(_l("The photo is too large (more than %(max)s megapixels). Send a smaller version: "
                             "most phones can share a photo in a reduced size.", max=_megapixels(limit))) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UploadError(_l("The image could not be read.")) from exc


#: The longest side of a thumbnail in pixels: sharp at 160 CSS pixels on a 2x phone screen.
THUMB_MAX = 320


def make_thumbnail(data: bytes, max_side: int = THUMB_MAX) -> Thumbnail:
    """A WebP thumbnail of a (cleaned) photo, at most ``max_side`` pixels on its longest side, upright,
    with nothing of the original but its pixels. JPEGs are decoded at a reduced scale (draft mode).

    :raises UploadError: for an unreadable image.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format == "JPEG":
                img.draft("RGB", (max_side * 2, max_side * 2))  # decode at 1/2…1/8 scale: far less work
            img.load()
            return _thumbnail_of(ImageOps.exif_transpose(img), max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, UnidentifiedImageError, OSError,
            ValueError) as exc:
        raise UploadError(_l("The image could not be read.")) from exc


def _thumbnail_of(img: Image.Image, max_side: int = THUMB_MAX) -> Thumbnail:
    """Scale decoded, upright pixels down into a fresh WebP image: no info, EXIF or ICC profile."""
    img = img.convert("RGBA" if _has_alpha(img) else "RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    small = Image.new(img.mode, img.size)
    small.paste(img)
    out = io.BytesIO()
    small.save(out, format="WEBP", quality=75, method=4)
    return Thumbnail(out.getvalue(), small.width, small.height)


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)


#: Keys under which a PDF object may carry metadata naming people: XMP streams (document, pages, images,
#: fonts) and applications' private data (Illustrator, Word…).
_PDF_METADATA_KEYS = ("/Metadata", "/PieceInfo")


def strip_pdf_metadata(data: bytes) -> bytes:
    """The PDF with its document information (Author, Creator, Producer, Title…) and every XMP stream
    removed, content kept. qpdf writes only the objects still referenced, so an older revision's
    information dictionary (left behind by incremental saves) does not survive either.

    :raises UploadError: for a PDF that cannot be parsed or needs a password.
    """
    import pikepdf  # ~15 MB: loaded by the first PDF a worker receives, not by every worker at start

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    for key in _PDF_METADATA_KEYS:
                        if key in obj:
                            del obj[key]
            out = io.BytesIO()
            # No encryption: the stored copy must be readable by the staff; no metadata version fix-up.
            pdf.save(out, encryption=False, fix_metadata_version=False, deterministic_id=True)
            return out.getvalue()
    except (pikepdf.PdfError, pikepdf.PasswordError, RecursionError, ValueError) as exc:
        raise UploadError(_l("The PDF document could not be read (damaged or password-protected). Save it "
                             "again as PDF without a password, or send a photo of it.")) from exc


def prepare_upload(filename: str, data: bytes) -> PreparedUpload:
    """Check one file and clean it.

    :raises UploadError: with a translated message for the citizen.
    """
    if not data:
        raise UploadError(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise UploadError(_l("Each file may be at most %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)))
    content_type = sniff(data[:16])
    if content_type is None:
        raise UploadError(_l("Only photos (JPEG, PNG, WebP) and PDF documents are accepted."))
    thumbnail = None
    if content_type == "application/pdf":
        data = strip_pdf_metadata(data)
    else:
        data, thumbnail = clean_image(data, content_type)
    safe_name = os.path.basename(filename or "")[:150] or f"lampiran.{_EXT[content_type]}"
    return PreparedUpload(filename=safe_name, content_type=content_type, data=data, thumbnail=thumbnail)


def prepare_uploads(files) -> list[PreparedUpload]:
    """Prepare werkzeug FileStorage objects (empty file inputs are ignored)."""
    out = []
    for fs in files:
        if not fs or not getattr(fs, "filename", ""):
            continue
        out.append(prepare_upload(fs.filename, fs.read(MAX_BYTES + 1)))
    if len(out) > MAX_FILES:
        raise UploadError(_l("Attach at most %(n)s files.", n=MAX_FILES))
    return out


def upload_root() -> Path:
    """The local folder of the disk backend (also the source of `flask storage migrate-local`)."""
    return Path(current_app.config["UPLOAD_DIR"])


def save_attachments(c: Complaint, event: ComplaintEvent, uploads: list[PreparedUpload], public: bool) -> list:
    """Store files under <tenant_id>/ (app.storage) and record them; files are removed if the flush fails."""

    store = storage()
    written: list[str] = []
    rows = []
    try:
        for up in uploads:
            name = uuid.uuid4().hex
            key = f"{c.tenant_id}/{name}.{_EXT[up.content_type]}"
            store.put(key, up.data, up.content_type)
            written.append(key)
            row = Attachment(complaint_id=c.id, event_id=event.id, filename=up.filename,
                             content_type=up.content_type, size=len(up.data),
                             sha256=hashlib.sha256(up.data).hexdigest(), storage_key=key, public=public)
            if up.thumbnail is not None:
                thumb_key = thumb_key_for(key)
                store.put(thumb_key, up.thumbnail.data, "image/webp")
                written.append(thumb_key)
                row.thumb_key, row.thumb_width, row.thumb_height = (thumb_key, up.thumbnail.width,
                                                                    up.thumbnail.height)
            db.session.add(row)
            rows.append(row)
        db.session.flush()
    except Exception:
        for key in written:
            store.delete(key)
        raise
    return rows


def thumb_key_for(key: str) -> str:
    """The thumbnail's key next to the original's: ``12/ab34….jpg`` → ``12/ab34….thumb.webp``."""
    return f"{key.rsplit('.', 1)[0]}.thumb.webp"


def stored_keys(att: Attachment) -> list[str]:
    """Every file stored for an attachment (the original and its thumbnail), for deletion."""
    return [att.storage_key] + ([att.thumb_key] if att.thumb_key else [])


def read_attachment(att: Attachment) -> bytes:
    """The stored bytes; the key must lie in the attachment's own tenant's folder.

    :raises FileNotFoundError: for a missing file or a key outside the tenant's folder.
    """

    if not att.storage_key.startswith(f"{att.tenant_id}/"):
        raise FileNotFoundError(att.storage_key)
    return storage().get(att.storage_key)


def read_thumbnail(att: Attachment) -> bytes:
    """The stored thumbnail, under the same tenant-folder rule as the original.

    :raises FileNotFoundError: for an attachment without a thumbnail (a PDF, or not made yet).
    """
    if not att.thumb_key or not att.thumb_key.startswith(f"{att.tenant_id}/"):
        raise FileNotFoundError(att.thumb_key or "")
    return storage().get(att.thumb_key)


def thumbnail_response(att: Attachment, data: bytes, cache_control: str) -> Response:
    """A thumbnail as a WebP image under the same protective headers as the originals."""
    resp = Response(data, mimetype="image/webp")
    resp.headers.set("Content-Disposition", "inline", filename=f"lampiran-{att.id}-kecil.webp")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"
    resp.headers["Cache-Control"] = cache_control
    return resp


def backfill_thumbnails(tenant_id: int, batch: int = 200) -> dict[str, int]:
    """Make the missing thumbnails of the bound tenant's photos (idempotent: photos that have one are
    skipped; a photo whose file is missing or unreadable is counted and left without one).
    The caller binds the tenant (tenant_scope) and commits."""
    store = storage()
    made = failed = 0
    last_id = 0
    while True:
        rows = list(db.session.execute(
            select(Attachment).where(Attachment.tenant_id == tenant_id, Attachment.id > last_id,
                                     Attachment.thumb_key.is_(None), Attachment.content_type.like("image/%"))
            .order_by(Attachment.id).limit(batch)).scalars())
        if not rows:
            break
        for att in rows:
            last_id = att.id
            try:
                thumb = make_thumbnail(read_attachment(att))
            except (FileNotFoundError, UploadError):
                failed += 1
                continue
            key = thumb_key_for(att.storage_key)
            store.put(key, thumb.data, "image/webp")
            att.thumb_key, att.thumb_width, att.thumb_height = key, thumb.width, thumb.height
            made += 1
        db.session.flush()
    return {"made": made, "failed": failed}


def public_photos(complaints) -> dict[int, Attachment]:
    """The first public photo with a thumbnail of each complaint the public may see photos of (public
    privacy, verified, processing not restricted): the rule of the public attachment route.
    ``complaints`` are Complaint objects or rows with ``id``, ``anonymous``, ``confidential``,
    ``verified_at`` and ``processing_restricted``."""
    ids = [c.id for c in complaints if not c.anonymous and not c.confidential and c.verified_at is not None
           and not c.processing_restricted]
    if not ids:
        return {}
    first = (select(func.min(Attachment.id))
             .where(Attachment.complaint_id.in_(ids), Attachment.public.is_(True),
                    Attachment.thumb_key.is_not(None), Attachment.content_type.like("image/%"))
             .group_by(Attachment.complaint_id))
    rows = db.session.execute(select(Attachment).where(Attachment.id.in_(first))).scalars()
    return {a.complaint_id: a for a in rows}


def public_thumbnail_urls(complaints) -> dict[int, str]:
    """Complaint id → the URL of its first public photo's thumbnail, for the complaints that have one
    (one query for a whole list; rows as for :func:`public_photos`, with ``code``)."""
    photos = public_photos(complaints)
    return {c.id: url_for("tenant.complaints_public.attachment_thumbnail", code=c.code, att_id=photos[c.id].id)
            for c in complaints if c.id in photos}


def public_thumbnail_url(complaint: Complaint) -> str | None:
    """The URL of the first public photo's thumbnail of a complaint, or None (for lists shown to anyone)."""
    return public_thumbnail_urls([complaint]).get(complaint.id)


#: Served inline (shown in the browser); anything else is a download.
_INLINE = {"image/jpeg", "image/png", "image/webp"}


def attachment_response(att: Attachment, data: bytes, filename: str, cache_control: str) -> Response:
    """A stored file as a response that a browser cannot run: the content type comes from the
    checked list only, images are shown inline and PDFs downloaded, never sniffed, and a sandboxing
    Content-Security-Policy covers the file if it is opened on its own."""
    content_type = att.content_type if att.content_type in _EXT else "application/octet-stream"
    resp = Response(data, mimetype=content_type)
    resp.headers.set("Content-Disposition", "inline" if content_type in _INLINE else "attachment", filename=filename)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"
    resp.headers["Cache-Control"] = cache_control
    return resp

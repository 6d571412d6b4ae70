"""Where files live: one interface, two backends.

Attachments and logos are written and read by key (``<tenant_id>/…``) through :func:`storage`. The
backend comes from ``STORAGE_URL``:

* empty or ``file://`` (the default): the local folder ``UPLOAD_DIR`` — one machine, ``make run``;
* ``s3://<bucket>[/<prefix>]``: any S3-compatible service through boto3 (``STORAGE_S3_ENDPOINT_URL``,
  ``STORAGE_S3_REGION``, credentials from the usual ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``),
  so every web node reads every file.

Files are never public in the bucket: the app reads them and answers through its own access checks.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from flask import Flask, current_app


class Storage(Protocol):
    """A flat key → bytes store; keys are relative paths like ``12/ab34….jpg``."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``. :raises FileNotFoundError: when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error (deletes are retried after commits)."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...


def check_key(key: str) -> str:
    """Refuse keys that could leave the store's root (absolute, ``..``, empty parts)."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise FileNotFoundError(key)
    return key


class LocalStorage:
    """Files under one folder (``UPLOAD_DIR``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / check_key(key)).resolve()
        if root not in path.parents:
            raise FileNotFoundError(key)
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except FileNotFoundError:
            return False

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key


class S3Storage:
    """Objects in one bucket (optionally under a prefix) of an S3-compatible service."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # boto3 clients are thread-safe; one per process serves every request thread.
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 4, "mode": "standard"},
                          s3={"addressing_style": "path"}))

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # No ACL: objects stay private to the bucket owner; the app is the only reader.
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type,
                               Metadata={"sha256": hashlib.sha256(data).hexdigest()})

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(key) from exc
            raise

    def head_sha256(self, key: str) -> str | None:
        """The sha256 recorded when the object was written, or None if there is no such object."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return head.get("Metadata", {}).get("sha256", "")

    def exists(self, key: str) -> bool:
        return self.head_sha256(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"][len(self.prefix):]


def build_storage(config: dict) -> Storage:
    """The backend that ``config`` (STORAGE_URL, UPLOAD_DIR, STORAGE_S3_*) describes."""
    url = (config.get("STORAGE_URL") or "").strip()
    if not url or url.startswith("file:"):
        path = urlparse(url).path if url.startswith("file://") and urlparse(url).path else config["UPLOAD_DIR"]
        return LocalStorage(path)
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError("STORAGE_URL must be empty, file:///path or s3://bucket[/prefix]")
    return S3Storage(parsed.netloc, parsed.path, endpoint_url=config.get("STORAGE_S3_ENDPOINT_URL"),
                     region=config.get("STORAGE_S3_REGION"))


_lock = threading.Lock()


def storage(app: Flask | None = None) -> Storage:
    """The app's storage, built once per configuration (tests switch backends by changing the config)."""
    app = app or current_app._get_current_object()
    cfg = app.config
    ident = (cfg.get("STORAGE_URL"), cfg.get("UPLOAD_DIR"), cfg.get("STORAGE_S3_ENDPOINT_URL"),
             cfg.get("STORAGE_S3_REGION"))
    cached = app.extensions.get("storage")
    if cached is None or cached[0] != ident:
        with _lock:
            cached = app.extensions.get("storage")
            if cached is None or cached[0] != ident:
                cached = (ident, build_storage(cfg))
                app.extensions["storage"] = cached
    return cached[1]


def migrate_local_to(target: Storage, source: LocalStorage) -> dict[str, int]:
    """Copy every file of ``source`` into ``target`` under the same key; a key already there with the
    same content is skipped, so the command can run again after an interruption."""
    copied = skipped = 0
    for key in source.keys():
        data = source.get(key)
        if isinstance(target, S3Storage):
            same = target.head_sha256(key) == hashlib.sha256(data).hexdigest()
        else:
            same = target.exists(key) and target.get(key) == data
        if same:
            skipped += 1
            continue
        target.put(key, data, _guess_type(key))
        copied += 1
    return {"copied": copied, "skipped": skipped}


def _guess_type(key: str) -> str:
    ext = key.rsplit(".", 1)[-1].lower()
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
            "pdf": "application/pdf"}.get(ext, "application/octet-stream")

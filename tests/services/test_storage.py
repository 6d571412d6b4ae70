"""app.storage: one interface, the local folder and an S3 bucket (a real S3 server, moto's server mode)."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from app.storage import LocalStorage, S3Storage, build_storage, storage


def test_both_backends_store_read_list_and_delete(storage_backend):
    store = storage_backend
    store.put("7/a.jpg", b"\xff\xd8\xff one", "image/jpeg")
    store.put("7/branding/logo.png", b"two", "image/png")
    assert store.get("7/a.jpg") == b"\xff\xd8\xff one"
    assert store.exists("7/branding/logo.png") and not store.exists("7/none.jpg")
    assert {k for k in store.keys("7/")} >= {"7/a.jpg", "7/branding/logo.png"}
    store.delete("7/a.jpg")
    store.delete("7/a.jpg")  # a second delete (a retried job) is not an error
    with pytest.raises(FileNotFoundError):
        store.get("7/a.jpg")


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "7/../../x", "7//x", "", "7\\..\\x"])
def test_keys_that_could_leave_the_store_are_refused(storage_backend, key):
    with pytest.raises(FileNotFoundError):
        storage_backend.get(key)
    with pytest.raises(FileNotFoundError):
        storage_backend.put(key, b"x", "image/png")


def test_the_s3_backend_writes_nothing_locally_and_another_node_reads_every_file(app, tmp_path, s3_server):
    bucket = "lapor-nodes"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    config = {"STORAGE_URL": f"s3://{bucket}/files", "STORAGE_S3_ENDPOINT_URL": s3_server}
    node_a = build_storage({**config, "UPLOAD_DIR": str(tmp_path / "a")})
    node_b = build_storage({**config, "UPLOAD_DIR": str(tmp_path / "b")})
    node_a.put("3/photo.jpg", b"photo", "image/jpeg")
    assert node_b.get("3/photo.jpg") == b"photo"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # Under the prefix, private to the owner: no grant to AllUsers/AuthenticatedUsers.
    raw = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    assert raw.head_object(Bucket=bucket, Key="files/3/photo.jpg")["ContentType"] == "image/jpeg"
    grants = raw.get_object_acl(Bucket=bucket, Key="files/3/photo.jpg")["Grants"]
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in grants)


def test_storage_url_selects_the_backend(app, tmp_path):
    assert isinstance(build_storage({"STORAGE_URL": None, "UPLOAD_DIR": str(tmp_path)}), LocalStorage)
    local = build_storage({"STORAGE_URL": f"file://{tmp_path}/other", "UPLOAD_DIR": str(tmp_path)})
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "other"
    assert isinstance(build_storage({"STORAGE_URL": "s3://b/p", "UPLOAD_DIR": "x"}), S3Storage)
    with pytest.raises(ValueError):
        build_storage({"STORAGE_URL": "ftp://b", "UPLOAD_DIR": "x"})


def test_migrate_local_copies_every_file_once_and_again_only_what_changed(app, tmp_path, s3_server, monkeypatch):
    source = LocalStorage(tmp_path / "uploads")
    source.put("1/a.jpg", b"first", "image/jpeg")
    source.put("1/branding/logo-x.png", b"logo", "image/png")
    source.put("2/b.pdf", b"%PDF-1.4 second", "application/pdf")
    bucket = "lapor-migrate"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{bucket}")
    monkeypatch.setitem(app.config, "STORAGE_S3_ENDPOINT_URL", s3_server)
    runner = app.test_cli_runner()
    with app.app_context():  # as `flask` does for every command
        first = runner.invoke(args=["storage", "migrate-local", "--from", str(tmp_path / "uploads")])
        assert first.exit_code == 0, first.output
        assert "copied 3, already there 0" in first.output
        again = runner.invoke(args=["storage", "migrate-local", "--from", str(tmp_path / "uploads")])
        assert "copied 0, already there 3" in again.output

        source.put("1/a.jpg", b"changed", "image/jpeg")  # e.g. an interrupted earlier copy
        third = runner.invoke(args=["storage", "migrate-local", "--from", str(tmp_path / "uploads")])
        assert "copied 1, already there 2" in third.output

        target = storage(app)
        assert sorted(target.keys()) == ["1/a.jpg", "1/branding/logo-x.png", "2/b.pdf"]
        assert target.get("1/a.jpg") == b"changed"
        assert target.head_sha256("2/b.pdf") == hashlib.sha256(b"%PDF-1.4 second").hexdigest()
        assert boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").head_object(
            Bucket=bucket, Key="2/b.pdf")["ContentType"] == "application/pdf"


def test_migrate_local_refuses_to_copy_the_folder_onto_itself(app, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_URL", None)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["storage", "migrate-local"])
    assert result.exit_code == 1 and "STORAGE_URL" in result.output

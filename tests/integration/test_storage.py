"""Uploaded materials and issued documents in object storage: a real SeaweedFS S3 gateway, and the filesystem.

The same contract is asked of both stores (``app.storage``); then a platform with
``HN_STORAGE_URL=s3://…`` takes an upload through the API, the bytes land in the
bucket (read back with boto3 directly, nothing under ``HN_UPLOAD_DIR``) and the
download serves them; an unreachable store answers 503 and keeps no material row.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import Material
from app.storage import FileStorage, S3Storage, check_key
from tests.fixtures.seaweed import CREDENTIALS, Seaweed

from .test_api import declare

PDF = b"%PDF-1.4\n% an issued licence\n%%EOF\n"
BUCKET = "hn-files"


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    server = Seaweed(tmp_path_factory.mktemp("seaweed"))
    server.client().create_bucket(Bucket=BUCKET)
    yield server
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(params=["filesystem", "s3"])
def store(request, tmp_path):
    if request.param == "filesystem":
        return FileStorage(tmp_path / "files")
    server = request.getfixturevalue("seaweed")
    return S3Storage(f"s3://{BUCKET}/contract", endpoint=server.endpoint)


def test_a_store_keeps_what_it_is_given(store):
    key = "documents/2026/460100/licence-1.pdf"
    assert store.get(key) is None and not store.exists(key)
    store.put(key, PDF, "application/pdf")
    assert store.exists(key) and store.get(key) == PDF
    store.put(key, PDF + b"v2", "application/pdf")  # put replaces
    assert store.get(key) == PDF + b"v2"
    assert store.get("documents/2026/460100/other.pdf") is None


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a//b", "a/../b", "a b", "", "文件.pdf", "a/./b"])
def test_keys_that_could_leave_the_store_are_refused(store, key):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_materials_go_to_object_storage_when_configured(platform, login, seaweed, tmp_path, monkeypatch):
    uploads = tmp_path / "uploads"
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(uploads))
    monkeypatch.setattr(platform.settings, "STORAGE_URL", f"s3://{BUCKET}/hn")
    monkeypatch.setattr(platform.settings, "STORAGE_ENDPOINT", seaweed.endpoint)
    api = login("applicant1")
    code = declare(api)["code"]
    upload = api.post(f"/projects/{code}/materials", content_type="multipart/form-data",
                      data={"name": "项目申请报告", "file": (io.BytesIO(PDF), "报告.pdf")})
    assert upload.status_code == 201, upload.get_json()
    digest = hashlib.sha256(PDF).hexdigest()
    stored = seaweed.client().get_object(Bucket=BUCKET, Key=f"hn/{digest[:2]}/{digest}")
    assert stored["Body"].read() == PDF and stored["ContentType"] == "application/pdf"
    assert not uploads.exists() or not any(uploads.rglob("*"))  # nothing on this machine's disk
    download = api.client.get(f"/api/v1/projects/{code}/materials/{upload.get_json()['id']}", headers=api.headers)
    assert download.status_code == 200 and download.data == PDF


def test_an_unreachable_store_answers_503_and_keeps_no_row(platform, login, monkeypatch):
    monkeypatch.setattr(platform.settings, "STORAGE_URL", f"s3://{BUCKET}/hn")
    monkeypatch.setattr(platform.settings, "STORAGE_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    api = login("applicant1")
    code = declare(api)["code"]
    upload = api.post(f"/projects/{code}/materials", content_type="multipart/form-data",
                      data={"name": "项目申请报告", "file": (io.BytesIO(PDF), "报告.pdf")})
    assert upload.status_code == 503 and upload.get_json()["error"]["code"] == "storage_unavailable"
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count(Material.id))) == 0

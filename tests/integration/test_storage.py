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


# -- issued documents (seal/files.py) go to the same store -------------------------------------------

@pytest.fixture(params=["filesystem", "s3"])
def document_store(request, platform, tmp_path, monkeypatch):
    """The platform's store as the settings name it, and a reader of its raw objects (key -> bytes or None)."""
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setattr(platform.settings, "DOCUMENT_DIR", str(tmp_path / "documents"))
    if request.param == "filesystem":
        def raw(key):
            path = tmp_path / "uploads" / key
            return path.read_bytes() if path.is_file() else None
        return raw
    server = request.getfixturevalue("seaweed")
    prefix = f"docs-{tmp_path.name}"
    monkeypatch.setattr(platform.settings, "STORAGE_URL", f"s3://{BUCKET}/{prefix}")
    monkeypatch.setattr(platform.settings, "STORAGE_ENDPOINT", server.endpoint)

    def raw(key):
        from botocore.exceptions import ClientError
        try:
            return server.client().get_object(Bucket=BUCKET, Key=f"{prefix}/{key}")["Body"].read()
        except ClientError:
            return None
    return raw


def _issue_stage_one(platform):
    from app.scheduler import SealWorker

    from .test_seal import _advance, _issued, _project
    code, instance_id = _project(platform)
    assert _advance(platform, instance_id) is None
    done = SealWorker(platform).tick()
    assert done["issued"] and done["failed"] == []
    return _issued(platform, instance_id)


def test_issued_documents_go_to_the_configured_store(platform, document_store, tmp_path):
    from app.services.seal import documents
    docs = _issue_stage_one(platform)
    for doc in docs:
        assert doc.storage_key == f"documents/{doc.sha256[:2]}/{doc.sha256}.pdf"
        stored = document_store(doc.storage_key)
        assert stored is not None and hashlib.sha256(stored).hexdigest() == doc.sha256
        assert documents.pdf_of(platform, doc) == stored
    assert not (tmp_path / "documents").exists()  # nothing under the old DOCUMENT_DIR


def test_documents_kept_under_document_dir_are_read_there_and_moved_by_a_command(platform, document_store,
                                                                                   tmp_path):
    from sqlalchemy import update

    from app import create_app
    from app.models import IssuedDocument
    from app.services.seal import documents
    docs = _issue_stage_one(platform)
    assert len(docs) >= 2
    legacy = {}
    for n, doc in enumerate(docs[:2]):  # as issued before documents went to the store: ab/abcdef….pdf there
        data = PDF + doc.cert_id.encode()
        digest = hashlib.sha256(data).hexdigest()
        path = tmp_path / "documents" / digest[:2] / f"{digest}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if n == 0 else data + b"changed since")  # the second no longer matches its hash
        legacy[doc.cert_id] = (data, digest)
        with transaction(platform.sessions) as session:
            session.execute(update(IssuedDocument).where(IssuedDocument.id == doc.id)
                            .values(storage_key=f"{digest[:2]}/{digest}.pdf", sha256=digest))
    kept, changed = docs[0].cert_id, docs[1].cert_id
    with transaction(platform.sessions, write=False) as session:
        assert documents.pdf_of(platform, documents.document(session, kept)) == legacy[kept][0]  # still readable
    assert document_store(f"documents/{legacy[kept][1][:2]}/{legacy[kept][1]}.pdf") is None

    result = create_app(platform.settings, platform=platform).test_cli_runner().invoke(
        args=["seal", "move-documents"])
    assert result.exit_code == 1 and result.output.startswith("1 document(s) moved") and changed in result.output
    for path in (tmp_path / "documents").rglob("*.pdf"):
        path.unlink()  # the old directory can go: the moved document is read from the store
    with transaction(platform.sessions, write=False) as session:
        moved = documents.document(session, kept)
        assert moved.storage_key == f"documents/{legacy[kept][1][:2]}/{legacy[kept][1]}.pdf"
        assert document_store(moved.storage_key) == legacy[kept][0]
        assert documents.pdf_of(platform, moved) == legacy[kept][0]
        left = documents.document(session, changed)
        assert not left.storage_key.startswith("documents/")  # a file that no longer matches is not moved
    for doc in docs[2:]:
        assert document_store(doc.storage_key) is not None  # the others were in the store all along

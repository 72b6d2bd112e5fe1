"""Where uploaded materials and issued documents are kept: the filesystem, or S3-compatible storage.

Every node of a cluster must read what any node wrote, so files cannot stay on
one machine's disk: with ``HN_STORAGE_URL=s3://bucket/prefix`` they go to an
S3-compatible object store (AWS S3, MinIO, SeaweedFS, a cloud provider's OSS
with an S3 endpoint in ``HN_STORAGE_ENDPOINT``) through boto3, with the usual
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` credentials.  Without it they go
under ``HN_UPLOAD_DIR`` (one machine, or a shared filesystem).

The API is two calls on ``platform.storage``::

    platform.storage.put("documents/2026/…/licence.pdf", pdf_bytes, "application/pdf")
    platform.storage.get("documents/2026/…/licence.pdf")   # the bytes, or None

Keys are relative paths of ``/``-separated parts (letters, digits, ``._-``; no
``..``).  ``put`` replaces; a reader sees the old or the new bytes, never half.
Materials are stored by content (``ab/abcdef…``, their sha256), so writing the
same file twice is harmless and a failed transaction leaves at most an
unreferenced object, never a row without its bytes.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class StorageError(Exception):
    """The store refused or could not be reached."""


def check_key(key: str) -> str:
    """A storage key, or ValueError: relative ``a/b/c`` parts of letters, digits and ``._-``, no ``..``."""
    if not isinstance(key, str) or not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    """What the platform keeps files with."""

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def exists(self, key: str) -> bool: ...


class FileStorage:
    """Files under one directory (the default: ``HN_UPLOAD_DIR``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def __repr__(self) -> str:
        return f"<FileStorage {self.root}>"


class S3Storage:
    """Objects in one bucket of an S3-compatible store, under a key prefix."""

    def __init__(self, url: str, endpoint: str = "", region: str = "us-east-1"):
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"HN_STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
        import boto3  # only a cluster on object storage needs it loaded
        from botocore.config import Config
        self.bucket, self.prefix = parsed.netloc, parsed.path.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint or None, region_name=region or None,
                                   config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                                 s3={"addressing_style": "path"}))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not store {key}: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StorageError(f"could not read {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not read {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise StorageError(f"could not look up {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not look up {key}: {exc}") from exc

    def __repr__(self) -> str:
        return f"<S3Storage s3://{self.bucket}/{self.prefix}>"


def storage_for(settings) -> Storage:
    """The store the settings name: ``HN_STORAGE_URL`` (s3://…), else ``HN_UPLOAD_DIR``."""
    url = settings.STORAGE_URL
    if url:
        return S3Storage(url, settings.STORAGE_ENDPOINT, settings.STORAGE_REGION)
    return FileStorage(settings.UPLOAD_DIR)

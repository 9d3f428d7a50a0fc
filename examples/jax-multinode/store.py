"""Object storage for the example: s3:// through boto3 (the standard AWS environment; path-style
addressing when AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL points at MinIO or another S3-compatible
store), file:// URIs and plain paths on the local disk (for runs outside the cluster).

Writes are atomic: an S3 PUT is all or nothing, and a local file is written beside its target and
renamed over it, so a reader never sees half a checkpoint.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlparse


class StoreError(Exception):
    """An object could not be read or written (after retries)."""


@dataclass(frozen=True)
class Location:
    scheme: str  # "s3" or "file"
    bucket: str  # s3 only
    key: str  # s3: the key; file: the absolute path

    def join(self, *parts: str) -> "Location":
        tail = "/".join(p.strip("/") for p in parts if p)
        if self.scheme == "file":
            return Location("file", "", os.path.join(self.key, tail))
        return Location("s3", self.bucket, f"{self.key.rstrip('/')}/{tail}" if self.key else tail)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.scheme == "s3" else f"file://{self.key}"


def parse(uri: str) -> Location:
    """s3://bucket/key, file:///abs/path or a plain path; anything else raises ValueError."""
    u = urlparse(uri)
    if u.scheme == "s3":
        if not u.netloc:
            raise ValueError(f"{uri!r}: an s3:// URI needs a bucket (s3://<bucket>/<key>)")
        return Location("s3", u.netloc, u.path.lstrip("/"))
    if u.scheme == "file":
        return Location("file", "", os.path.abspath(u.path))
    if u.scheme == "":
        return Location("file", "", os.path.abspath(uri))
    raise ValueError(f"{uri!r}: only s3://, file:// and local paths are supported")


_client = None


def _s3():
    global _client
    if _client is None:
        import boto3  # imported here: local runs with file:// need no S3 client at all
        from botocore.config import Config

        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
        _client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            config=Config(
                s3={"addressing_style": "path" if endpoint else "auto"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )
    return _client


def _retry(what: str, fn):
    """Runs fn, retrying transient failures (connection errors, 5xx) with backoff."""
    from botocore.exceptions import BotoCoreError, ClientError

    for attempt in range(1, 6):
        try:
            return fn()
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status < 500 or attempt == 5:
                raise StoreError(f"{what}: {e}") from e
        except BotoCoreError as e:
            if attempt == 5:
                raise StoreError(f"{what}: {e}") from e
        time.sleep(min(2**attempt, 10))


def get(loc: Location) -> bytes | None:
    """The object's bytes, or None when it does not exist."""
    if loc.scheme == "file":
        try:
            with open(loc.key, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StoreError(f"reading {loc}: {e}") from e
    from botocore.exceptions import ClientError

    def fetch():
        try:
            return _s3().get_object(Bucket=loc.bucket, Key=loc.key)["Body"].read()
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    return _retry(f"reading {loc}", fetch)


def put(loc: Location, body: bytes, content_type: str = "application/octet-stream") -> None:
    if loc.scheme == "file":
        try:
            os.makedirs(os.path.dirname(loc.key), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(loc.key), prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.replace(tmp, loc.key)
        except OSError as e:
            raise StoreError(f"writing {loc}: {e}") from e
        return
    _retry(f"writing {loc}", lambda: _s3().put_object(Bucket=loc.bucket, Key=loc.key, Body=body, ContentType=content_type))


def delete(loc: Location) -> None:
    if loc.scheme == "file":
        try:
            os.remove(loc.key)
        except FileNotFoundError:
            pass
        return
    _retry(f"deleting {loc}", lambda: _s3().delete_object(Bucket=loc.bucket, Key=loc.key))

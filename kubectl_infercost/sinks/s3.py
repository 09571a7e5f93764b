"""S3-compatible object storage (AWS S3, MinIO, Ceph RGW, SeaweedFS, versitygw): finished files in, objects out.

* The client is boto3 (botocore + s3transfer), imported only when an upload is asked for, so the
  other commands start as fast as before (figures in BENCHMARKS.md).
* Credentials come from the standard AWS chain: environment, shared config/credentials profile
  (``AWS_PROFILE``), web identity (IRSA: ``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE``), container
  and instance metadata. The endpoint is ``--s3-endpoint`` or ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``.
* Each object is complete or absent: a file is uploaded only once it is fully written locally; a
  single PUT appears atomically, and a multipart upload that fails is aborted by s3transfer (an upload
  that could not be aborted is never an object; a lifecycle rule ``AbortIncompleteMultipartUpload``
  frees its parts).
* Every failure becomes one :class:`ObjectStoreError` naming the endpoint, the bucket and, for an
  upload, the object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InferCostError, UsageError

# AWS bucket naming rules (also what MinIO and Ceph accept): 3-63 characters, lowercase letters,
# digits, dots and hyphens, starting and ending with a letter or digit.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: The prefix Ternary's "bring your own data" reads, as castai-focus writes it.
TERNARY_PREFIX = "ternary"


class ObjectStoreError(InferCostError):
    """The object store refused or could not be reached; nothing more was written."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # no leading or trailing "/"; "" for the bucket's root

    def key(self, relative: PurePosixPath | str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else str(relative)

    def url(self, relative: PurePosixPath | str | None = None) -> str:
        key = self.key(relative) if relative is not None else self.prefix
        return f"s3://{self.bucket}/{key}" if key else f"s3://{self.bucket}"

    def under(self, top: str) -> S3Location:
        """The same prefix below ``top/`` (the Ternary copy)."""
        return S3Location(self.bucket, f"{top}/{self.prefix}" if self.prefix else top)


def is_s3_url(value: str) -> bool:
    return value.startswith("s3://")


def parse_s3_url(value: str) -> S3Location:
    """``s3://BUCKET[/PREFIX]``; a bad bucket name or an empty path segment is a usage error."""
    if not is_s3_url(value):
        raise UsageError(f"{value!r} is not an s3://BUCKET/PREFIX URL")
    bucket, _, prefix = value.removeprefix("s3://").partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise UsageError(
            f"{value!r}: bucket {bucket!r} is not a valid bucket name "
            "(3-63 characters: lowercase letters, digits, '.', '-')"
        )
    prefix = prefix.strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise UsageError(f"{value!r}: the prefix has an empty, '.' or '..' segment")
    return S3Location(bucket, prefix)


@dataclass(frozen=True)
class S3Settings:
    endpoint: str | None = None  # None: AWS (or AWS_ENDPOINT_URL[_S3])
    region: str | None = None  # None: AWS_REGION / AWS_DEFAULT_REGION / the profile's
    addressing: str = "auto"  # auto: path-style with an endpoint, virtual-hosted on AWS
    multipart_threshold: int = 8 * 1024 * 1024  # boto3's default; parts of 8 MiB

    @property
    def addressing_style(self) -> str:
        if self.addressing != "auto":
            return self.addressing
        return "path" if self.endpoint else "virtual"


class S3Destination:
    """Uploads finished local files to one bucket; one client for the whole run."""

    def __init__(self, location: S3Location, settings: S3Settings) -> None:
        self.location = location
        self.settings = settings
        self._client: Any = None

    @property
    def endpoint(self) -> str:
        return self.settings.endpoint or (self._client.meta.endpoint_url if self._client is not None else "AWS S3")

    @property
    def where(self) -> str:
        return f"bucket {self.location.bucket} at {self.endpoint}"

    def _connect(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            session = boto3.session.Session()
            config = Config(
                s3={"addressing_style": self.settings.addressing_style},
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=5,
                read_timeout=60,
                # Checksums only where the API requires them: S3-compatible stores vary in support.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            try:
                self._client = session.client(
                    "s3", endpoint_url=self.settings.endpoint, region_name=self.settings.region, config=config
                )
            except Exception as exc:  # botocore raises a dozen kinds for a bad endpoint, region or profile
                raise ObjectStoreError(f"cannot set up the S3 client for {self.where}: {exc}") from exc
        return self._client

    def check(self) -> None:
        """Before anything is written: the bucket exists and these credentials may use it."""
        client = self._connect()
        try:
            client.head_bucket(Bucket=self.location.bucket)
        except Exception as exc:
            raise ObjectStoreError(f"cannot use {self.where}: {_describe(exc)}") from exc

    def upload(self, path: Path, relative: PurePosixPath, location: S3Location | None = None) -> str:
        """Upload one finished file to ``location``/``relative``; returns its s3:// URL."""
        from boto3.s3.transfer import TransferConfig

        target = location or self.location
        client = self._connect()
        content_type = _content_type(relative.name)
        config = TransferConfig(multipart_threshold=self.settings.multipart_threshold, max_concurrency=4)
        try:
            client.upload_file(
                str(path),
                target.bucket,
                target.key(relative),
                ExtraArgs={"ContentType": content_type},
                Config=config,
            )
        except Exception as exc:
            raise ObjectStoreError(
                f"uploading {target.url(relative)} to {self.endpoint} failed: {_describe(exc)}"
            ) from exc
        return target.url(relative)


def _content_type(name: str) -> str:
    for suffix, kind in ((".parquet", "application/vnd.apache.parquet"), (".csv", "text/csv; charset=utf-8"),
                         (".json", "application/json"), (".jsonl", "application/jsonl")):  # fmt: skip
        if name.endswith(suffix):
            return kind
    return "application/octet-stream"


def _describe(exc: BaseException) -> str:
    """The store's answer in words: what was refused and why, without a traceback."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(exc, S3UploadFailedError) and exc.__context__ is not None:
        exc = exc.__context__
    if isinstance(exc, NoCredentialsError):
        return (
            "no credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "or a web identity such as IRSA)"
        )
    if isinstance(exc, EndpointConnectionError):
        return "the endpoint cannot be reached (connection failed)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("404", "NoSuchBucket"):
            return "the bucket does not exist"
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken"):
            return f"the credentials were refused ({code})"
        if code in ("403", "AccessDenied") or status == 403:
            return "access denied (wrong credentials, or no s3:ListBucket/s3:PutObject permission)"
        message = str(error.get("Message", "")).strip()
        return f"{code or status}{': ' + message if message else ''}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def upload_all(
    destination: S3Destination,
    files: Iterable[tuple[Path, PurePosixPath, S3Location]],
    on_uploaded: Callable[[str], None],
) -> list[str]:
    """Upload each (local file, relative key, location) in order; returns the URLs written.

    On the first failure, stops and raises one error naming the object that failed and how many were
    written before it (each was reported through ``on_uploaded`` as it completed).
    """
    written: list[str] = []
    for path, relative, location in files:
        try:
            url = destination.upload(path, relative, location)
        except ObjectStoreError as exc:
            before = f"{len(written)} object(s) written before it (listed above)" if written else "nothing written"
            raise ObjectStoreError(f"{exc}; {before}") from exc
        written.append(url)
        on_uploaded(url)
    return written

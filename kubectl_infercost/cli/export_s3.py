"""``export focus --to s3://BUCKET/PREFIX``: the object-storage destination of the FOCUS export.

Objects (one per UTC charge day, the layout castai-focus documents; see docs/export-focus.md):
``PREFIX/version=<layout>/year=YYYY/month=MM/day=DD/infercost-<account>-<YYYY-MM-DD>.<ext>``, each
file's metadata under ``PREFIX/version=<layout>/_metadata/``, and with ``--ternary`` the same objects
again under ``ternary/PREFIX/``. Keys depend only on (account, layout, day, format): a re-run replaces.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

TO_METAVAR = "YYYY-MM-DD|s3://BUCKET/PREFIX"


def split_to(values: tuple[str, ...]) -> tuple[datetime | None, str | None]:
    """``--to`` is the window's end (a UTC date) or the destination (an s3:// URL); both may be given."""
    end: datetime | None = None
    destination: str | None = None
    for value in values:
        if value.startswith("s3://"):
            if destination is not None:
                raise UsageError("--to s3://… is given twice; export to one destination per run")
            destination = value
            continue
        if end is not None:
            raise UsageError("--to YYYY-MM-DD is given twice")
        try:
            end = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise UsageError(f"--to {value!r} is neither a date (YYYY-MM-DD) nor an s3://BUCKET/PREFIX URL") from None
    return end, destination


def s3_options(func: F) -> F:
    """The flags of the S3 destination (they need ``--to s3://…``)."""
    for option in reversed(
        [
            click.option(
                "--s3-endpoint",
                metavar="URL",
                help="S3-compatible endpoint (MinIO, Ceph RGW, SeaweedFS); default AWS or AWS_ENDPOINT_URL_S3.",
            ),
            click.option(
                "--s3-region", metavar="REGION", help="Region of the bucket (default: AWS_REGION or profile)."
            ),
            click.option(
                "--s3-addressing",
                type=click.Choice(["auto", "path", "virtual"]),
                default="auto",
                show_default=True,
                help="Bucket addressing: auto is path-style with --s3-endpoint, virtual-hosted on AWS.",
            ),
            click.option(
                "--ternary", is_flag=True, help="Also write every object under ternary/PREFIX/ (Ternary BYOD)."
            ),
        ]
    ):
        func = option(func)
    return func


def check_s3_flags(destination: str | None, out: str | None, output_dir: str | None, s3_flags: dict[str, Any]) -> None:
    if destination is None:
        given = [
            f"--{name.replace('_', '-')}" for name, value in s3_flags.items() if value not in (None, False, "auto")
        ]
        if given:
            raise UsageError(f"{', '.join(given)} needs --to s3://BUCKET/PREFIX")
        return
    if out is not None or output_dir is not None:
        raise UsageError("--to s3://… is exclusive with --out and --output-dir")
    from ..sinks.s3 import parse_s3_url

    parse_s3_url(destination)  # a malformed URL is a usage error before the cluster is read


def export_to_s3(
    url: str,
    s3_flags: dict[str, Any],
    fmt: str,
    layout: Any,
    rows: Iterable[tuple[str | None, ...]],
    account: str,
) -> int:
    """Check the bucket, write each day's file locally, then upload; returns the row count."""
    from ..output.focus_days import metadata_path_of, write_days
    from ..sinks.s3 import TERNARY_PREFIX, S3Destination, S3Settings, parse_s3_url, upload_all

    location = parse_s3_url(url)
    destination = S3Destination(
        location,
        S3Settings(
            endpoint=s3_flags["s3_endpoint"], region=s3_flags["s3_region"], addressing=s3_flags["s3_addressing"]
        ),
    )
    destination.check()  # a missing bucket or refused credentials fail here, before anything is written
    locations = [location, location.under(TERNARY_PREFIX)] if s3_flags["ternary"] else [location]
    with tempfile.TemporaryDirectory(prefix="infercost-export-") as staging:
        counts = write_days(staging, fmt, layout, rows, account, created=datetime.now(UTC), dataset=account)
        files = [
            (Path(staging, relative), relative, target)
            for target in locations
            for data in counts
            for relative in (data, metadata_path_of(data))
        ]
        rows_of = {str(data): n for data, n in counts.items()}

        def report(written: str) -> None:
            n = next((n for key, n in rows_of.items() if written.endswith("/" + key)), None)
            click.echo(f"uploaded {written}" + (f" ({n} rows)" if n is not None else ""), err=True)

        written = upload_all(destination, files, report)
    total = sum(counts.values())
    if written:
        targets = " and ".join(target.url() for target in locations)
        click.echo(f"wrote {len(written)} objects ({total} rows in {len(counts)} days) to {targets}", err=True)
    return total

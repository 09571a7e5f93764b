"""Object-storage export: key layout, URL and flag rules, the day files, error wording.

That start-up never imports the S3 client is asserted with the other start-up paths (test_completion.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from kubectl_infercost.cli.export_s3 import split_to
from kubectl_infercost.core.focus import layout_for
from kubectl_infercost.core.namespaces import NamespaceFilter, filter_rows
from kubectl_infercost.errors import UsageError
from kubectl_infercost.output.focus_days import cluster_slug, day_path, metadata_path_of, write_days
from kubectl_infercost.sinks.s3 import S3Location, S3Settings, _describe, parse_s3_url

FOCUS = layout_for("1.3", None)


def test_day_path_is_the_castai_layout() -> None:
    assert str(day_path(FOCUS, "prod-east", "2026-03-10T14:00:00Z", "parquet")) == (
        "version=focus-1.3/year=2026/month=03/day=10/infercost-prod-east-2026-03-10.parquet"
    )
    assert str(day_path(layout_for("1.0", None), "c", "2026-12-01", "csv")) == (
        "version=focus-1.0/year=2026/month=12/day=01/infercost-c-2026-12-01.csv"
    )
    with pytest.raises(ValueError, match="not a YYYY-MM-DD day"):
        day_path(FOCUS, "c", "", "csv")


def test_metadata_sits_under_an_underscore_folder_of_the_version() -> None:
    data = PurePosixPath("version=focus-1.3/year=2026/month=03/day=10/infercost-c-2026-03-10.parquet")
    assert str(metadata_path_of(data)) == (
        "version=focus-1.3/_metadata/year=2026/month=03/day=10/infercost-c-2026-03-10.parquet.metadata.json"
    )


@pytest.mark.parametrize(
    ("cluster", "slug"),
    [("prod-east", "prod-east"), ("arn:aws:eks:us-east-1:1:cluster/x", "arn-aws-eks-us-east-1-1-cluster-x"),
     ("kind_local.2", "kind_local.2"), ("--", "cluster")],
)  # fmt: skip
def test_cluster_slug(cluster: str, slug: str) -> None:
    assert cluster_slug(cluster) == slug


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [("s3://finops", "finops", ""), ("s3://finops/", "finops", ""), ("s3://finops/focus/", "finops", "focus"),
     ("s3://my.bucket-1/a/b", "my.bucket-1", "a/b")],
)  # fmt: skip
def test_parse_s3_url(url: str, bucket: str, prefix: str) -> None:
    assert parse_s3_url(url) == S3Location(bucket, prefix)


@pytest.mark.parametrize(
    ("url", "message"),
    [("finops/x", "not an s3://"), ("s3://Finops/x", "not a valid bucket name"), ("s3://ab/x", "not a valid bucket"),
     ("s3://a..b/x", "not a valid bucket"), ("s3://finops/a//b", "empty, '.' or '..' segment"),
     ("s3://finops/a/../b", "segment")],
)  # fmt: skip
def test_bad_s3_urls_are_usage_errors(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_s3_url(url)


def test_location_keys_and_ternary_copy() -> None:
    loc = S3Location("finops", "lake/focus")
    assert loc.key("version=focus-1.3/x.parquet") == "lake/focus/version=focus-1.3/x.parquet"
    assert loc.under("ternary").key("x") == "ternary/lake/focus/x"
    assert S3Location("finops", "").under("ternary").url("x") == "s3://finops/ternary/x"
    assert S3Location("finops", "").url() == "s3://finops"


def test_addressing_style() -> None:
    assert S3Settings(endpoint="http://minio:9000").addressing_style == "path"
    assert S3Settings().addressing_style == "virtual"
    assert S3Settings(addressing="path").addressing_style == "path"


def test_to_is_a_date_or_a_destination() -> None:
    assert split_to(()) == (None, None)
    assert split_to(("2026-05-01", "s3://b-1/p")) == (datetime(2026, 5, 1, tzinfo=UTC), "s3://b-1/p")
    for values, message in [
        (("2026-05-01", "2026-06-01"), "given twice"),
        (("s3://b-1/p", "s3://b-2/p"), "one destination"),
        (("tomorrow",), "neither a date"),
    ]:
        with pytest.raises(UsageError, match=message):
            split_to(values)


def test_namespace_filter_rules() -> None:
    assert not NamespaceFilter.parse(None, None).active
    keep = NamespaceFilter.parse("team-a, team-b", None)
    assert (keep.allows("team-a"), keep.allows("team-c"), keep.allows(None)) == (True, False, False)
    drop = NamespaceFilter.parse(None, "kube-system")
    assert (drop.allows("kube-system"), drop.allows("team-a")) == (False, True)
    for include, exclude, message in [
        ("a", "b", "mutually exclusive"),
        (",", None, "needs at least one namespace"),
        ("Team_A", None, "not a namespace name"),
    ]:
        with pytest.raises(UsageError, match=message):
            NamespaceFilter.parse(include, exclude)
    rows = [("1", "team-a"), ("2", "team-b"), ("3", "team-a")]
    assert list(filter_rows(rows, 1, keep)) == rows
    assert list(filter_rows(rows, 1, NamespaceFilter.parse("team-a", None))) == [rows[0], rows[2]]


def _row(start: str, cost: str) -> tuple[str | None, ...]:
    values: list[str | None] = [None] * len(FOCUS.columns)
    values[FOCUS.index("ChargePeriodStart")] = start
    values[FOCUS.index("BilledCost")] = cost
    return tuple(values)


def test_write_days_one_file_per_charge_day(tmp_path: Path) -> None:
    rows = [
        _row("2026-04-19T00:00:00Z", "1.0"),
        _row("2026-04-20T00:00:00Z", "2.0"),
        _row("2026-04-19T00:00:00Z", "3.0"),
    ]
    created = datetime(2026, 4, 21, 6, 0, tzinfo=UTC)
    counts = write_days(tmp_path, "csv", FOCUS, rows, "lab", created)
    first = PurePosixPath("version=focus-1.3/year=2026/month=04/day=19/infercost-lab-2026-04-19.csv")
    second = PurePosixPath("version=focus-1.3/year=2026/month=04/day=20/infercost-lab-2026-04-20.csv")
    assert counts == {first: 2, second: 1}  # rows of a day that arrive apart land in the same file
    lines = (tmp_path / first).read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["1.0", "3.0"]
    meta = json.loads((tmp_path / metadata_path_of(first)).read_text())
    assert (meta["x_RowCount"], meta["Schema"][0]["CreationDate"]) == (2, "2026-04-21T06:00:00Z")
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted([str(first), str(second), str(metadata_path_of(first)), str(metadata_path_of(second))])


def test_store_errors_in_words() -> None:
    def client_error(code: str, status: int) -> ClientError:
        return ClientError(
            {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
        )

    assert _describe(client_error("404", 404)) == "the bucket does not exist"
    assert _describe(client_error("NoSuchBucket", 404)) == "the bucket does not exist"
    assert _describe(client_error("InvalidAccessKeyId", 403)) == "the credentials were refused (InvalidAccessKeyId)"
    assert _describe(client_error("403", 403)).startswith("access denied")
    assert _describe(client_error("SlowDown", 503)) == "SlowDown: m"
    assert _describe(EndpointConnectionError(endpoint_url="http://x")) == (
        "the endpoint cannot be reached (connection failed)"
    )
    assert _describe(NoCredentialsError()).startswith("no credentials found")

"""``export focus --to s3://…`` against a real S3-compatible server (versitygw, posix backend).

The world: in each of two namespaces ``<ns>-a`` and ``<ns>-b`` a CostProfile and a daily UsageReport
whose status is put by hand (closed 2026-04-19 in history, open 2026-04-20), each model in the report's
own namespace. Figures are chosen so every price is exact at 6 dp, so BilledCost sums equal the
reports' estimatedCostUSD to the digit under any rounding rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pytest
from botocore.config import Config

from kubectl_infercost.kube.client import KubeClient
from testenv.s3server import S3Server, S3ServerError
from testenv.simpod import ensure_namespace
from tests.focuscheck import check_parquet

from .conftest import NewIp, Sim, run_cli
from .world import create_with_status, labelled_world

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
D = Decimal
ACCOUNT = "lab-cluster"
VERSION = "version=focus-1.3"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3"))
    try:
        server.start()
    except S3ServerError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def client(server: S3Server) -> Any:
    return boto3.session.Session(
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key, region_name=server.region
    ).client("s3", endpoint_url=server.endpoint, config=Config(s3={"addressing_style": "path"}))


@pytest.fixture
def bucket(s3: S3Server) -> str:
    name = f"finops-{uuid.uuid4().hex[:8]}"
    client(s3).create_bucket(Bucket=name)
    return name


def objects(server: S3Server, bucket: str) -> dict[str, bytes]:
    c = client(server)
    keys = [
        o["Key"]
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    return {key: c.get_object(Bucket=bucket, Key=key)["Body"].read() for key in sorted(keys)}


def export_s3(server: S3Server, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "export", "focus", "--s3-endpoint", server.endpoint, "--billing-account-id", ACCOUNT, *args,
        env={**server.env(), **(env or {})},
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def assert_exported(result: subprocess.CompletedProcess[str], *namespaces: str) -> None:
    """Exit 0, or 6 exactly when other tests' bad UsageReports (in other namespaces) were skipped loudly.

    The export reads every namespace; the session's cluster also holds reports made invalid on purpose.
    """
    skipped = [line for line in result.stderr.splitlines() if line.startswith("warning: UsageReport ")]
    assert not [line for line in skipped if line.split()[2].split("/")[0] in namespaces], result.stderr
    assert result.returncode == (6 if skipped else 0), result.stderr


def _day(period: str, model: str, ns: str, tokens: int, cost: str, idle: str, idle_hours: str) -> dict[str, Any]:
    """One day's figures; the open day 2026-04-20 is accounted until 10:00."""
    start = date.fromisoformat(period)
    end = f"{period}T10:00:00Z" if period == "2026-04-20" else f"{start + timedelta(days=1)}T00:00:00Z"
    return {
        "period": period, "periodStart": f"{period}T00:00:00Z", "periodEnd": end,
        "inputTokens": tokens, "outputTokens": 0, "estimatedCostUSD": D(cost) + D(idle),
        "idleCostUSD": D(idle), "idleGpuHours": D(idle_hours), "gpuHours": D("10"),
        "byModel": [{"model": model, "namespace": ns, "inputTokens": tokens, "outputTokens": 0,
                     "estimatedCostUSD": D(cost)}],
    }  # fmt: skip


@pytest.fixture
def world(installed: None, kube: KubeClient, namespace: str) -> tuple[str, str]:  # noqa: ARG001, V107 -- for its side effect
    """Two reports, each with its CostProfile and the models in its own namespace.

    <ns>-a: 04-19 2,000,000 tokens $25 + idle $6 (3 GPU-h); 04-20 1,000,000 tokens $12.50 + idle $5 (2.5 GPU-h).
    <ns>-b: 04-19 500,000 tokens $1.25 + idle $2 (1 GPU-h); 04-20 4,000,000 tokens $8 + idle $1 (0.5 GPU-h).
    """
    a, b = f"{namespace}-a", f"{namespace}-b"
    figures = {
        a: [("2026-04-19", 2_000_000, "25", "6", "3"), ("2026-04-20", 1_000_000, "12.5", "5", "2.5")],
        b: [("2026-04-19", 500_000, "1.25", "2", "1"), ("2026-04-20", 4_000_000, "8", "1", "0.5")],
    }
    for ns, ((p1, t1, c1, i1, h1), (p2, t2, c2, i2, h2)) in figures.items():
        ensure_namespace(kube, ns)
        create_with_status(
            kube, "costprofiles", ns, "pool",
            {"hardware": {"gpuModel": "NVIDIA L40S", "gpuCount": 4, "purchasePriceUSD": 40000, "amortizationYears": 3},
             "electricity": {"ratePerKWh": D("0.10"), "pueFactor": D("1.3")}},
            {"hourlyCostUSD": D("2")},
        )  # fmt: skip
        create_with_status(
            kube, "usagereports", ns, "daily", {"costProfileRef": "pool", "schedule": "daily"},
            {**_day(p2, "qwen-2.5-7b", ns, t2, c2, i2, h2), "history": [_day(p1, "qwen-2.5-7b", ns, t1, c1, i1, h1)]},
        )  # fmt: skip
    return a, b


def keys_for(prefix: str, days: list[str]) -> list[str]:
    out = []
    for day in days:
        y, m, d = day.split("-")
        name = f"infercost-{ACCOUNT}-{day}.parquet"
        out.append(f"{prefix}/{VERSION}/year={y}/month={m}/day={d}/{name}")
        out.append(f"{prefix}/{VERSION}/_metadata/year={y}/month={m}/day={d}/{name}.metadata.json")
    return sorted(out)


def read_back(server: S3Server, bucket: str, prefix: str) -> Any:
    fs = pafs.S3FileSystem(
        access_key=server.access_key, secret_key=server.secret_key, region=server.region,
        endpoint_override=f"127.0.0.1:{server.port}", scheme="http",
    )  # fmt: skip
    return pads.dataset(f"{bucket}/{prefix}", filesystem=fs, format="parquet", partitioning="hive").to_table()


def test_export_reads_back_as_one_table_equal_to_report(world: tuple[str, str], s3: S3Server, bucket: str) -> None:
    a, b = world
    result = export_s3(s3, "--to", f"s3://{bucket}/focus", "--format", "parquet", "--include-namespaces", f"{a},{b}")
    assert_exported(result, a, b)
    stored = objects(s3, bucket)
    assert sorted(stored) == keys_for("focus", ["2026-04-19", "2026-04-20"])
    assert result.stderr.count("uploaded s3://") == 4, result.stderr
    assert f"wrote 4 objects (8 rows in 2 days) to s3://{bucket}/focus" in result.stderr

    table = read_back(s3, bucket, "focus").to_pylist()  # the version folder's _metadata is skipped
    # per namespace and day: one token row + one idle row -> 2 namespaces x 2 days x 2 = 8 rows
    assert len(table) == 8
    by_day_ns: dict[tuple[str, str], Decimal] = {}
    for row in table:
        key = (row["ChargePeriodStart"].strftime("%Y-%m-%d"), row["SubAccountId"])
        by_day_ns[key] = by_day_ns.get(key, D(0)) + row["BilledCost"]
    assert {ns: sum(1 for r in table if r["SubAccountId"] == ns) for ns in (a, b)} == {a: 4, b: 4}

    # The open day against `report -A -o json`, the closed day against `report history -A -o json`.
    reports = json.loads(run_cli("report", "-A", "-o", "json").stdout)["usageReports"]
    current = {r["namespace"]: D(str(r["estimatedCostUSD"])) for r in reports if r["namespace"] in (a, b)}
    history = json.loads(run_cli("report", "history", "-A", "-o", "json").stdout)["items"]
    closed = {r["reportNamespace"]: D(str(r["estimatedCostUSD"])) for r in history if r["reportNamespace"] in (a, b)}
    # by hand: a 04-20 12.50 + 5 = 17.50, 04-19 25 + 6 = 31; b 04-20 8 + 1 = 9, 04-19 1.25 + 2 = 3.25
    assert current == {a: D("17.5"), b: D("9")} and closed == {a: D("31"), b: D("3.25")}
    assert {ns: by_day_ns[("2026-04-20", ns)] for ns in (a, b)} == current
    assert {ns: by_day_ns[("2026-04-19", ns)] for ns in (a, b)} == closed

    day = keys_for("focus", ["2026-04-20"])[1]
    local = Path(s3.root, bucket, day)  # the posix backend's file is the object
    check_parquet(local, "1.3")
    meta = json.loads(stored[keys_for("focus", ["2026-04-20"])[0]])
    assert meta["Schema"][0]["FocusVersion"] == "1.3" and meta["x_RowCount"] == 4


def test_rerun_replaces_with_the_same_objects_and_ternary_copy(
    world: tuple[str, str], s3: S3Server, bucket: str
) -> None:
    a, b = world
    args = ["--to", f"s3://{bucket}/lake/focus", "--format", "parquet", "--include-namespaces", f"{a},{b}", "--ternary"]
    first = export_s3(s3, *args)
    assert_exported(first, a, b)
    before = objects(s3, bucket)
    second = export_s3(s3, *args)
    assert_exported(second, a, b)
    after = objects(s3, bucket)
    main_keys = keys_for("lake/focus", ["2026-04-19", "2026-04-20"])
    assert (
        sorted(after)
        == sorted(before)
        == sorted(main_keys + keys_for("ternary/lake/focus", ["2026-04-19", "2026-04-20"]))
    )
    for key in after:
        if key.endswith(".parquet"):
            assert after[key] == before[key], key
            assert after[key] == after[f"ternary/{key}" if not key.startswith("ternary/") else key], key
        else:  # the metadata differs only in when it was made
            first_doc, second_doc = json.loads(before[key]), json.loads(after[key])
            first_doc["Schema"][0].pop("CreationDate"), second_doc["Schema"][0].pop("CreationDate")
            assert first_doc == second_doc, key


@pytest.mark.usefixtures("installed")
def test_server_killed_mid_run_leaves_no_partial_object(
    kube: KubeClient, namespace: str, s3: S3Server, bucket: str
) -> None:
    # 100 closed days and the open one -> 101 data and 101 metadata objects: the server dies after the first.
    history = [
        _day(str(date(2026, 4, 20) - timedelta(days=n)), "m", namespace, 1_000_000, "1", "1", "1")
        for n in range(1, 101)
    ]
    create_with_status(
        kube, "usagereports", namespace, "long", {"costProfileRef": "none", "schedule": "daily"},
        {**_day("2026-04-20", "m", namespace, 1_000_000, "1", "1", "1"), "history": history},
    )  # fmt: skip
    proc = subprocess.Popen(
        ["kubectl", "infercost", "export", "focus", "-n", namespace, "--to", f"s3://{bucket}/focus", "--format",
         "parquet", "--s3-endpoint", s3.endpoint, "--billing-account-id", ACCOUNT],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**os.environ, **s3.env()},
    )  # fmt: skip
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("uploaded "):
            s3.kill()
            break
    lines.extend(proc.stderr)
    status = proc.wait(timeout=120)
    s3.start()  # the same root: what the store kept
    stderr = "".join(lines)
    assert status != 0, stderr
    error = one_error_line(subprocess.CompletedProcess([], status, "", stderr))
    uploaded = [line.split()[1] for line in lines if line.startswith("uploaded ")]
    stored = objects(s3, bucket)
    assert sorted(f"s3://{bucket}/{key}" for key in stored) == sorted(uploaded)
    assert 1 <= len(uploaded) < 202, stderr
    failed = error.split("uploading ", 1)[1].split(f" to {s3.endpoint} failed: ", 1)[0]
    assert failed.startswith(f"s3://{bucket}/focus/") and failed.removeprefix(f"s3://{bucket}/") not in stored
    assert f"{len(uploaded)} object(s) written before it" in error
    # every object the store holds is whole
    for key, body in stored.items():
        if key.endswith(".parquet"):
            check_parquet(Path(s3.root, bucket, key), "1.3")
        else:
            assert json.loads(body)["x_RowCount"] == 2


@pytest.mark.parametrize("case", ["credentials", "bucket", "endpoint"])
def test_store_errors_name_the_bucket_or_endpoint_and_write_nothing(
    world: tuple[str, str], s3: S3Server, bucket: str, case: str
) -> None:
    a, _ = world
    target, env, endpoint = f"s3://{bucket}/focus", {}, s3.endpoint
    if case == "credentials":
        env = {"AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    elif case == "bucket":
        target = "s3://no-such-bucket-here/focus"
    else:
        endpoint = "http://127.0.0.1:9"  # nothing listens there
    result = run_cli(
        "export", "focus", "-n", a, "--to", target, "--s3-endpoint", endpoint, "--billing-account-id", ACCOUNT,
        env={**s3.env(), **env},
    )  # fmt: skip
    error = one_error_line(result)
    expected = {
        "credentials": f"error: cannot use bucket {bucket} at {endpoint}: access denied",
        "bucket": f"error: cannot use bucket no-such-bucket-here at {endpoint}: the bucket does not exist",
        "endpoint": f"error: cannot use bucket {bucket} at {endpoint}: the endpoint cannot be reached",
    }[case]
    assert error.startswith(expected), error
    assert objects(s3, bucket) == {}
    assert "uploaded" not in result.stderr


def test_usage_errors(world: tuple[str, str], s3: S3Server) -> None:
    a, _ = world
    for args, message in [
        (["--include-namespaces", a, "--exclude-namespaces", a], "mutually exclusive"),
        (["--to", "s3://Bad_Bucket/x"], "not a valid bucket name"),
        (["--to", "s3://ok-bucket/x", "--out", "f.csv"], "exclusive with --out"),
        (["--ternary"], "--ternary needs --to s3://"),
        (["--to", "2026-04-32"], "neither a date"),
    ]:
        result = run_cli("export", "focus", *args, env=s3.env())
        assert result.returncode == 2, (args, result.stderr)
        assert message in one_error_line(result), (args, result.stderr)


@pytest.mark.usefixtures("installed")
def test_server_killed_during_a_multipart_upload_leaves_no_object(
    kube: KubeClient, namespace: str, s3: S3Server, bucket: str
) -> None:
    # 3 reports x 1,800 models on one day, as JSON (about 2.3 kB a record): one object of about 12 MB,
    # over the 8 MiB multipart threshold. The server is killed as soon as its first part lands.
    for r in range(3):
        models = [
            {"model": f"model-{r}-{i:04d}", "namespace": namespace, "inputTokens": 1_000_000, "outputTokens": 0,
             "estimatedCostUSD": D("1")}
            for i in range(1800)
        ]  # fmt: skip
        status = {
            "period": "2026-04-20", "periodStart": "2026-04-20T00:00:00Z", "periodEnd": "2026-04-20T10:00:00Z",
            "inputTokens": 1800 * 1_000_000, "outputTokens": 0, "estimatedCostUSD": D(1800), "byModel": models,
        }  # fmt: skip
        create_with_status(kube, "usagereports", namespace, f"r{r}", {"costProfileRef": "none", "schedule": "daily"},
                           status)  # fmt: skip
    parts = Path(s3.root, bucket, ".sgwtmp", "multipart")
    proc = subprocess.Popen(
        ["kubectl", "infercost", "export", "focus", "-n", namespace, "--to", f"s3://{bucket}/focus", "--format",
         "json", "--s3-endpoint", s3.endpoint, "--billing-account-id", ACCOUNT],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**os.environ, **s3.env()},
    )  # fmt: skip
    killed = False
    while proc.poll() is None:
        if parts.is_dir() and any(p.is_file() for p in parts.rglob("*")):
            s3.kill()
            killed = True
            break
        time.sleep(0.002)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    code = proc.wait(timeout=120)
    s3.start()
    assert killed, f"the upload ended before a part was seen: {stderr}"
    error = one_error_line(subprocess.CompletedProcess([], code, "", stderr))
    key = f"focus/{VERSION}/year=2026/month=04/day=20/infercost-{ACCOUNT}-2026-04-20.json"
    assert error == (
        f"error: uploading s3://{bucket}/{key} to {s3.endpoint} failed: the endpoint cannot be reached "
        "(connection failed); nothing written"
    )
    assert objects(s3, bucket) == {}  # the parts are not an object
    assert not Path(s3.root, bucket, key).exists()


@pytest.mark.usefixtures("installed")
def test_tag_allowlist_copies_pod_and_namespace_labels(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, s3: S3Server, bucket: str
) -> None:
    """The reconciled world of world.labelled_world: team=ml on both llama pods, app differs, cost-center=42
    on the namespace. The object holds the same Tags as the CSV export (test_export.py)."""
    labelled_world(kube, sim, new_ip, namespace)
    result = export_s3(
        s3, "-n", namespace, "--to", f"s3://{bucket}/focus", "--format", "parquet",
        "--tag-allowlist", "team,app,cost-center",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(objects(s3, bucket)) == keys_for("focus", ["2026-04-20"])
    [row] = read_back(s3, bucket, "focus").to_pylist()
    assert (row["SkuId"], row["SubAccountId"]) == ("llama", namespace)
    assert json.loads(row["Tags"]) == {
        "infercost/costProfile": "h100",
        "infercost/gpuModel": "NVIDIA H100 80GB HBM3",
        "infercost/report": f"{namespace}/daily",
        "infercost/schedule": "daily",
        "team": "ml",  # both pods
        "cost-center": "42",  # the namespace; app is left out: vllm-a and vllm-b differ
    }

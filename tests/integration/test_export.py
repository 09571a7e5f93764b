"""``kubectl infercost export focus`` against a real API server: values, pipelines, files, exit codes.

Objects with a status are put into the API server (POST, then merge-patch ``/status``); every expected
number below is worked out by hand from those statuses (docs/export-focus.md#arithmetic-exact: price = cost ÷ quantity,
half-even at 6 dp; cost = price × quantity exactly, 12 dp).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.resources import NAMESPACES
from testenv.simpod import delete_pod, ensure_namespace
from tests.focuscheck import FOCUS_13, check_csv, check_json, check_parquet

from .conftest import NewIp, Sim, run_cli
from .identities import grant_cluster_role, user_kubeconfig
from .world import create_with_status, labelled_world

D = Decimal
FILTER = "NR==1 || $1+0 > 1.0"
BY_NAMESPACE = "NR>1 {by_ns[$29]+=$1} END {for (n in by_ns) print n, by_ns[n]}"
EVIL = 'evil,"m"\n=1'


@pytest.fixture
def world(installed: None, kube: KubeClient, namespace: str) -> str:  # noqa: ARG001, V107 -- for its side effect
    """CostProfile h100 ($20/h, 8 GPUs); UsageReports daily (history 04-19, open 04-20) and monthly (open 2026-04).

    Model namespaces are ``<ns>-a`` and ``<ns>-b`` so totals per SubAccountId are this test's own.
    """
    a, b = f"{namespace}-a", f"{namespace}-b"
    create_with_status(
        kube,
        "costprofiles",
        namespace,
        "h100",
        {
            "hardware": {
                "gpuModel": "NVIDIA H100 SXM5",
                "gpuCount": 8,
                "purchasePriceUSD": 280000,
                "amortizationYears": 3,
            },
            "electricity": {"ratePerKWh": D("0.12"), "pueFactor": D("1.4")},
        },
        {"hourlyCostUSD": D("20")},
    )
    current = {
        "period": "2026-04-20", "periodStart": "2026-04-20T00:00:00Z", "periodEnd": "2026-04-20T10:15:00Z",
        "inputTokens": 1_500_000, "outputTokens": 300_000, "estimatedCostUSD": D("12.805342"),
        "idleCostUSD": D("5"), "idleGpuHours": D("2.5"), "gpuHours": D("82"),
        "byModel": [
            {"model": "llama-3.1-70b", "namespace": a, "inputTokens": 500_000, "outputTokens": 300_000,
             "estimatedCostUSD": D("7.055342")},
            {"model": EVIL, "namespace": b, "inputTokens": 1_000_000, "outputTokens": 0, "estimatedCostUSD": D("0.75")},
        ],
    }  # fmt: skip
    history = [
        {
            "period": "2026-04-19", "periodStart": "2026-04-19T00:00:00Z", "periodEnd": "2026-04-20T00:00:00Z",
            "inputTokens": 3_000_000, "outputTokens": 1_000_000, "estimatedCostUSD": D("22.34"),
            "idleCostUSD": D("10"), "idleGpuHours": D("3"), "gpuHours": D("192"),
            "byModel": [{"model": "llama-3.1-70b", "namespace": a, "inputTokens": 3_000_000, "outputTokens": 1_000_000,
                         "estimatedCostUSD": D("12.34")}],
        }
    ]  # fmt: skip
    create_with_status(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "schedule": "daily"},
                       {**current, "history": history})  # fmt: skip
    create_with_status(
        kube,
        "usagereports",
        namespace,
        "monthly",
        {"costProfileRef": "h100", "schedule": "monthly"},
        {
            "period": "2026-04", "periodStart": "2026-04-01T00:00:00Z", "periodEnd": "2026-04-20T10:15:00Z",
            "inputTokens": 1_500_000, "outputTokens": 500_000, "estimatedCostUSD": D("3"), "gpuHours": D("3714"),
        },
    )  # fmt: skip
    return namespace


def export(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("export", "focus", *args)


def records(text: str, version: str = "1.3") -> list[dict[str, str | None]]:
    return check_csv(text, version)  # the strict checker runs on every export


def mine(rows: list[dict[str, str | None]], ns: str) -> list[dict[str, str | None]]:
    return [r for r in rows if (r["x_InferUsageReport"] or "").startswith(f"{ns}/")]


# (ChargePeriodStart, ChargePeriodEnd, SubAccountId, SkuId, PricingQuantity, ListUnitPrice, BilledCost)
def expected(ns: str) -> list[tuple[str, ...]]:
    a, b = f"{ns}-a", f"{ns}-b"
    return [
        # 2026-04-19: 4,000,000 tokens for $12.34 -> 3.085000; idle $10 over 3 GPU-h -> 3.333333 (BilledCost
        # is the status's $10; only ListCost is 3.333333 x 3 = 9.999999)
        ("2026-04-19T00:00:00Z", "2026-04-20T00:00:00Z", a, "llama-3.1-70b", "4.000000", "3.085000", "12.340000000000"),
        ("2026-04-19T00:00:00Z", "2026-04-20T00:00:00Z", ns, "idle-gpu-hours/nvidia-h100-sxm5", "3.000000",
         "3.333333", "10.000000000000"),
        # 2026-04-20 (open, ends at the last accounting): 7.055342 / 0.8 = 8.8191775 -> 8.819178 (list 7.0553424)
        ("2026-04-20T00:00:00Z", "2026-04-20T10:15:00Z", a, "llama-3.1-70b", "0.800000", "8.819178", "7.055342000000"),
        ("2026-04-20T00:00:00Z", "2026-04-20T10:15:00Z", b, "evil-m-1", "1.000000", "0.750000", "0.750000000000"),
        ("2026-04-20T00:00:00Z", "2026-04-20T10:15:00Z", ns, "idle-gpu-hours/nvidia-h100-sxm5", "2.500000",
         "2.000000", "5.000000000000"),
        # monthly, no breakdown: 2,000,000 tokens for $3 -> one unknown-model row in the report's namespace
        ("2026-04-01T00:00:00Z", "2026-04-20T10:15:00Z", ns, "unknown-model", "2.000000", "1.500000", "3.000000000000"),
    ]  # fmt: skip


def shape(rows: list[dict[str, str | None]]) -> list[tuple[str | None, ...]]:
    keys = ("ChargePeriodStart", "ChargePeriodEnd", "SubAccountId", "SkuId", "PricingQuantity", "ListUnitPrice",
            "BilledCost")  # fmt: skip
    return [tuple(r[k] for k in keys) for r in rows]


def test_default_export_covers_all_namespaces(world: str) -> None:
    result = export()  # no -n: every namespace, although the context's namespace is "default"
    assert result.returncode == 0, result.stderr
    rows = mine(records(result.stdout), world)
    assert shape(rows) == expected(world)
    llama = rows[2]
    assert llama["BillingAccountId"] == "envtest"  # the kube-context's cluster
    assert llama["ResourceId"] == f"envtest/{world}-a/models/llama-3.1-70b"
    assert llama["SkuPriceId"] == f"llama-3.1-70b@{world}/h100"
    assert llama["x_InferUsageReport"] == f"{world}/daily"
    assert llama["x_InferTokensInput"] == "500000" and llama["x_InferTokensOutput"] == "300000"
    assert llama["x_InferGpuModel"] == "NVIDIA H100 SXM5" and llama["x_InferPUEFactor"] == "1.400000"
    assert llama["x_InferCloudEquivalentProvider"] is not None  # the cheapest bundled catalog entry
    evil = rows[3]
    assert evil["ResourceName"] == evil["x_InferModelName"] == 'evil,"m" =1'
    assert evil["ChargeDescription"] == f'LLM inference tokens, evil,"m" =1 in namespace {world}-b, 2026-04-20'


def test_namespace_period_and_window_filters(world: str) -> None:
    every = records(export("-n", world).stdout)
    assert shape(every) == expected(world)
    april = records(export("-n", world, "--period", "2026-04").stdout)  # the month and its days
    assert shape(april) == expected(world)
    day = records(export("-n", world, "--period", "2026-04-19").stdout)
    assert shape(day) == expected(world)[:2]
    closed = records(export("-n", world, "--closed-only").stdout)
    assert shape(closed) == expected(world)[:2]
    window = records(export("-n", world, "--from", "2026-04-20", "--to", "2026-04-21").stdout)
    assert shape(window) == expected(world)[2:]


def test_seed_pipelines_as_written(world: str) -> None:
    def sh(command: str) -> str:
        result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    out = sh(f"kubectl infercost export focus -n {world} | awk -F, '{FILTER}'")
    lines = out.strip().split("\n")
    assert lines[0].startswith("BilledCost,EffectiveCost,ListCost,ContractedCost,")
    assert [line.split(",")[0] for line in lines[1:]] == [
        "12.340000000000", "10.000000000000", "7.055342000000", "5.000000000000", "3.000000000000",
    ]  # fmt: skip
    # (the $0.75 row is filtered out)
    out = sh(f"kubectl infercost export focus --period 2026-04-20 | awk -F, '{BY_NAMESPACE}'")
    totals = dict(line.split(" ", 1) for line in out.strip().split("\n"))
    # open day 2026-04-20 of the daily report (the monthly period is labelled 2026-04, so it is not selected):
    # <ns>-a 7.055342 (awk prints %.6g: 7.05534), <ns>-b 0.75, idle 5 in the profile's namespace
    assert {k: v for k, v in totals.items() if k.startswith(world)} == {
        f"{world}-a": "7.05534",
        f"{world}-b": "0.75",
        world: "5",
    }


@pytest.mark.usefixtures("installed")
def test_zero_rows_header_only(kube: KubeClient) -> None:
    empty = f"t-{uuid.uuid4().hex[:8]}"
    ensure_namespace(kube, empty)
    result = export("-n", empty)
    assert result.returncode == 0
    assert result.stdout == records_header()
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("note: no FOCUS rows matched")


def records_header() -> str:
    return ",".join(FOCUS_13) + "\n"


def test_filter_matching_nothing_is_not_an_error(world: str) -> None:
    result = export("-n", world, "--period", "2030-01")
    assert result.returncode == 0
    assert result.stdout == records_header()
    assert "note: no FOCUS rows matched" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--focus-version", "2.0"],
        ["--period", "2026-13"],
        ["--period", "April"],
        ["--billing-account-id", "acme,prod"],
        ["--region", "us east"],
        ["--format", "parquet"],
        ["--out", "a.csv", "--output-dir", "dir"],
        ["--from", "2026-04-31"],
        ["--compare-to", "openai"],
        ["--compare-to", "nobody/nothing"],
    ],
)
def test_usage_errors_exit_2(world: str, args: list[str]) -> None:
    result = export("-n", world, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "rror" in result.stderr


def test_flags_region_account_provider_compare_and_tags(world: str, kube: KubeClient) -> None:
    kube.merge_patch(NAMESPACES.item(world), {"metadata": {"labels": {"team": "ml-platform"}}})
    result = export(
        "-n", world, "--region", "us-east-1-prod", "--region-name", "US East (prod)", "--billing-account-id",
        "acme:prod", "--billing-account-name", "ACME production", "--provider-name", "ACME IT",
        "--compare-to", "openai/gpt-4o", "--tag-label", "team",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = records(result.stdout)
    llama = rows[2]
    assert llama["RegionId"] == "us-east-1-prod" and llama["RegionName"] == "US East (prod)"
    assert llama["BillingAccountId"] == "acme:prod" and llama["BillingAccountName"] == "ACME production"
    assert llama["ResourceId"] == f"acme:prod/{world}-a/models/llama-3.1-70b"
    assert {llama[c] for c in ("ProviderName", "PublisherName", "InvoiceIssuerName", "HostProviderName")} == {"ACME IT"}
    # gpt-4o at $2.50 in / $10.00 out per 1M: 0.5 x 2.5 + 0.3 x 10 = 4.25; savings 4.25 - 7.055342
    assert (llama["x_InferCloudEquivalentProvider"], llama["x_InferCloudEquivalentModel"]) == ("openai", "gpt-4o")
    assert llama["x_InferCloudEquivalentCostUSD"] == "4.250000000000"
    assert llama["x_InferSavingsUSD"] == "-2.805342000000"
    assert llama["x_InferSavingsPercent"] == "-66.01"  # -2.805342 / 4.25 = -0.6600804...
    idle = rows[4]
    assert json.loads(idle["Tags"] or "")["team"] == "ml-platform"  # idle lands in the profile's namespace
    assert "team" not in json.loads(llama["Tags"] or "")  # <ns>-a is not a namespace with labels


def test_profiles_and_legacy_layout(world: str) -> None:
    for version, count in (("1.0", 54), ("1.1", 57), ("1.2", 58), ("1.4", 57)):
        result = export("-n", world, "--focus-version", version)
        assert result.returncode == 0, result.stderr
        rows = records(result.stdout, version)
        assert len(rows[0]) == count and shape(rows) == expected(world)
    legacy = export("-n", world, "--columns", "infercost-v1")
    assert legacy.returncode == 0, legacy.stderr
    table = list(csv.reader(io.StringIO(legacy.stdout, newline="")))
    assert len(table[0]) == 44 and table[0][8] == "Currency" and table[0][31] == "x-InferCostProfile"
    # one row per byModel entry of each period, an idle row per period with idle cost, a rollup for monthly;
    # costs at the status's 6 dp, so each report-period adds up: 12.34 + 10 = 22.34, 7.055342 + 0.75 + 5 = 12.805342
    assert [r[0] for r in table[1:]] == ["12.340000", "10.000000", "7.055342", "0.750000", "5.000000", "3.000000"]


def test_out_file_is_written_atomically(world: str, tmp_path: Path) -> None:
    target = tmp_path / "april.csv"
    target.write_text("previous export\n")
    result = export("-n", world, "--out", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text() == export("-n", world).stdout
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "_metadata", "_metadata/april.csv.metadata.json", "april.csv",
    ]  # fmt: skip
    meta = json.loads((tmp_path / "_metadata" / "april.csv.metadata.json").read_text())
    assert meta["x_RowCount"] == 6 and meta["x_Format"] == "csv"
    failed = export("-n", world, "--out", str(tmp_path / "no-such-dir" / "x.csv"))
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: cannot write")


def test_json_and_parquet(world: str, tmp_path: Path) -> None:
    csv_text = export("-n", world).stdout
    result = export("-n", world, "--format", "json")
    assert result.returncode == 0, result.stderr
    check_json(result.stdout, "1.3", csv_text=csv_text)
    path = tmp_path / "x.parquet"
    result = export("-n", world, "--format", "parquet", "--out", str(path))
    assert result.returncode == 0, result.stderr
    assert shape(check_parquet(path, "1.3")) == expected(world)


def test_output_dir_partitions(world: str, tmp_path: Path) -> None:
    result = export("-n", world, "--output-dir", str(tmp_path), "--format", "parquet")
    assert result.returncode == 0, result.stderr
    part = tmp_path / "version=focus-1.3" / "year=2026" / "month=4" / "part-00000.parquet"
    meta_file = tmp_path / "_metadata" / part.relative_to(tmp_path).with_name("part-00000.parquet.metadata.json")
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == [meta_file, part]
    assert shape(check_parquet(part, "1.3")) == expected(world)
    meta = json.loads(meta_file.read_text())
    assert meta["Schema"][0]["FocusVersion"] == "1.3" and meta["x_RowCount"] == 6


def test_read_only_identity(world: str, kube: KubeClient, tmp_path: Path) -> None:
    grant_cluster_role(
        kube,
        "infercost-export-viewer",
        "export-viewer",
        [
            {
                "apiGroups": ["finops.infercost.ai"],
                "resources": ["usagereports", "costprofiles"],
                "verbs": ["get", "list"],
            },
            {"apiGroups": [""], "resources": ["configmaps", "namespaces"], "verbs": ["get", "list"]},
        ],
    )
    config = user_kubeconfig(tmp_path / "viewer.kubeconfig", "export-viewer")
    result = run_cli("--kubeconfig", str(config), "export", "focus", "-n", world, "--tag-label", "team")
    assert result.returncode == 0, result.stderr
    assert shape(records(result.stdout)) == expected(world)


def test_bad_usage_reports_are_skipped_loudly(world: str, kube: KubeClient, tmp_path: Path) -> None:
    """Two reports that cannot be exported: each gets one warning naming it and the field; the rest is written."""
    base = {"periodStart": "2026-04-20T00:00:00Z", "periodEnd": "2026-04-20T10:15:00Z", "inputTokens": 1_000_000}
    create_with_status(
        kube, "usagereports", world, "comma", {"costProfileRef": "h100", "schedule": "daily"},
        {**base, "period": "2026-04-20", "estimatedCostUSD": D("1"),
         "byModel": [{"model": "m", "namespace": "a,b", "inputTokens": 1_000_000, "estimatedCostUSD": D("1")}]},
    )  # fmt: skip
    create_with_status(
        kube, "usagereports", world, "negative", {"costProfileRef": "h100", "schedule": "daily"},
        {**base, "period": "2026-04-20", "estimatedCostUSD": D("1"),
         "byModel": [{"model": "m", "namespace": world, "inputTokens": 1_000_000, "estimatedCostUSD": D("-1")}]},
    )  # fmt: skip
    result = export("-n", world)
    assert result.returncode == 6, result.stderr  # invalid data: a pipeline can tell
    assert shape(records(result.stdout)) == expected(world)  # every good report, whole
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: UsageReport {world}/comma byModel namespace 'a,b': value 'a,b' would break the CSV "
        "field positions of columns 1-29 (it holds a comma, quote or line break); skipped (none of its rows are "
        "exported)",
        f"warning: UsageReport {world}/negative period 2026-04-20: byModel 'm' estimatedCostUSD is negative (-1); "
        "skipped (none of its rows are exported)",
    ]
    assert result.stderr.splitlines()[-1] == (
        "error: 2 UsageReport(s) could not be exported (warnings above); the others were written"
    )
    target = tmp_path / "april.csv"
    result = export("-n", world, "--out", str(target))
    assert result.returncode == 6
    assert shape(records(target.read_text())) == expected(world)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_metadata", "april.csv"]  # no temporary file left


def labelled_tags(namespace: str, **labels: str) -> str:
    """The llama row's Tags: ours, then the labels, as the export writes them (compact, keys sorted)."""
    ours = {"infercost/costProfile": "h100", "infercost/gpuModel": "NVIDIA H100 80GB HBM3",
            "infercost/report": f"{namespace}/daily", "infercost/schedule": "daily"}  # fmt: skip
    return json.dumps({**ours, **labels}, sort_keys=True, separators=(",", ":"))


@pytest.mark.usefixtures("installed")
def test_tags_from_pod_and_namespace_labels(kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp) -> None:
    """A reconciled world: two llama pods agree on team=ml and not on app; cost-center=42 is the namespace's."""
    labelled_world(kube, sim, new_ip, namespace)
    result = export("-n", namespace, "--tag-allowlist", "team,app,cost-center")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # One row: the hour 10:00-11:00 (the worked example's TDP hour, $9.059178), all on llama: 400,000 + 200,000
    # input and 100,000 + 100,000 output tokens = 800,000. Tags: team (both pods say ml), no app (vllm-a and
    # vllm-b differ), cost-center from the namespace (no pod has it)
    [row] = records(result.stdout)
    assert (row["SkuId"], row["SubAccountId"], row["BilledCost"]) == ("llama", namespace, "9.059178000000")
    assert row["Tags"] == labelled_tags(namespace, team="ml", **{"cost-center": "42"})
    # vllm-b is gone (the checkpoint still lists it until the next pass): vllm-a alone decides app
    delete_pod(kube, "vllm-b", namespace)
    result = export("-n", namespace, "--tag-allowlist", "team,app,cost-center", "--format", "json")
    assert result.returncode == 0, result.stderr
    check_json(result.stdout, "1.3")
    [record] = json.loads(result.stdout)["records"]
    assert json.dumps(record["Tags"], sort_keys=True, separators=(",", ":")) == labelled_tags(
        namespace, team="ml", app="vllm-a", **{"cost-center": "42"}
    )
    # Without the allowlist no label is read or copied
    result = export("-n", namespace)
    assert result.returncode == 0, result.stderr
    [row] = records(result.stdout)
    assert row["Tags"] == labelled_tags(namespace)

"""``kubectl infercost report`` against a real API server: exact round-trips, tables, read-only identity."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.errors import ForbiddenError
from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from kubectl_infercost.kube.resources import CONFIGMAPS, USAGE_REPORTS

from .conftest import run_cli
from .identities import grant_cluster_role, user_kubeconfig
from .world import create_with_status

D = Decimal

PROFILE_STATUS: dict[str, Any] = {
    # 280,000 / (3 × 8760) = 10.654490 amortization + 280,000 × 0.10 / 8760 = 3.196347 maintenance
    "hourlyCostUSD": D("14.793105"),
    "amortizationRatePerHour": D("13.850837"),
    "maintenanceRatePerHour": D("3.196347"),
    # 5.60874 kW × PUE 1.4 × $0.12
    "electricityCostPerHour": D("0.942268"),
    "currentPowerDrawWatts": D("5608.74"),
    "powerSource": "DCGMEnergy",
    "nodes": ["h100-node-01"],
    "lastUpdated": "2026-04-20T10:15:00Z",
    "conditions": [
        {"type": "Ready", "status": "True", "reason": "CostComputed", "lastTransitionTime": "2026-04-18T09:00:00Z"},
        {
            "type": "DCGMReachable",
            "status": "True",
            "reason": "DCGMHealthy",
            "message": "8 GPUs with energy counters",
            "lastTransitionTime": "2026-04-18T09:00:00Z",
        },
    ],
}

BY_MODEL = [
    {
        "model": "llama-3.1-70b",
        "namespace": "engineering",
        "inputTokens": 1_000_000,
        "outputTokens": 300_000,
        "estimatedCostUSD": D("120.5"),
        "costPerMillionTokens": D("92.692308"),
    },
    {
        "model": "llama-3.1-8b",
        "namespace": "research",
        "inputTokens": 234_567,
        "outputTokens": 45_678,
        "estimatedCostUSD": D("22.30487"),
        "costPerMillionTokens": D("79.590608"),
    },
]
BY_NAMESPACE = [
    {"namespace": "engineering", "estimatedCostUSD": D("120.5"), "tokenCount": 1_300_000},
    {"namespace": "research", "estimatedCostUSD": D("22.30487"), "tokenCount": 280_245},
]
CURRENT: dict[str, Any] = {
    "period": "2026-04-20",
    "periodStart": "2026-04-20T00:00:00Z",
    "periodEnd": "2026-04-20T10:15:00Z",
    "inputTokens": 1_234_567,
    "outputTokens": 345_678,
    # 120.5 + 22.30487 by model + 8.823456 idle
    "estimatedCostUSD": D("151.628326"),
    "costPerMillionTokens": D("95.952416"),
    "idleCostUSD": D("8.823456"),
    "idleGpuHours": D("4.77"),
    "energyKWh": D("57.49"),
    "gpuHours": D("82"),
    "activeGpuHours": D("77.23"),
    "gpuEfficiencyRatio": D("0.941829"),
    "estimated": False,
}
HISTORY = [
    {
        "period": "2026-04-19",
        "periodStart": "2026-04-19T00:00:00Z",
        "periodEnd": "2026-04-20T00:00:00Z",
        "inputTokens": 5_000_000,
        "outputTokens": 1_000_000,
        "estimatedCostUSD": D("355.03452"),
        "costPerMillionTokens": D("59.17242"),
        "idleCostUSD": D("20.1"),
        "idleGpuHours": D("11.5"),
        "energyKWh": D("134.2"),
        "gpuHours": D("192"),
        "activeGpuHours": D("180.5"),
        "gpuEfficiencyRatio": D("0.940104"),
        "estimated": True,
    },
    {
        "period": "2026-04-18",
        "periodStart": "2026-04-18T00:00:00Z",
        "periodEnd": "2026-04-19T00:00:00Z",
        "inputTokens": 2_000_001,
        "outputTokens": 999_999,
        "estimatedCostUSD": D("148.2"),
        "costPerMillionTokens": D("49.4"),
        "idleCostUSD": D("0"),
        "estimated": False,
    },
]
REPORT_STATUS: dict[str, Any] = {
    **CURRENT,
    "byModel": BY_MODEL,
    "byNamespace": BY_NAMESPACE,
    "accountingSince": "2026-04-18T09:00:00Z",
    "history": HISTORY,
    "lastUpdated": "2026-04-20T10:15:00Z",
    "conditions": [
        {"type": "Ready", "status": "True", "reason": "Accounted", "lastTransitionTime": "2026-04-20T10:15:00Z"}
    ],
}
BUDGET_STATUS: dict[str, Any] = {
    "currentSpendUSD": D("412.345678"),
    "utilizationPercent": D("82.469136"),
    "periodStart": "2026-04-01T00:00:00Z",
    "periodEnd": "2026-04-20T10:15:00Z",
    "lastUpdated": "2026-04-20T10:15:00Z",
    "conditions": [
        {
            "type": "BudgetOK",
            "status": "False",
            "reason": "OverThreshold",
            "lastTransitionTime": "2026-04-20T10:15:00Z",
        },
        {
            "type": "BudgetWarning",
            "status": "True",
            "reason": "ThresholdCrossed",
            "message": "82.5% of $500.00 spent (warning at 80%)",
            "lastTransitionTime": "2026-04-20T10:15:00Z",
        },
        {
            "type": "BudgetExceeded",
            "status": "False",
            "reason": "WithinLimit",
            "lastTransitionTime": "2026-04-20T10:15:00Z",
        },
    ],
}


def profile_spec(price: int = 280_000, gpus: int = 8) -> dict[str, Any]:
    return {
        "hardware": {
            "gpuModel": "NVIDIA H100 SXM5",
            "gpuCount": gpus,
            "purchasePriceUSD": price,
            "amortizationYears": 3,
            "maintenancePercentPerYear": D("0.10"),
            "tdpWatts": 700,
        },
        "electricity": {"ratePerKWh": D("0.12"), "pueFactor": D("1.4")},
        "nodeSelector": {"kubernetes.io/hostname": "h100-node-01"},
    }


@pytest.fixture
def world(installed: None, kube: KubeClient, namespace: str) -> str:  # noqa: ARG001, V107 -- for its side effect
    create_with_status(kube, "costprofiles", namespace, "h100-node-01", profile_spec(), PROFILE_STATUS)
    create_with_status(
        kube,
        "usagereports",
        namespace,
        "engineering-daily",
        {"costProfileRef": "h100-node-01", "schedule": "daily"},
        REPORT_STATUS,
    )
    create_with_status(
        kube,
        "tokenbudgets",
        namespace,
        "engineering-monthly",
        {
            "scope": {"namespace": "engineering"},
            "monthlyLimitUSD": 500,
            "alertThresholds": [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}],
        },
        BUDGET_STATUS,
    )
    return namespace


def cli_json(*args: str) -> Any:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


def assert_same(row: dict[str, Any], status: dict[str, Any], keys: list[str] | None = None) -> None:
    """Every number (and string) of ``status`` that the row carries is equal, value for value."""
    for key in keys or [k for k, v in status.items() if not isinstance(v, (list, dict))]:
        assert key in row, key
        assert row[key] == status[key], (key, row[key], status[key])
        if isinstance(status[key], int) and not isinstance(status[key], bool):
            assert type(row[key]) is int, key


# ------------------------------------------------------------------------------------------------ round-trip


def test_overview_json_round_trips_every_number(world: str) -> None:
    doc = cli_json("report", "-n", world, "-o", "json")
    assert doc["kind"] == "InferCostReport" and doc["schemaVersion"] == 1 and doc["namespace"] == world

    (profile,) = doc["costProfiles"]
    assert_same(profile, {k: v for k, v in PROFILE_STATUS.items() if k != "conditions"})
    assert profile["hourlyCostUSD"] == D("14.793105")
    assert profile["electricityCostPerHour"] == D("0.942268")
    assert (profile["gpuModel"], profile["gpuCount"]) == ("NVIDIA H100 SXM5", 8)
    assert (profile["dcgmState"], profile["dcgmMessage"]) == ("DCGMHealthy", "8 GPUs with energy counters")
    assert profile["ready"] == "True"

    (report,) = doc["usageReports"]
    assert_same(report, CURRENT)
    assert report["estimatedCostUSD"] == D("151.628326")
    assert report["idleCostUSD"] == D("8.823456")
    assert (report["inputTokens"], report["outputTokens"], report["totalTokens"]) == (1_234_567, 345_678, 1_580_245)
    assert report["accountingSince"] == "2026-04-18T09:00:00Z"
    assert (report["costProfile"], report["schedule"], report["historyPeriods"]) == ("h100-node-01", "daily", 2)

    top = doc["topModels"]
    assert [m["model"] for m in top] == ["llama-3.1-70b", "llama-3.1-8b"]
    for row, status in zip(top, BY_MODEL, strict=True):
        assert_same(row, status)
        assert (row["report"], row["reportNamespace"], row["period"]) == ("engineering-daily", world, "2026-04-20")

    (budget,) = doc["budgets"]
    assert_same(budget, BUDGET_STATUS, ["currentSpendUSD", "utilizationPercent", "periodStart", "periodEnd"])
    assert budget["monthlyLimitUSD"] == 500 and type(budget["monthlyLimitUSD"]) is int
    assert budget["remainingUSD"] == D("87.654322")  # 500 − 412.345678
    assert (budget["state"], budget["scopeNamespace"]) == ("Warning", "engineering")
    assert budget["thresholds"] == [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}]


def test_yaml_matches_json(world: str) -> None:
    import yaml

    result = run_cli("report", "-n", world, "-o", "yaml")
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    assert doc["usageReports"][0]["inputTokens"] == 1_234_567
    # Written from the Decimal's text: the YAML scalar is exactly the status value.
    assert "  estimatedCostUSD: 151.628326\n" in result.stdout
    assert "  idleCostUSD: 8.823456\n" in result.stdout
    assert "  currentSpendUSD: 412.345678\n" in result.stdout
    assert doc["budgets"][0]["state"] == "Warning"


def test_subcommands_round_trip(world: str) -> None:
    models = cli_json("report", "models", "-n", world, "-o", "json")
    assert models["kind"] == "ModelCostList"
    for row, status in zip(models["items"], BY_MODEL, strict=True):
        assert_same(row, status)

    namespaces = cli_json("report", "namespaces", "-n", world, "-o", "json")["items"]
    for row, status in zip(namespaces, BY_NAMESPACE, strict=True):
        assert_same(row, status)
    # 120.5 / 1.3M tokens = 92.692308 per 1M; 120.5 / 151.628326 = 79.470639 % of the report's cost
    assert namespaces[0]["costPerMillionTokens"] == D("92.692308")
    assert namespaces[0]["sharePercent"] == D("79.470639")

    history = cli_json("report", "history", "-n", world, "-o", "json")["items"]
    assert [h["period"] for h in history] == ["2026-04-19", "2026-04-18"]
    for row, status in zip(history, HISTORY, strict=True):
        assert_same(row, status)
    assert history[1]["totalTokens"] == 3_000_000

    (budget,) = cli_json("report", "budgets", "-n", world, "-o", "json")["items"]
    assert budget["currentSpendUSD"] == D("412.345678")


# ------------------------------------------------------------------------------------------------ tables


def test_overview_table_shows_hand_formatted_figures(world: str) -> None:
    result = run_cli("report", "-n", world)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in ("COST PROFILES", "USAGE REPORTS", "TOP MODELS", "BUDGETS"):
        assert title in out
    assert "$14.7931" in out  # $/h, 4 dp
    assert "$13.8508" in out and "$0.9423" in out  # amortization+maintenance, electricity
    assert "5,609" in out and "DCGMEnergy" in out and "DCGMHealthy" in out
    assert "1,234,567" in out and "345,678" in out  # tokens
    assert "$151.63" in out and "$8.82" in out  # cost and idle, 2 dp
    assert "$95.9524" in out  # $/1M tokens, 4 dp
    assert "2026-04-18T09:00Z" in out  # accounting since
    assert "$120.50" in out and "$22.30" in out
    assert "$500.00" in out and "$412.35" in out and "82.5%" in out and "Warning" in out
    assert "NAMESPACE    NAME" not in out  # one namespace: no object-namespace column, like kubectl
    assert result.stderr == ""

    wide = run_cli("report", "-n", world, "-o", "wide").stdout
    assert "$3.1963" in wide  # maintenance part
    assert "94.2%" in wide  # GPU efficiency
    assert "80% warning, 100% critical" in wide


def test_history_and_sort(world: str) -> None:
    out = run_cli("report", "history", "-n", world).stdout
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["REPORT", "PERIOD", "COST"]
    assert "2026-04-19" in lines[1] and "$355.03" in lines[1]
    assert "5,000,000" in lines[1] and "yes" in lines[1]
    assert "2026-04-18" in lines[2] and "2,000,001" in lines[2] and "$148.20" in lines[2]

    ascending = run_cli("report", "models", "-n", world, "--sort-by", "cost").stdout.splitlines()
    assert "llama-3.1-8b" in ascending[1] and "llama-3.1-70b" in ascending[2]
    descending = run_cli("report", "models", "-n", world, "--sort-by=-inputTokens").stdout.splitlines()
    assert "llama-3.1-70b" in descending[1]

    bad = run_cli("report", "models", "-n", world, "--sort-by", "colour")
    assert bad.returncode == 2
    assert "--sort-by 'colour': unknown field; allowed: reportNamespace, report, period, namespace, model" in bad.stderr


@pytest.mark.usefixtures("installed")
def test_empty_namespace_prints_kubectl_note(namespace: str) -> None:
    result = run_cli("report", "-n", namespace)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"No resources found in {namespace} namespace.\n"
    as_json = run_cli("report", "budgets", "-n", namespace, "-o", "json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["items"] == []


# ------------------------------------------------------------------------------------------------ compare

PRICES = """\
lastVerified: 2026-04-01
currency: USD
entries:
  - {provider: acme, model: m1, inputPerMillion: "2.50", outputPerMillion: "10.00", source: https://acme.test/pricing}
  - {provider: beta, model: m2, inputPerMillion: "0.10", outputPerMillion: "0.40", source: https://beta.test/pricing}
"""


@pytest.fixture
def small_world(installed: None, kube: KubeClient, namespace: str) -> str:  # noqa: ARG001, V107 -- for its side effect
    create_with_status(kube, "costprofiles", namespace, "a100", profile_spec(20_000, 1), {"hourlyCostUSD": D("2.10")})
    status = {"period": "2026-04-20", "inputTokens": 600_000, "outputTokens": 200_000, "estimatedCostUSD": D("1.40")}
    create_with_status(kube, "usagereports", namespace, "small", {"costProfileRef": "a100"}, status)
    return namespace


def test_compare_with_pricing_file(small_world: str, tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    args = ("report", "compare", "-n", small_world, "--pricing-file", str(prices), "--now", "2026-04-20T12:00:00Z")
    doc = cli_json(*args, "-o", "json")
    assert doc["catalog"] == {
        "source": str(prices),
        "currency": "USD",
        "lastVerified": "2026-04-01",
        "ageDays": 19,
        "entries": 2,
    }
    acme, beta = doc["items"]
    # acme: 0.6M × $2.50 + 0.2M × $10.00 = 1.50 + 2.00 = $3.50; savings 3.50 − 1.40 = 2.10 = 60 % of 3.50.
    # Break-even: $2.10/h × 24 = $50.40/day ÷ ($3.50 / 800,000 tokens) = 11,520,000 tokens/day.
    assert (acme["provider"], acme["model"], acme["tier"]) == ("acme", "m1", "standard")
    assert acme["cloudCostUSD"] == D("3.50") and acme["savingsUSD"] == D("2.10")
    assert acme["savingsPercent"] == D(60)
    assert acme["onpremCostUSD"] == D("1.40") and acme["onpremDailyCostUSD"] == D("50.40")
    assert acme["breakEvenTokensPerDay"] == 11_520_000
    # beta: 0.06 + 0.08 = $0.14; savings −1.26 = −900 %; 50.40 × 800,000 / 0.14 = 288,000,000 tokens/day.
    assert beta["cloudCostUSD"] == D("0.14") and beta["savingsUSD"] == D("-1.26")
    assert beta["savingsPercent"] == D(-900)
    assert beta["breakEvenTokensPerDay"] == 288_000_000

    table = run_cli(*args)
    assert table.returncode == 0, table.stderr
    first = table.stdout.splitlines()[0]
    assert first == f"Price catalog: {prices} (2 models, USD), last verified 2026-04-01, 19 days ago"
    for text in ("$3.50", "$2.10", "60.0%", "11,520,000", "$0.14", "-$1.26", "-900.0%", "288,000,000"):
        assert text in table.stdout
    assert table.stderr == ""


def test_compare_uses_configmap_catalog(small_world: str, kube: KubeClient) -> None:
    text = PRICES.replace("2026-04-01", "2026-03-01").split("  - {provider: beta")[0]
    kube.request(
        "POST",
        CONFIGMAPS.collection(small_world),
        body={"metadata": {"name": "infercost-pricing"}, "data": {"cloud-pricing.yaml": text}},
    )
    doc = cli_json("report", "compare", "-n", small_world, "--now", "2026-04-20", "-o", "json")
    assert doc["catalog"]["source"] == f"ConfigMap {small_world}/infercost-pricing key cloud-pricing.yaml"
    assert doc["catalog"]["ageDays"] == 50  # 2026-03-01 → 2026-04-20
    (row,) = doc["items"]
    assert row["cloudCostUSD"] == D("3.50")


# ------------------------------------------------------------------------------------------------ read-only


def test_read_only_identity(world: str, small_world: str, kube: KubeClient, tmp_path: Path) -> None:
    grant_cluster_role(
        kube,
        "infercost-report-viewer",
        "viewer",
        [
            {
                "apiGroups": ["finops.infercost.ai"],
                "resources": ["costprofiles", "usagereports", "tokenbudgets"],
                "verbs": ["get", "list"],
            }
        ],
    )
    config = user_kubeconfig(tmp_path / "viewer.kubeconfig", "viewer")
    with KubeClient(load_config(str(config))) as viewer:
        deadline = time.monotonic() + 15
        while True:  # RBAC reaches the authorizer's cache within moments
            try:
                viewer.list_items(USAGE_REPORTS.collection(world))
                break
            except ForbiddenError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # The identity really is read-only.
        with pytest.raises(ForbiddenError):
            viewer.merge_patch(USAGE_REPORTS.item("engineering-daily", world), {"metadata": {"labels": {"x": "y"}}})
        with pytest.raises(ForbiddenError):
            viewer.get(CONFIGMAPS.item("infercost-pricing", world))

    # (world and small_world share the test's namespace.)
    doc = cli_json("--kubeconfig", str(config), "report", "-n", world, "-o", "json")
    assert [r["name"] for r in doc["usageReports"]] == ["engineering-daily", "small"]
    assert_same(doc["usageReports"][0], CURRENT)
    assert [p["name"] for p in doc["costProfiles"]] == ["a100", "h100-node-01"]
    assert_same(doc["costProfiles"][1], {k: v for k, v in PROFILE_STATUS.items() if k != "conditions"})
    assert doc["budgets"][0]["currentSpendUSD"] == D("412.345678")
    for sub in ("models", "namespaces", "history", "budgets"):
        result = run_cli("report", sub, "--kubeconfig", str(config), "-n", world)
        assert result.returncode == 0, (sub, result.stderr)

    compare = run_cli("report", "compare", "--kubeconfig", str(config), "-n", small_world, "-o", "json")
    assert compare.returncode == 0, compare.stderr
    assert f"cannot read ConfigMap {small_world}/infercost-pricing (forbidden)" in compare.stderr
    doc = json.loads(compare.stdout, parse_float=Decimal)
    assert doc["catalog"]["source"] == "bundled cloud-pricing.yaml"
    gpt4o = next(r for r in doc["items"] if r["model"] == "gpt-4o" and r["report"] == "small")
    assert gpt4o["cloudCostUSD"] == D("3.50")  # bundled gpt-4o list price $2.50 / $10.00

    # All namespaces, still read-only.
    result = run_cli("--kubeconfig", str(config), "report", "-A")
    assert result.returncode == 0, result.stderr
    assert "NAMESPACE" in result.stdout.splitlines()[1]


def test_invalid_object_is_skipped_with_a_warning(world: str, kube: KubeClient) -> None:
    # The CRD schema has no minimum on status token counts; the client's validation does.
    create_with_status(kube, "usagereports", world, "broken", {"costProfileRef": "h100-node-01"}, {"inputTokens": -5})
    result = run_cli("report", "-n", world, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert f"warning: skipping UsageReport {world}/broken: status.inputTokens: " in result.stderr
    doc = json.loads(result.stdout, parse_float=Decimal)
    assert [r["name"] for r in doc["usageReports"]] == ["engineering-daily"]

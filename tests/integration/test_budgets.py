"""TokenBudgets through the real CLI and API server: status, Events on transitions, the PrometheusRule.

Spend comes from a monthly UsageReport whose status the test sets, so every figure is known:
the budget is $1,000 a month for team-x, warning at 80 %, critical at 100 %.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.kube.client import KubeClient

from .budgetworld import budget, budget_events, conditions, set_spend, source_report
from .conftest import PROMETHEUS_RULE_CRD, run_cli
from .world import GROUP, reconcile, reconcile_in_parallel, status_of

RULE = "infercost-budget-team-x"
CRD_PATH = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{PROMETHEUS_RULE_CRD}"


def _rule(kube: KubeClient, namespace: str) -> dict[str, Any]:
    rule: dict[str, Any] = kube.get(f"/apis/monitoring.coreos.com/v1/namespaces/{namespace}/prometheusrules/{RULE}")
    return rule


def _remove_rule_crd(kube: KubeClient) -> None:
    try:
        kube.delete(CRD_PATH)
    except Exception:
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            kube.get(CRD_PATH)
        except Exception:
            return
        time.sleep(0.2)
    pytest.fail("PrometheusRule CRD still present")


@pytest.mark.usefixtures("installed")
def test_without_the_prometheusrule_crd_a_condition_not_an_error(
    kube: KubeClient, namespace: str
) -> None:
    _remove_rule_crd(kube)
    source_report(kube, namespace, "500")
    budget(kube, namespace)
    out = reconcile(namespace, "2026-04-20T12:00:00Z")
    assert "tokenbudget " + namespace + "/team-x: $500.00 of $1,000.00 (50%), OK" in out["stdout"]
    st = status_of(kube, "tokenbudgets", namespace, "team-x")
    assert conditions(st)["PrometheusRuleReady"] == ("False", "CRDNotInstalled")
    assert conditions(st)["BudgetOK"] == ("True", "WithinBudget")
    assert (st["currentSpendUSD"], st["utilizationPercent"]) == (500, 50)  # 500 / 1000 × 100


@pytest.mark.usefixtures("installed", "prometheus_rule_crd")
def test_states_events_and_rule_across_passes(
    kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    source_report(kube, namespace, "500")
    budget(kube, namespace, prometheusRule={"labels": {"release": "kube-prometheus-stack"}})
    reconcile(namespace, "2026-04-20T12:00:00Z")
    st = status_of(kube, "tokenbudgets", namespace, "team-x")
    assert (st["currentSpendUSD"], st["utilizationPercent"]) == (500, 50)
    assert (st["periodStart"], st["periodEnd"]) == ("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert conditions(st)["SpendMeasured"] == ("True", "ReportsFound")
    assert budget_events(kube, namespace) == []  # a new budget that starts OK is not news

    rule = _rule(kube, namespace)
    tb = kube.get(f"{GROUP}/namespaces/{namespace}/tokenbudgets/team-x")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "finops.infercost.ai/v1alpha1",
            "kind": "TokenBudget",
            "name": "team-x",
            "uid": tb["metadata"]["uid"],
            "controller": True,
        }
    ]
    assert [(r["alert"], r["labels"]["severity"]) for r in rule["spec"]["groups"][0]["rules"]] == [
        ("InferCostBudgetWarning", "warning"),
        ("InferCostBudgetCritical", "critical"),
    ]
    _promtool_check(rule, tmp_path)

    # Nothing changed: no Event, the rule is not rewritten.
    rv = rule["metadata"]["resourceVersion"]
    reconcile(namespace, "2026-04-20T12:05:00Z")
    assert _rule(kube, namespace)["metadata"]["resourceVersion"] == rv
    assert budget_events(kube, namespace) == []

    set_spend(kube, namespace, "850")
    reconcile(namespace, "2026-04-20T12:10:00Z")
    reconcile(namespace, "2026-04-20T12:15:00Z")  # unchanged: nothing new
    st = status_of(kube, "tokenbudgets", namespace, "team-x")
    assert (st["currentSpendUSD"], st["utilizationPercent"]) == (850, 85)
    assert [c for c, (s, _) in conditions(st).items() if s == "True" and c.startswith("Budget")] == ["BudgetWarning"]
    assert budget_events(kube, namespace) == [("Warning", "BudgetWarning")]

    set_spend(kube, namespace, "1020")
    reconcile(namespace, "2026-04-20T12:20:00Z")
    set_spend(kube, namespace, "100")
    reconcile(namespace, "2026-04-20T12:25:00Z")
    assert budget_events(kube, namespace) == [
        ("Warning", "BudgetWarning"),
        ("Warning", "BudgetExceeded"),
        ("Normal", "BudgetRecovered"),
    ]
    assert _rule(kube, namespace)["metadata"]["resourceVersion"] == rv
    described = subprocess.run(
        ["kubectl", "describe", "tokenbudget", "team-x", "-n", namespace], capture_output=True, text=True, check=True
    ).stdout
    assert "BudgetRecovered" in described and "spend $100.00 is 10% of the $1,000.00 monthly limit" in described

    # A changed threshold rewrites the rule, once.
    kube.merge_patch(
        f"{GROUP}/namespaces/{namespace}/tokenbudgets/team-x",
        {"spec": {"alertThresholds": [{"percent": 50, "severity": "warning"}]}},
    )
    reconcile(namespace, "2026-04-20T12:30:00Z")
    rewritten = _rule(kube, namespace)
    assert rewritten["metadata"]["resourceVersion"] != rv
    assert [r["labels"]["threshold_percent"] for r in rewritten["spec"]["groups"][0]["rules"]] == ["50"]


def _promtool_check(rule: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: install Debian's prometheus package (.ci/run does)")
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(rule["spec"]))  # a PrometheusRule's spec is a rules file
    out = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "SUCCESS: 2 rules found" in out.stdout, out.stdout + out.stderr


@pytest.mark.usefixtures("installed", "prometheus_rule_crd")
def test_ok_straight_to_exceeded_is_one_event(
    kube: KubeClient, namespace: str
) -> None:
    source_report(kube, namespace, "100")
    budget(kube, namespace)
    reconcile(namespace, "2026-04-20T12:00:00Z")
    set_spend(kube, namespace, "1000")  # exactly the limit: 100 %
    reconcile(namespace, "2026-04-20T12:05:00Z")
    assert budget_events(kube, namespace) == [("Warning", "BudgetExceeded")]
    st = status_of(kube, "tokenbudgets", namespace, "team-x")
    assert conditions(st)["BudgetExceeded"] == ("True", "LimitReached")


@pytest.mark.usefixtures("installed")
def test_no_report_for_the_namespace(kube: KubeClient, namespace: str) -> None:
    # A report without spec.namespaces covers every namespace, "nobody" too: earlier tests' reports
    # (in their own namespaces) would give this budget a spend. They have done their work; remove them.
    for item in kube.list_items(f"{GROUP}/usagereports"):
        meta = item["metadata"]
        if meta["namespace"] != namespace and not (item.get("spec") or {}).get("namespaces"):
            kube.request("DELETE", f"{GROUP}/namespaces/{meta['namespace']}/usagereports/{meta['name']}")
    budget(kube, namespace)
    kube.merge_patch(
        f"{GROUP}/namespaces/{namespace}/tokenbudgets/team-x", {"spec": {"scope": {"namespace": "nobody"}}}
    )
    reconcile(namespace, "2026-04-20T12:00:00Z")
    st = status_of(kube, "tokenbudgets", namespace, "team-x")
    assert st["currentSpendUSD"] == 0
    assert conditions(st)["SpendMeasured"] == ("False", "NoUsageReport")
    message = next(c["message"] for c in st["conditions"] if c["type"] == "SpendMeasured")
    assert "no UsageReport covers namespace nobody" in message


@pytest.mark.usefixtures("installed", "prometheus_rule_crd")
def test_concurrent_reconcilers_emit_one_event_per_change(
    kube: KubeClient, namespace: str
) -> None:
    source_report(kube, namespace, "100")
    budget(kube, namespace)
    expected: list[tuple[str, str]] = []
    for step, (spend, event) in enumerate(
        [("100", None), ("850", "BudgetWarning"), ("850", None), ("1200", "BudgetExceeded"), ("10", "BudgetRecovered")]
    ):
        set_spend(kube, namespace, spend)
        reconcile_in_parallel(namespace, f"2026-04-20T13:{step:02d}:00Z", writers=2)
        if event:
            expected.append(("Normal" if event == "BudgetRecovered" else "Warning", event))
        assert budget_events(kube, namespace) == expected, f"after spend ${spend}"


@pytest.mark.usefixtures("installed")
def test_dry_run_writes_nothing(kube: KubeClient, namespace: str) -> None:
    source_report(kube, namespace, "900")
    budget(kube, namespace)
    out = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T12:00:00Z", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert f"tokenbudget {namespace}/team-x: $900.00 of $1,000.00 (90%), Warning" in out.stdout
    assert status_of(kube, "tokenbudgets", namespace, "team-x") == {}
    assert budget_events(kube, namespace) == []


@pytest.mark.usefixtures("installed")
def test_report_budgets_in_every_format(kube: KubeClient, namespace: str) -> None:
    source_report(kube, namespace, "850")
    budget(kube, namespace)
    reconcile(namespace, "2026-04-20T12:00:00Z")
    table = run_cli("report", "budgets", "-n", namespace)
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()
    assert header.split() == ["NAME", "SCOPE", "LIMIT", "SPEND", "UTILIZATION", "STATE", "NEXT", "LEFT"]
    # $850 of $1,000: 85 %, past 80 %; next is 100 % (critical) at $1,000, $150 left.
    assert row.split() == [
        "team-x",
        namespace,
        "$1,000.00",
        "$850.00",
        "85.0%",
        "Warning",
        "100%",
        "critical",
        "$150.00",
    ]
    wide = run_cli("report", "budgets", "-n", namespace, "-o", "wide")
    assert "NEXT AT" in wide.stdout and "$1,000.00  80% warning, 100% critical" in wide.stdout
    for fmt in ("json", "yaml"):
        out = run_cli("report", "budgets", "-n", namespace, "-o", fmt)
        assert out.returncode == 0, out.stderr
        doc = yaml.safe_load(out.stdout)  # JSON is YAML
        (item,) = doc["items"]
        assert (item["state"], item["currentSpendUSD"], item["utilizationPercent"]) == ("Warning", 850, 85)
        assert item["nextThreshold"] == {"percent": 100, "severity": "critical"}
        assert (item["nextThresholdUSD"], item["leftBeforeNextUSD"]) == (1000, 150)

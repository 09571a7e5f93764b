"""The generated budget rules through the real promtool (Debian's prometheus package, installed by .ci/run).

Input series are shaped by the shipped kube-state-metrics config (testenv.ksmseries), so the
rules are tested against what kube-state-metrics actually exports.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_infercost.core.alertrules import rule_groups
from kubectl_infercost.models import TokenBudget
from testenv import ksmseries

THRESHOLDS = [
    {"percent": 80, "severity": "warning"},
    {"percent": 100, "severity": "critical"},
    {"percent": 150, "severity": "critical"},
]


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool not found: install Debian's prometheus package (.ci/run does)")
    return path


def budget_obj(limit: Any) -> dict[str, Any]:
    return {
        "apiVersion": "finops.infercost.ai/v1alpha1",
        "kind": "TokenBudget",
        "metadata": {"name": "team-a", "namespace": "finance", "uid": "u-1"},
        "spec": {"scope": {"namespace": "team-a"}, "monthlyLimitUSD": limit, "alertThresholds": THRESHOLDS},
    }


def write_rules(tmp_path: Path, obj: dict[str, Any]) -> Path:
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": rule_groups(TokenBudget.model_validate(obj))}))
    return rules


def expected(obj: dict[str, Any], severity: str, percent: int, value: str) -> dict[str, Any]:
    labels = ksmseries.labels(obj, "spend_usd")
    return {
        "exp_labels": {**labels, "severity": severity, "threshold_percent": str(percent)},
        "exp_annotations": {
            "summary": f"Inference budget finance/team-a at {value}% of its monthly limit",
            "description": (
                f"Namespace team-a has spent {percent}% or more of TokenBudget finance/team-a this month "
                f"({severity} threshold)."
            ),
        },
    }


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *args], capture_output=True, text=True, check=False, timeout=60)


def promtool_test(
    tmp_path: Path, obj: dict[str, Any], series: list[tuple[str, str]], alerts: list[dict[str, Any]]
) -> None:
    """``promtool test rules`` of the budget's rules: one sample a minute, evaluated every minute."""
    write_rules(tmp_path, obj)
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": values} for name, values in series],
                "alert_rule_test": alerts,
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test, sort_keys=False))
    out = run(promtool(), "test", "rules", str(tmp_path / "test.yaml"))
    assert out.returncode == 0, out.stdout + out.stderr


def test_check_rules(tmp_path: Path) -> None:
    out = run(promtool(), "check", "rules", str(write_rules(tmp_path, budget_obj(1000))))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 3 rules found" in out.stdout


def test_each_alert_fires_at_its_threshold_and_not_below(tmp_path: Path) -> None:
    obj = budget_obj(1000)
    # One sample a minute; spend / 1000 × 100: 79.9999 %, 80 %, 99.9999 %, 100 %, 149.9999 %, 150 %.
    # (79.9999 prints "80.0" with %.1f, but it is below 80: not firing at 0m.)
    series = [
        (ksmseries.series(obj, "spend_usd"), "799.999 800 999.999 1000 1499.999 1500"),
        (ksmseries.series(obj, "limit_usd"), "1000x5"),
    ]
    warn = expected(obj, "warning", 80, "80.0")
    crit100, crit150 = expected(obj, "critical", 100, "100.0"), expected(obj, "critical", 100, "150.0")
    top = expected(obj, "critical", 150, "150.0")
    alerts: list[dict[str, Any]] = [
        {"eval_time": "0m", "alertname": "InferCostBudgetWarning", "exp_alerts": []},
        {"eval_time": "1m", "alertname": "InferCostBudgetWarning", "exp_alerts": [warn]},
        {"eval_time": "2m", "alertname": "InferCostBudgetCritical", "exp_alerts": []},
        {"eval_time": "3m", "alertname": "InferCostBudgetCritical", "exp_alerts": [crit100]},
        {"eval_time": "4m", "alertname": "InferCostBudgetCritical", "exp_alerts": [crit150]},
        {"eval_time": "5m", "alertname": "InferCostBudgetCritical", "exp_alerts": [crit150, top]},
    ]
    promtool_test(tmp_path, obj, series, alerts)


def test_zero_limit_fires_on_any_spend_only(tmp_path: Path) -> None:
    obj = budget_obj(0)
    series = [(ksmseries.series(obj, "spend_usd"), "0 0.01"), (ksmseries.series(obj, "limit_usd"), "0x1")]
    alerts: list[dict[str, Any]] = [
        # 0 / 0 is NaN: nothing spent against a $0 budget is not an alert.
        {"eval_time": "0m", "alertname": "InferCostBudgetWarning", "exp_alerts": []},
        {"eval_time": "0m", "alertname": "InferCostBudgetCritical", "exp_alerts": []},
        # 0.01 / 0 is +Inf: every threshold is reached.
        {
            "eval_time": "1m",
            "alertname": "InferCostBudgetWarning",
            "exp_alerts": [expected(obj, "warning", 80, "+Inf")],
        },
    ]
    promtool_test(tmp_path, obj, series, alerts)


def test_series_with_a_namespace_label_still_match(tmp_path: Path) -> None:
    """Scraped with honor_labels false, the scraper's own labels (namespace, job) do not hide the alert."""
    obj = budget_obj(1000)
    extra = 'namespace="monitoring",job="kube-state-metrics",'
    series = [
        (ksmseries.series(obj, "spend_usd").replace("{", "{" + extra, 1), "850"),
        (ksmseries.series(obj, "limit_usd").replace("{", "{" + extra, 1), "1000"),
    ]
    alert = expected(obj, "warning", 80, "85.0")
    alert["exp_labels"].update(namespace="monitoring", job="kube-state-metrics")
    promtool_test(
        tmp_path, obj, series, [{"eval_time": "0m", "alertname": "InferCostBudgetWarning", "exp_alerts": [alert]}]
    )

"""End to end: reconcile → TokenBudget status → real kube-state-metrics → Prometheus rules → Alertmanager.

The team's spend comes from real scrapes (the worked example's pool, token mode, every token
in one namespace). The $10 budget warns at 80 % and is critical at 100 %:
- after 30 min: amortization + maintenance 8.219178/h × 0.5 = 4.109589, electricity
  8 GPUs × 0.9e9 mJ = 2 kWh × 1.5 PUE × $0.10 = 0.30: $4.409589, 44.09589 % (no alert);
- after 60 min: twice that, $8.819178, 88.19178 %: the warning fires, the critical does not.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import ksmseries, metricsgen
from testenv.monitoring import Monitoring, MonitoringError

from .conftest import REPO, Sim
from .world import GROUP, create, new_world, reconcile, status_of

DASHBOARD = REPO / "deploy" / "grafana" / "infercost-dashboard.json"
T0, T30, T60 = "2026-04-20T10:00:00Z", "2026-04-20T10:30:00Z", "2026-04-20T11:00:00Z"


@pytest.fixture(scope="module")
def monitoring(kubeconfig: str, installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:  # noqa: ARG001, V107 -- for its side effect
    mon = Monitoring(tmp_path_factory.mktemp("monitoring"), kubeconfig)
    try:
        mon.start()
    except MonitoringError as exc:
        mon.stop()
        pytest.fail(str(exc))
    yield mon
    mon.stop()


def eventually(check: Callable[[], Any], what: str, timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def _budget_alerts(alerts: list[dict[str, Any]], budget_ns: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["labels"].get("tokenbudget_namespace") == budget_ns]


@pytest.mark.usefixtures("prometheus_rule_crd")
def test_warning_fires_past_80_percent_and_reaches_alertmanager(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: Callable[[], str],
    monitoring: Monitoring,
) -> None:
    w = new_world(kube, sim, namespace)
    w.add_exporter(new_ip())
    w.pool_profile()
    team = f"{namespace}-a"
    ip = new_ip()
    w.inference_pod("vllm-a", team, ip, "llama-3-8b")
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [team]})
    thresholds = [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}]
    create(
        kube,
        "tokenbudgets",
        namespace,
        "team-a",
        {"scope": {"namespace": team}, "monthlyLimitUSD": 10, "alertThresholds": thresholds},
    )
    sim.write(ip, 8000, metricsgen.vllm("llama-3-8b", 1_000_000, 400_000))
    w.set_energy(5_000_000_000)
    reconcile(namespace, T0)
    sim.write(ip, 8000, metricsgen.vllm("llama-3-8b", 1_300_000, 500_000))
    w.set_energy(5_900_000_000)
    reconcile(namespace, T30)
    assert str(status_of(kube, "tokenbudgets", namespace, "team-a")["currentSpendUSD"]) == "4.409589"

    rule = kube.get(f"/apis/monitoring.coreos.com/v1/namespaces/{namespace}/prometheusrules/infercost-budget-team-a")
    monitoring.load_rules(namespace, rule["spec"])
    eventually(lambda: any(g["name"] == "infercost-budget-team-a" for g in monitoring.rule_groups()), "rules loaded")

    # kube-state-metrics exports exactly the series the promtool tests use.
    tb = kube.get(f"{GROUP}/namespaces/{namespace}/tokenbudgets/team-a")
    expected = ksmseries.series(tb, "spend_usd")
    eventually(
        lambda: f"{expected} 4.409589" in monitoring.ksm_metrics(), f"{expected} 4.409589 from kube-state-metrics"
    )
    selector = f'{{tokenbudget_namespace="{namespace}"}}'
    eventually(
        lambda: [
            r for r in monitoring.query(f"infercost_tokenbudget_spend_usd{selector}") if r["value"][1] == "4.409589"
        ],
        "Prometheus to scrape the spend",
    )
    time.sleep(3)  # several 1 s evaluations at 44 %: nothing may fire
    assert _budget_alerts(monitoring.prometheus_alerts(), namespace) == []

    sim.write(ip, 8000, metricsgen.vllm("llama-3-8b", 1_600_000, 600_000))
    w.set_energy(6_800_000_000)
    reconcile(namespace, T60)
    st = status_of(kube, "tokenbudgets", namespace, "team-a")
    assert (str(st["currentSpendUSD"]), str(st["utilizationPercent"])) == ("8.819178", "88.19178")

    firing = eventually(
        lambda: [a for a in _budget_alerts(monitoring.prometheus_alerts(), namespace) if a["state"] == "firing"],
        "the warning to fire in Prometheus",
    )
    assert [(a["labels"]["alertname"], a["labels"]["severity"]) for a in firing] == [
        ("InferCostBudgetWarning", "warning")
    ]
    assert firing[0]["labels"]["scope_namespace"] == team
    assert float(firing[0]["value"]) == pytest.approx(88.19178)
    received = eventually(
        lambda: _budget_alerts(monitoring.alertmanager_alerts(), namespace), "Alertmanager to receive the alert"
    )
    assert [a["labels"]["alertname"] for a in received] == ["InferCostBudgetWarning"]
    assert received[0]["annotations"]["summary"] == f"Inference budget {namespace}/team-a at 88.2% of its monthly limit"


def _panel_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def test_every_dashboard_panel_query_returns_data(monitoring: Monitoring) -> None:
    """Runs after the alert test in this module: its objects are exported (every panel, "All" reports)."""
    queries = _panel_queries()
    assert len(queries) >= 10
    for title, expr in queries:
        concrete = re.sub(r"\$report\b", ".+", expr)
        assert "$" not in concrete, f"{title}: unresolved variable in {expr}"
        result = eventually(lambda q=concrete: monitoring.query(q), f"data for panel {title!r}: {concrete}")  # type: ignore[misc]
        assert all(r["value"][1] not in ("NaN",) for r in result), (title, result)


def test_dashboard_variables_and_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert names == ["datasource", "report"]
    assert all(p["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"])
    assert Path(DASHBOARD).stat().st_size < 64_000

"""TokenBudgets with source UsageReports whose status a test sets by hand (the spend is then known exactly).

Reports in every namespace count towards a budget, so each test's team is its own fresh namespace.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kubectl_infercost.kube.client import KubeClient

from .world import GROUP, create, create_with_status


def monthly_status(team: str, team_cost: str, period_end: str = "2026-04-20T12:00:00Z") -> dict[str, Any]:
    """April so far: 1,000 tokens of one model in ``team`` cost ``team_cost`` (docs/accounting.md's invariants hold)."""
    cost = Decimal(team_cost)
    per_million = cost * 1000  # cost / 1,000 tokens × 1e6
    return {
        "period": "2026-04",
        "periodStart": "2026-04-01T00:00:00Z",
        "periodEnd": period_end,
        "estimatedCostUSD": cost,
        "inputTokens": 1000,
        "costPerMillionTokens": per_million,
        "byModel": [
            {
                "model": "llama",
                "namespace": team,
                "inputTokens": 1000,
                "estimatedCostUSD": cost,
                "costPerMillionTokens": per_million,
            }
        ],
        "byNamespace": [{"namespace": team, "estimatedCostUSD": cost, "tokenCount": 1000}],
    }


def source_report(kube: KubeClient, namespace: str, team_cost: str) -> None:
    """A monthly report of a pool that this namespace's reconcile does not scrape (no such CostProfile)."""
    spec = {"costProfileRef": "elsewhere", "schedule": "monthly", "namespaces": [namespace]}
    create_with_status(kube, "usagereports", namespace, "pool-monthly", spec, monthly_status(namespace, team_cost))


def set_spend(kube: KubeClient, namespace: str, team_cost: str) -> None:
    kube.merge_patch(
        f"{GROUP}/namespaces/{namespace}/usagereports/pool-monthly/status",
        {"status": monthly_status(namespace, team_cost)},
    )


def budget(kube: KubeClient, namespace: str, limit: int = 1000, **spec: Any) -> None:
    thresholds = [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}]
    create(
        kube,
        "tokenbudgets",
        namespace,
        "team-x",
        {"scope": {"namespace": namespace}, "monthlyLimitUSD": limit, "alertThresholds": thresholds, **spec},
    )


def budget_events(kube: KubeClient, namespace: str) -> list[tuple[str, str]]:
    """(type, reason) of the Events about the budget, oldest first."""
    items = kube.list_items(
        f"/api/v1/namespaces/{namespace}/events",
        field_selector="involvedObject.kind=TokenBudget,involvedObject.name=team-x",
    )
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["creationTimestamp"]))
    return [(e["type"], e["reason"]) for e in items]


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("reason", "")) for c in status.get("conditions") or []}

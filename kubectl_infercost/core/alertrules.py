"""The PrometheusRule of a TokenBudget: one alert per threshold (docs/budgets.md#the-prometheusrule).

The alerts read the series that ``deploy/kube-state-metrics/`` exports from TokenBudget
objects, so they work wherever ``reconcile`` runs. Matchers use ``tokenbudget`` and
``tokenbudget_namespace`` only: a label named ``namespace`` is rewritten on scrape
(``exported_namespace``, or the scraper's own namespace) and would never match.
"""

from __future__ import annotations

from typing import Any

from ..models import API_VERSION, TokenBudget
from .budget import thresholds

RULE_API_VERSION = "monitoring.coreos.com/v1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubectl-infercost"}
METRIC_PREFIX = "infercost_tokenbudget"
SPEND_METRIC = f"{METRIC_PREFIX}_spend_usd"
LIMIT_METRIC = f"{METRIC_PREFIX}_limit_usd"
ALERT_NAMES = {"warning": "InferCostBudgetWarning", "critical": "InferCostBudgetCritical"}


def rule_name(budget: TokenBudget) -> str:
    return f"infercost-budget-{budget.metadata.name}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def utilization_expr(budget: TokenBudget) -> str:
    """Spend as a percentage of the limit; +Inf for any spend against a $0 limit, NaN (no alert) for none."""
    selector = (
        "{"
        + f"tokenbudget={_quote(budget.metadata.name)},tokenbudget_namespace={_quote(budget.metadata.namespace or '')}"
        + "}"
    )
    return f"100 * {SPEND_METRIC}{selector} / {LIMIT_METRIC}{selector}"


def rule_groups(budget: TokenBudget) -> list[dict[str, Any]]:
    """The rules file (what ``promtool check rules`` reads): one group, one alert per threshold."""
    base = utilization_expr(budget)
    rules = []
    for level in thresholds(budget):
        rules.append(
            {
                "alert": ALERT_NAMES[level.severity],
                "expr": f"{base} >= {level.percent}",
                "labels": {"severity": level.severity, "threshold_percent": str(level.percent)},
                "annotations": {
                    "summary": (
                        "Inference budget {{ $labels.tokenbudget_namespace }}/{{ $labels.tokenbudget }} "
                        'at {{ $value | printf "%.1f" }}% of its monthly limit'
                    ),
                    "description": (
                        "Namespace {{ $labels.scope_namespace }} has spent "
                        f"{level.percent}% or more of TokenBudget "
                        "{{ $labels.tokenbudget_namespace }}/{{ $labels.tokenbudget }} this month "
                        f"({level.severity} threshold)."
                    ),
                },
            }
        )
    return [{"name": rule_name(budget), "rules": rules}]


def prometheus_rule(budget: TokenBudget) -> dict[str, Any]:
    """The whole object: owned by the TokenBudget (deleted with it), labelled for a ruleSelector."""
    meta = budget.metadata
    labels = {**MANAGED_BY, **(budget.spec.prometheus_rule.labels if budget.spec.prometheus_rule else {})}
    owner = {"apiVersion": API_VERSION, "kind": "TokenBudget", "name": meta.name, "uid": meta.uid, "controller": True}
    return {
        "apiVersion": RULE_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {
            "name": rule_name(budget),
            "namespace": meta.namespace,
            "labels": labels,
            "ownerReferences": [owner],
        },
        "spec": {"groups": rule_groups(budget)},
    }


def needs_update(existing: dict[str, Any], desired: dict[str, Any]) -> bool:
    """True when the stored rule differs from the desired one in what we own (spec, labels, owner)."""
    meta, want = existing.get("metadata") or {}, desired["metadata"]
    labels = meta.get("labels") or {}
    return (
        existing.get("spec") != desired["spec"]
        or any(labels.get(k) != v for k, v in want["labels"].items())
        or meta.get("ownerReferences") != want["ownerReferences"]
    )

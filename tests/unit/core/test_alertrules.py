"""The PrometheusRule generated for a TokenBudget: shape, owner, labels, matchers."""

from __future__ import annotations

import re
from typing import Any

from kubectl_infercost.core.alertrules import needs_update, prometheus_rule, rule_groups
from kubectl_infercost.models import TokenBudget


def budget(**spec: Any) -> TokenBudget:
    return TokenBudget.model_validate(
        {
            "metadata": {"name": "team-a", "namespace": "finance", "uid": "u-1"},
            "spec": {
                "scope": {"namespace": "team-a"},
                "monthlyLimitUSD": 1000,
                "alertThresholds": [
                    {"percent": 100, "severity": "critical"},
                    {"percent": 80, "severity": "warning"},
                    {"percent": 90, "severity": "warning"},
                ],
                **spec,
            },
        }
    )


def test_one_alert_per_threshold_with_its_severity() -> None:
    rules = rule_groups(budget())[0]["rules"]
    assert [(r["alert"], r["labels"]) for r in rules] == [
        ("InferCostBudgetWarning", {"severity": "warning", "threshold_percent": "80"}),
        ("InferCostBudgetWarning", {"severity": "warning", "threshold_percent": "90"}),
        ("InferCostBudgetCritical", {"severity": "critical", "threshold_percent": "100"}),
    ]
    assert rules[0]["expr"] == (
        '100 * infercost_tokenbudget_spend_usd{tokenbudget="team-a",tokenbudget_namespace="finance"}'
        ' / infercost_tokenbudget_limit_usd{tokenbudget="team-a",tokenbudget_namespace="finance"} >= 80'
    )


def test_no_matcher_on_a_label_named_namespace() -> None:
    for rule in rule_groups(budget())[0]["rules"]:
        matchers = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=~?", rule["expr"])
        assert matchers and "namespace" not in matchers, rule["expr"]


def test_owner_labels_and_name() -> None:
    rule = prometheus_rule(budget(prometheusRule={"labels": {"release": "kube-prometheus-stack"}}))
    meta = rule["metadata"]
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert (meta["name"], meta["namespace"]) == ("infercost-budget-team-a", "finance")
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "kubectl-infercost", "release": "kube-prometheus-stack"}
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "finops.infercost.ai/v1alpha1",
            "kind": "TokenBudget",
            "name": "team-a",
            "uid": "u-1",
            "controller": True,
        }
    ]


def test_needs_update_only_on_what_we_own() -> None:
    desired = prometheus_rule(budget())
    stored = {
        **desired,
        "metadata": {
            **desired["metadata"],
            "resourceVersion": "7",
            "labels": {**desired["metadata"]["labels"], "added-by-someone": "x"},
        },
    }
    assert not needs_update(stored, desired)  # extra labels and server fields are not ours
    changed = prometheus_rule(budget(monthlyLimitUSD=1000, alertThresholds=[{"percent": 50, "severity": "warning"}]))
    assert needs_update(stored, changed)

"""Tags from namespace and pod labels (docs/export-focus.md, *Tags from labels*): the merge rules, by hand."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from kubectl_infercost.core.focus import ExportOptions, build_rows
from kubectl_infercost.core.focus.tags import label_tags, pods_of_rows
from kubectl_infercost.models import UsageReport

KEYS = ("team", "app", "cost-center")
NS = {"cost-center": "42"}


@pytest.mark.parametrize(
    ("pods", "namespace", "expected"),
    [
        # all agree: both pods say team=ml; cost-center only on the namespace
        ([{"team": "ml"}, {"team": "ml"}], NS, {"team": "ml", "cost-center": "42"}),
        # disagree: app a / b is left out
        ([{"team": "ml", "app": "a"}, {"team": "ml", "app": "b"}], NS, {"team": "ml", "cost-center": "42"}),
        # missing on one pod (and not on the namespace): left out
        ([{"team": "ml"}, {}], {}, {}),
        # missing on one pod, the namespace's value equals the other pod's: that pod has it through its namespace
        ([{"cost-center": "42"}, {}], NS, {"cost-center": "42"}),
        # missing on one pod, the namespace says otherwise: the pods disagree
        ([{"cost-center": "7"}, {}], NS, {}),
        # a pod label wins over the namespace label of the same key (every pod says 7)
        ([{"cost-center": "7"}, {"cost-center": "7"}], NS, {"cost-center": "7"}),
        # an empty value is true, from a pod as from a namespace
        ([{"team": ""}, {"team": ""}], {"app": ""}, {"team": True, "app": True}),
        # one pod, its own labels over the namespace's
        ([{"team": "ml", "app": "vllm"}], NS, {"team": "ml", "app": "vllm", "cost-center": "42"}),
        # no pod left (all gone or pods not read): the namespace's labels
        (None, NS, {"cost-center": "42"}),
        ([], NS, {"cost-center": "42"}),
        # keys not in the allowlist are never copied
        ([{"other": "x"}], {"other": "y"}, {}),
    ],
)
def test_label_tags(
    pods: list[Mapping[str, str]] | None, namespace: Mapping[str, str], expected: dict[str, str | bool]
) -> None:
    assert label_tags(KEYS, namespace, pods) == expected


def pod(uid: str, namespace: str, *models: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "namespace": namespace,
        "name": f"pod-{uid}",
        "series": [{"model": m, "in": 0, "out": 0} for m in models],
    }


def usage_report(checkpoint_pods: list[dict[str, Any]] | None) -> UsageReport:
    status: dict[str, Any] = {
        "period": "2026-04-20",
        "periodStart": "2026-04-20T00:00:00Z",
        "periodEnd": "2026-04-20T01:00:00Z",
        "inputTokens": 3_000_000,
        "outputTokens": 0,
        "estimatedCostUSD": "6",
        "idleCostUSD": "1",
        "idleGpuHours": "0.5",
        "byModel": [
            {"model": "llama", "namespace": "team-a", "inputTokens": 1_000_000, "estimatedCostUSD": "2"},
            {"model": "qwen", "namespace": "team-a", "inputTokens": 1_000_000, "estimatedCostUSD": "2"},
        ],
    }
    if checkpoint_pods is not None:
        status["checkpoint"] = {"time": "2026-04-20T01:00:00Z", "pods": checkpoint_pods}
    return UsageReport.model_validate(
        {
            "metadata": {"name": "daily", "namespace": "infercost"},
            "spec": {"costProfileRef": "h100", "schedule": "daily"},
            "status": status,
        }
    )


def test_pods_of_rows_by_namespace_and_model() -> None:
    report = usage_report(
        [pod("u1", "team-a", "llama"), pod("u2", "team-a", "llama", "qwen"), pod("u3", "team-a", "qwen")]
    )
    live = {"u1": {"app": "a"}, "u2": {"app": "b"}, "gone-elsewhere": {"app": "z"}}  # u3 is gone
    assert pods_of_rows(report, live) == {
        ("team-a", "llama"): [{"app": "a"}, {"app": "b"}],
        ("team-a", "qwen"): [{"app": "b"}],
    }
    assert pods_of_rows(report, {}) == {}
    assert pods_of_rows(usage_report(None), live) == {}


def tags_by_sku(report: UsageReport, **options: Any) -> dict[str, dict[str, Any]]:
    opts = ExportOptions(**options)
    out: dict[str, dict[str, Any]] = {}
    for row in build_rows([(report, None)], None, opts):
        rec = dict(zip(opts.layout.names, row, strict=True))
        out[str(rec["SkuId"])] = json.loads(str(rec["Tags"]))
    return out


def test_rows_merge_pod_and_namespace_labels() -> None:
    report = usage_report(
        [
            pod("u1", "team-a", "llama"),
            pod("u2", "team-a", "llama"),
            pod("u3", "team-a", "qwen"),
            pod("u4", "team-a", "qwen"),
        ]
    )
    pod_labels = {
        "u1": {"team": "ml", "app": "vllm-a", "cost-center": "7"},
        "u2": {"team": "ml", "app": "vllm-b", "cost-center": "7"},
        "u3": {"team": "research", "infercost/report": "not ours"},  # u4 is gone: qwen has u3 alone
    }
    namespaces = {"team-a": {"cost-center": "42", "team": "platform"}, "infercost": {"cost-center": "1"}}
    base = {"infercost/costProfile": "h100", "infercost/report": "infercost/daily", "infercost/schedule": "daily"}
    tags = tags_by_sku(
        report,
        tag_labels=("team", "app", "cost-center", "infercost/report"),
        namespace_labels=namespaces,
        pod_labels=pod_labels,
    )
    assert tags == {
        # both llama pods: team=ml (over the namespace's platform), app disagrees, cost-center 7 over 42
        "llama": {**base, "team": "ml", "cost-center": "7"},
        # u3 alone: team=research; cost-center from the namespace; a label never replaces an infercost/ tag
        "qwen": {**base, "team": "research", "cost-center": "42"},
        # 6 - 1 - 2 - 2 = 1 without a model: the unknown-model row of the report's namespace
        "unknown-model": {**base, "cost-center": "1"},
        # idle rows: the profile's namespace labels only
        "idle-gpu-hours/unknown": {**base, "cost-center": "1"},
    }
    # Without pod labels (not read, or forbidden) every row has its namespace's labels
    plain = tags_by_sku(report, tag_labels=("team", "app", "cost-center"), namespace_labels=namespaces)
    assert plain["llama"] == plain["qwen"] == {**base, "team": "platform", "cost-center": "42"}
    # Without an allowlist no label is copied, whatever was read
    assert tags_by_sku(report, namespace_labels=namespaces, pod_labels=pod_labels)["llama"] == base

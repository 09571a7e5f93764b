"""Bad objects say so where users look: Ready=False naming the field, one Warning Event, pass exits 0."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from kubectl_infercost.kube.client import KubeClient

from .conftest import Sim
from .world import create, create_with_status, new_world, reconcile_together, worked_profile

BAD: dict[str, tuple[dict[str, Any], dict[str, Any] | None, str, str]] = {
    # name: (spec, status, reason, the field the message names)
    "no-profile": ({"costProfileRef": "missing"}, None, "CostProfileNotFound", "spec.costProfileRef"),
    "bad-zone": ({"costProfileRef": "h100", "timeZone": "Mars/Olympus"}, None, "InvalidTimeZone", "spec.timeZone"),
    "future": (
        {"costProfileRef": "h100"},
        {"checkpoint": {"time": "2099-01-01T00:00:00Z"}},
        "CheckpointInFuture",
        "status.checkpoint.time",
    ),
    "negative-cost": (
        {"costProfileRef": "h100"},
        {"checkpoint": {"time": "2026-04-20T10:00:00Z"}, "estimatedCostUSD": -5},
        "NegativeValue",
        "status.estimatedCostUSD",
    ),
    "negative-tokens": (
        {"costProfileRef": "h100"},
        {
            "checkpoint": {
                "time": "2026-04-20T10:00:00Z",
                "pods": [{"uid": "u", "namespace": "n", "name": "p", "series": [{"model": "m", "in": -1, "out": 0}]}],
            }
        },
        "InvalidStatus",
        "status.checkpoint.pods[0].series[0].in",
    ),
}


def _kubectl(*args: str) -> str:
    out = subprocess.run(["kubectl", *args], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("writers", [1, 2])
def test_bad_reports_are_not_ready_with_one_event_each(
    kube: KubeClient, sim: Sim, namespace: str, writers: int
) -> None:
    new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", worked_profile())
    for name, (spec, status, _, _) in BAD.items():
        if status is None:
            create(kube, "usagereports", namespace, name, spec)
        else:
            create_with_status(kube, "usagereports", namespace, name, spec, status)
    for _ in range(2):  # the second pass changes nothing: no second Event; two writers at once emit one
        outs = reconcile_together(namespace, None, writers)
        for name, (_, _, reason, field) in BAD.items():
            line = f"not ready: usagereport {namespace}/{name}: {reason}: {field}"
            assert all(line in out for out in outs), outs
    for name, (_, _, reason, field) in BAD.items():
        described = _kubectl("describe", "usagereport", name, "-n", namespace)
        assert reason in described and field in described, described
        assert described.count(f"Warning  {reason}") == 1, described
        events = _kubectl(
            "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={name}", "-o", "name"
        ).split()
        assert len(events) == 1, events
    ready = _kubectl(
        "get",
        "usagereport",
        "future",
        "-n",
        namespace,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
    )
    assert ready == "False"  # a future checkpoint is never Ready=True
    # leave no bad object behind for later tests that read every namespace
    _kubectl("delete", "usagereports", "--all", "-n", namespace)

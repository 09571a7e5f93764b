"""Several reconcilers at the same instant never double-count (optimistic concurrency on status)."""

from __future__ import annotations

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .conftest import NewIp, Sim
from .world import check_invariants, create, new_world, reconcile_in_parallel, status_of


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("writers", [2, 4])
def test_parallel_reconcilers_count_every_token_once(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    writers: int,
) -> None:
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    ips = [new_ip(), new_ip()]
    for i, ip in enumerate(ips):
        w.inference_pod(f"vllm-{i}", namespace, ip, f"m{i}")
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    counters = [0, 0]
    steps = 5
    for step in range(steps + 1):
        if step:
            counters = [counters[0] + 1_000 * step, counters[1] + 7 * step]
        for i, ip in enumerate(ips):
            sim.write(ip, 8000, metricsgen.vllm(f"m{i}", counters[i], counters[i] // 2))
        now = f"2026-04-20T{10 + step:02d}:00:00Z"
        reconcile_in_parallel(namespace, now, writers)
    st = status_of(kube, "usagereports", namespace, "daily")
    # growth after the baseline: m0 1,000 x (1+2+3+4+5) = 15,000 in, 7,500 out; m1 7 x 15 = 105 in, 52 out
    tokens = {m["model"]: (m["inputTokens"], m["outputTokens"]) for m in st["byModel"]}
    assert tokens == {"m0": (15_000, 7_500), "m1": (105, 52)}
    assert st["periodEnd"] == "2026-04-20T15:00:00Z"
    check_invariants(st)

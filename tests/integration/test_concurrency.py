"""Several reconcilers at the same instant never double-count (optimistic concurrency on status); --watch
loops overlapping one-shot passes on the wall clock; history and checkpoints never go backwards."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .conftest import NewIp, Sim, run_cli
from .flat import PER_SECOND, accounted_seconds, flat_profile, flat_world, total_tokens, total_usd
from .world import check_invariants, create, new_world, reconcile_in_parallel, status_of


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(("writers", "steps"), [(2, 5), (4, 5), (8, 3)])
def test_parallel_reconcilers_count_every_token_once(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    writers: int,
    steps: int,
) -> None:
    w = new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "flat", flat_profile(2, {"infercost.test/pool": namespace}))
    ips = [new_ip(), new_ip()]
    for i, ip in enumerate(ips):
        w.inference_pod(f"vllm-{i}", namespace, ip, f"m{i}", gpus=1)
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "flat", "namespaces": [namespace]})
    counters = [0, 0]
    for step in range(steps + 1):
        if step:
            counters = [counters[0] + 1_000 * step, counters[1] + 7 * step]
        for i, ip in enumerate(ips):
            sim.write(ip, 8000, metricsgen.vllm(f"m{i}", counters[i], counters[i] // 2))
        now = f"2026-04-20T{10 + step:02d}:00:00Z"
        reconcile_in_parallel(namespace, now, writers)
    st = status_of(kube, "usagereports", namespace, "daily")
    tokens = {m["model"]: (m["inputTokens"], m["outputTokens"]) for m in st["byModel"]}
    if steps == 5:
        # growth after the baseline: m0 1,000 x (1+2+3+4+5) = 15,000 in, 7,500 out; m1 7 x 15 = 105 in, 52 out
        assert tokens == {"m0": (15_000, 7_500), "m1": (105, 52)}
        assert st["periodEnd"] == "2026-04-20T15:00:00Z"
    else:
        # m0 1,000 x (1+2+3) = 6,000 in, 3,000 out; m1 7 x 6 = 42 in, 21 out
        assert tokens == {"m0": (6_000, 3_000), "m1": (42, 21)}
        assert st["periodEnd"] == "2026-04-20T13:00:00Z"
    # one hour per step at $3.60, each pod holding 1 of the 2 GPUs: $1.80 per model per hour, nothing idle
    costs = {m["model"]: D(str(m["estimatedCostUSD"])) for m in st["byModel"]}
    assert costs == {"m0": D("1.8") * steps, "m1": D("1.8") * steps}
    assert D(str(st["estimatedCostUSD"])) == D("3.6") * steps and D(str(st["idleCostUSD"])) == 0
    check_invariants(st)


def _checkpointed(status: dict, pod: str) -> int | None:  # type: ignore[type-arg]
    """The prompt counter value the report's checkpoint holds for ``pod`` (None: not seen yet)."""
    for entry in (status.get("checkpoint") or {}).get("pods", []):
        if entry["name"] == pod:
            return sum(int(s["in"]) for s in entry["series"])
    return None


@pytest.mark.usefixtures("installed")
def test_watch_loops_overlapping_one_shot_passes_count_every_token_and_second_once(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    w = flat_world(kube, sim, namespace, 2)
    ips = [new_ip(), new_ip()]
    counters = [1_000, 50]
    for i, ip in enumerate(ips):
        w.inference_pod(f"vllm-{i}", namespace, ip, f"m{i}", gpus=1)
        sim.write(ip, 8000, metricsgen.vllm(f"m{i}", counters[i], counters[i] // 2))
    loops = [
        subprocess.Popen(
            ["kubectl", "infercost", "reconcile", "-n", namespace, "--watch", "--interval", "1s", "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for _ in range(2)
    ]
    baseline = list(counters)

    def wait_checkpoint(expected: list[int]) -> dict:  # type: ignore[type-arg]
        deadline = time.monotonic() + 60
        while True:
            st = status_of(kube, "usagereports", namespace, "daily")
            if [_checkpointed(st, f"vllm-{i}") for i in range(2)] == expected:
                return st
            assert time.monotonic() < deadline, st.get("checkpoint")
            time.sleep(0.2)

    try:
        wait_checkpoint(baseline)  # the baseline is taken before any token is served
        for step in range(1, 7):
            counters = [counters[0] + 1_000 * step, counters[1] + 7 * step]
            for i, ip in enumerate(ips):
                sim.write(ip, 8000, metricsgen.vllm(f"m{i}", counters[i], counters[i] // 2))
            one_shot = run_cli("reconcile", "-n", namespace, "-q")  # the wall clock, beside both loops
            assert one_shot.returncode == 0, one_shot.stderr
        st = wait_checkpoint(counters)  # some pass has seen the last counters
    finally:
        for loop in loops:
            loop.send_signal(signal.SIGTERM)
        for loop in loops:
            _, err = loop.communicate(timeout=60)
            assert loop.returncode == 0, err
            assert "error" not in err, err
    st = status_of(kube, "usagereports", namespace, "daily")
    # m0: 1,000 x (1+...+6) = 21,000 in, 10,500 out; m1: 7 x 21 = 147 in, (50 + 147) // 2 - 25 = 73 out
    tokens = {m["model"]: (m["inputTokens"], m["outputTokens"]) for m in st["byModel"]}
    assert tokens == {"m0": (21_000, 10_500), "m1": (147, 73)}
    assert total_tokens(st) == (21_147, 10_573)
    # $0.001 for every accounted second, half on each pod (each holds 1 of the 2 GPUs), nothing idle
    seconds = accounted_seconds(st)
    assert seconds > 0 and total_usd(st) == PER_SECOND * seconds
    costs = {m["model"]: D(str(m["estimatedCostUSD"])) for m in st["byModel"]}
    assert costs == {"m0": PER_SECOND * seconds / 2, "m1": PER_SECOND * seconds / 2}
    check_invariants(st)


@pytest.mark.usefixtures("installed")
def test_history_never_shrinks_below_its_limit_and_checkpoints_never_move_back(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    w = flat_world(kube, sim, namespace, 1, historyLimit=2)
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "m", gpus=1)
    sim.write(ip, 8000, metricsgen.vllm("m", 0, 0))
    days = [f"2026-04-{d}T12:00:00Z" for d in range(19, 24)]
    for n, now in enumerate(days):
        sim.write(ip, 8000, metricsgen.vllm("m", 100 * n, 0))
        reconcile_in_parallel(namespace, now, 2)
        st = status_of(kube, "usagereports", namespace, "daily")
        assert st["checkpoint"]["time"] == now
        # days closed so far: n (the 19th closes at the 20th's pass), of which at most 2 are kept, newest first
        assert [h["period"] for h in st.get("history", [])] == [f"2026-04-{d}" for d in range(18 + n, 18, -1)][:2]
        # an older instant is refused and changes nothing (exit 6)
        if n:
            late = run_cli("reconcile", "-n", namespace, "--now", days[n - 1])
            assert late.returncode == 6, late.stderr
            assert status_of(kube, "usagereports", namespace, "daily") == st
    st = status_of(kube, "usagereports", namespace, "daily")
    # the 19th (12 h, $43.20) and the 20th fell off; the 21st and 22nd are whole days,
    # 24 h x $3.60 = $86.40 each; the 23rd is 12 h so far, $43.20
    assert [(h["period"], D(str(h["estimatedCostUSD"]))) for h in st["history"]] == [
        ("2026-04-22", D("86.4")),
        ("2026-04-21", D("86.4")),
    ]
    assert D(str(st["estimatedCostUSD"])) == D("43.2")

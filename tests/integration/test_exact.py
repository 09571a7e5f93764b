"""Issue table rows 5-8 through the real API server: DCGM surge, two profiles on a node, extreme values,
exact money on the wire, duplicated history; one and two reconcilers."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.simpod import make_pod

from .conftest import NewIp, Sim, run_cli
from .world import (
    GROUP,
    create,
    create_with_status,
    new_world,
    reconcile,
    reconcile_together,
    status_of,
    worked_profile,
)

T0, T1 = "2026-04-20T10:00:00Z", "2026-04-20T11:00:00Z"
WRITERS = pytest.mark.parametrize("writers", [1, 2])


@pytest.mark.usefixtures("installed")
@WRITERS
def test_dcgm_daemonset_surge_counts_each_gpu_once(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, writers: int
) -> None:
    w = new_world(kube, sim, namespace)
    first, surge = new_ip(), new_ip()
    w.add_exporter(first, gpu_count=4)
    # GPUs 0 and 1 belong to pod vllm (DCGM pod mapping)
    w.gpus = [
        metricsgen.Gpu(g.index, g.uuid, 500.0, 0, "vllm" if g.index < 2 else None, namespace if g.index < 2 else None)
        for g in w.gpus
    ]
    make_pod(kube, f"dcgm-{w.node}-surge", namespace, surge, node=w.node, labels={"app": "nvidia-dcgm-exporter"})
    pool = {"infercost.test/pool": namespace}
    create(kube, "costprofiles", namespace, "h100", {**worked_profile(gpuCount=4), "nodeSelector": pool})
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "llama")

    def serve(energy: int, tokens: int) -> None:
        w.set_energy(energy)
        sim.write(surge, 9400, sim.path(first, 9400).read_text())  # the surge pod serves the same GPUs
        sim.write(ip, 8000, metricsgen.vllm("llama", tokens, 0))

    serve(0, 0)
    reconcile_together(namespace, T0, writers)
    serve(1_800_000_000, 1_000)
    reconcile_together(namespace, T1, writers)
    st = status_of(kube, "usagereports", namespace, "daily")
    # 4 GPUs x 1.8e9 mJ = 2 kWh (not 4): electricity 2 x 1.5 x 0.10 = 0.30
    # amortization 240000/(4 x 8760) = 6.849315..., maintenance 240000 x 0.05/8760 = 1.369863...; C = 8.519178...
    # the pod holds 2 of 4 GPUs (not 4): 4.259589 each for it and idle
    assert D(str(st["energyKWh"])) == D(2)
    assert [(m["model"], D(str(m["estimatedCostUSD"]))) for m in st["byModel"]] == [("llama", D("4.259589"))]
    assert D(str(st["idleCostUSD"])) == D("4.259589")
    assert "GPUsOversubscribed" not in {c["type"] for c in st["conditions"]}
    cp = status_of(kube, "costprofiles", namespace, "h100")
    assert len(cp["gpus"]) == 4 and cp["currentPowerDrawWatts"] == 2000  # 4 x 500 W, once each


@pytest.mark.usefixtures("installed")
def test_two_profiles_on_one_node_account_it_once(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    w = new_world(kube, sim, namespace)
    pool = {"infercost.test/pool": namespace}
    create(kube, "costprofiles", namespace, "a-first", {**worked_profile(), "nodeSelector": pool})
    create(kube, "costprofiles", namespace, "b-second", {**worked_profile(), "nodeSelector": pool})
    for name in ("a-first", "b-second"):
        create(kube, "usagereports", namespace, name, {"costProfileRef": name, "namespaces": [namespace]})
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "llama")
    sim.write(ip, 8000, metricsgen.vllm("llama", 0, 0))
    reconcile_together(namespace, T0, 1)
    sim.write(ip, 8000, metricsgen.vllm("llama", 5_000, 0))
    out = reconcile(namespace, T1)
    assert f"warning: CostProfile {namespace}/b-second: node {w.node} is also selected" in out["stderr"]
    # the older profile (a-first; same second: by name) accounts the node: the pod's 5,000 tokens are its alone
    first = status_of(kube, "usagereports", namespace, "a-first")
    second = status_of(kube, "usagereports", namespace, "b-second")
    assert first["inputTokens"] == 5_000 and second.get("inputTokens", 0) == 0
    for name, other, who in (
        ("a-first", "b-second", "this profile accounts it"),
        ("b-second", "a-first", f"{namespace}/a-first accounts it"),
    ):
        cond = next(
            c for c in status_of(kube, "costprofiles", namespace, name)["conditions"] if c["type"] == "NodesShared"
        )
        assert (cond["status"], cond["reason"]) == ("True", "SharedNodes")
        assert (
            f"node {w.node} is also selected by CostProfile {namespace}/{other} ({who}, created first)"
            in cond["message"]
        )
    events = kube.get(f"/api/v1/namespaces/{namespace}/events")["items"]
    assert sorted(e["involvedObject"]["name"] for e in events if e["reason"] == "SharedNodes") == [
        "a-first",
        "b-second",
    ]


@pytest.mark.usefixtures("installed")
def test_extreme_values_are_one_error_and_money_is_exact_on_the_wire(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    w = new_world(kube, sim, namespace)
    extreme = {
        "hardware": {"gpuModel": "H100", "gpuCount": 8, "purchasePriceUSD": 1e12, "amortizationYears": 1e-9},
        "electricity": {"ratePerKWh": 0},
    }
    create(kube, "costprofiles", namespace, "extreme", extreme)
    w.pool_profile()  # the worked example on this world's node (no exporter: TDP fallback)
    create(kube, "usagereports", namespace, "a-extreme", {"costProfileRef": "extreme", "namespaces": [namespace]})
    create(kube, "usagereports", namespace, "b-normal", {"costProfileRef": "h100", "namespaces": [namespace]})
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "llama")
    sim.write(ip, 8000, metricsgen.vllm("llama", 0, 0))
    reconcile_together(namespace, T0, 1)
    sim.write(ip, 8000, metricsgen.vllm("llama", 1_000, 0))
    reconcile_together(namespace, T1, 1)
    # 1e12 / (1e-9 x 8760) = 1e21 / 8760 = 114155251141552511.415525 $/h: 24 significant digits. The API
    # server holds JSON numbers as float64 (15 exact digits) and would store 114155251141552510, so the
    # profile is not written rounded: it says why, and its report waits for it
    cp = kube.get(f"{GROUP}/namespaces/{namespace}/costprofiles/extreme")["status"]
    assert "hourlyCostUSD" not in cp
    ready = next(c for c in cp["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "OutOfRange")
    assert ready["message"].startswith("status.hourlyCostUSD, status.amortizationRatePerHour: more than 15 significant")
    bad = status_of(kube, "usagereports", namespace, "a-extreme")
    ready = next(c for c in bad["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "CostProfileNotReady")
    assert ready["message"] == f"spec.costProfileRef: CostProfile {namespace}/extreme is not Ready"
    # ...and the next report is accounted: the worked example's TDP hour, 9.059178, all on llama
    good = status_of(kube, "usagereports", namespace, "b-normal")
    assert good["inputTokens"] == 1_000 and D(str(good["estimatedCostUSD"])) == D("9.059178")


@pytest.mark.usefixtures("installed")
def test_history_holding_a_period_twice_is_merged_once(
    kube: KubeClient, sim: Sim, namespace: str
) -> None:
    new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", worked_profile())
    day = {
        "period": "2026-04-19",
        "periodStart": "2026-04-19T00:00:00Z",
        "periodEnd": "2026-04-20T00:00:00Z",
        "estimatedCostUSD": 10,
        "idleCostUSD": 10,
        "gpuHours": 192,
        "idleGpuHours": 192,
    }
    status = {"history": [day, dict(day)], "checkpoint": {"time": "2026-04-20T10:00:00Z"}, "period": "2026-04-20"}
    create_with_status(
        kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]}, status
    )
    exported = run_cli("export", "focus", "-n", namespace)
    assert exported.returncode == 0, exported.stderr
    # the period's $10 idle is one FOCUS row (one idle row per report and period), not two
    assert sum("2026-04-19T00:00:00" in line for line in exported.stdout.splitlines()) == 1, exported.stdout
    reconcile_together(namespace, T1, 1)
    st = status_of(kube, "usagereports", namespace, "daily")
    assert [h["period"] for h in st["history"]] == ["2026-04-19"]
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "HistoryRepaired")
    reconcile_together(namespace, "2026-04-20T12:00:00Z", 1)
    st = status_of(kube, "usagereports", namespace, "daily")
    assert [h["period"] for h in st["history"]] == ["2026-04-19"]
    assert next(c for c in st["conditions"] if c["type"] == "Ready")["status"] == "True"


@pytest.mark.usefixtures("installed")
def test_namespace_selector_attributes_only_matching_namespaces(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    w = new_world(kube, sim, namespace)
    billed, free = f"{namespace}-billed", f"{namespace}-free"
    selector = {"infercost.test/billed": namespace}
    profile = {**worked_profile(), "nodeSelector": {"infercost.test/pool": namespace}, "namespaceSelector": selector}
    create(kube, "costprofiles", namespace, "h100", profile)
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100"})  # every namespace...
    ips = {billed: new_ip(), free: new_ip()}
    for ns, ip in ips.items():
        w.inference_pod("vllm", ns, ip, "llama")
        sim.write(ip, 8000, metricsgen.vllm("llama", 0, 0))
    kube.merge_patch(f"/api/v1/namespaces/{billed}", {"metadata": {"labels": selector}})
    reconcile_together(namespace, T0, 1)
    for ip in ips.values():
        sim.write(ip, 8000, metricsgen.vllm("llama", 1_000, 0))
    reconcile_together(namespace, T1, 1)
    st = status_of(kube, "usagereports", namespace, "daily")
    # ...but only the labelled namespace's pod is attributed: its 1,000 tokens carry the whole TDP hour, 9.059178
    assert [(m["namespace"], m["inputTokens"]) for m in st["byModel"]] == [(billed, 1_000)]
    assert D(str(st["estimatedCostUSD"])) == D("9.059178")

"""The reconcile engine through the real API server and pod proxy, figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .conftest import NewIp, Sim, run_cli
from .world import create, new_world, reconcile, status_of, worked_profile

T0 = "2026-04-20T10:00:00Z"
T1 = "2026-04-20T11:00:00Z"


def _report(kube: KubeClient, ns: str, namespaces: list[str], **extra: object) -> None:
    create(kube, "usagereports", ns, "daily", {"costProfileRef": "h100", "namespaces": namespaces, **extra})


@pytest.mark.usefixtures("installed")
def test_worked_example_token_mode(kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp) -> None:
    w = new_world(kube, sim, namespace)
    w.add_exporter(new_ip())
    w.pool_profile()
    team_a, team_b = f"{namespace}-a", f"{namespace}-b"
    ip_a, ip_b = new_ip(), new_ip()
    w.inference_pod("vllm-a", team_a, ip_a, "llama-3-8b")
    w.inference_pod("llama-b", team_b, ip_b, "qwen2.5-7b", backend="llamacpp")
    _report(kube, namespace, [team_a, team_b])
    sim.write(ip_a, 8000, metricsgen.vllm("llama-3-8b", 1_000_000, 400_000))
    sim.write(ip_b, 8080, metricsgen.llamacpp(50_000, 20_000))
    w.set_energy(5_000_000_000)
    first = reconcile(namespace, T0)
    assert "baseline taken" in first["stdout"]
    # one hour later: A +600,000/+200,000, B +100,000/+100,000, each GPU +1.8e9 mJ (8 x 0.5 kWh = 4 kWh)
    sim.write(ip_a, 8000, metricsgen.vllm("llama-3-8b", 1_600_000, 600_000))
    sim.write(ip_b, 8080, metricsgen.llamacpp(150_000, 120_000))
    w.set_energy(6_800_000_000)
    second = reconcile(namespace, T1)
    assert "+$8.819178, +1,000,000 tokens" in second["stdout"]
    st = status_of(kube, "usagereports", namespace, "daily")
    rows = {(m["namespace"], m["model"]): m for m in st["byModel"]}
    a, b = rows[(team_a, "llama-3-8b")], rows[(team_b, "qwen2.5-7b")]
    assert (a["inputTokens"], a["outputTokens"], D(str(a["estimatedCostUSD"]))) == (600_000, 200_000, D("7.055342"))
    assert (b["inputTokens"], b["outputTokens"], D(str(b["estimatedCostUSD"]))) == (100_000, 100_000, D("1.763836"))
    assert D(str(st["estimatedCostUSD"])) == D("8.819178")
    assert D(str(st["costPerMillionTokens"])) == D("8.819178")
    assert st["idleCostUSD"] == 0 and D(str(st["energyKWh"])) == D(4)
    assert (st["inputTokens"], st["outputTokens"]) == (700_000, 300_000)
    assert st["accountingSince"] == T0 and st["periodEnd"] == T1 and st["period"] == "2026-04-20"
    assert {c["type"]: c["status"] for c in st["conditions"]} == {"Ready": "True", "ScrapeHealthy": "True"}
    assert len(st["cloudComparison"]) > 0
    cp = status_of(kube, "costprofiles", namespace, "h100")
    # 8 x 500 W = 4 kW: amortization+maintenance 8.219178/h, electricity 4 x 1.5 x 0.10 = 0.60/h
    assert (D(str(cp["amortizationRatePerHour"])), D(str(cp["electricityCostPerHour"]))) == (D("8.219178"), D("0.6"))
    assert D(str(cp["hourlyCostUSD"])) == D("8.819178") and cp["powerSource"] == "DCGMEnergy"
    assert cp["currentPowerDrawWatts"] == 4000 and len(cp["gpus"]) == 8
    dcgm = next(c for c in cp["conditions"] if c["type"] == "DCGMReachable")
    assert (dcgm["status"], dcgm["reason"]) == ("True", "DCGMHealthy")


@pytest.mark.usefixtures("installed")
def test_worked_example_ownership_mode(kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp) -> None:
    w = new_world(kube, sim, namespace)
    w.add_exporter(new_ip())
    w.pool_profile()
    ip_a, ip_b = new_ip(), new_ip()
    w.inference_pod("vllm-a", namespace, ip_a, "llama-3-8b", gpus=4)
    w.inference_pod("vllm-b", namespace, ip_b, "qwen2.5-7b", gpus=2)
    _report(kube, namespace, [namespace])
    sim.write(ip_a, 8000, metricsgen.vllm("llama-3-8b", 0, 0))
    sim.write(ip_b, 8000, metricsgen.vllm("qwen2.5-7b", 0, 0))
    w.set_energy(0)
    reconcile(namespace, T0)
    sim.write(ip_a, 8000, metricsgen.vllm("llama-3-8b", 600_000, 200_000))
    sim.write(ip_b, 8000, metricsgen.vllm("qwen2.5-7b", 100_000, 100_000))
    w.set_energy(1_800_000_000)
    reconcile(namespace, T1)
    st = status_of(kube, "usagereports", namespace, "daily")
    rows = {m["model"]: D(str(m["estimatedCostUSD"])) for m in st["byModel"]}
    assert rows == {"llama-3-8b": D("4.409589"), "qwen2.5-7b": D("2.204795")}
    assert D(str(st["idleCostUSD"])) == D("2.204795")
    assert D(str(st["estimatedCostUSD"])) == D("8.819179")
    assert D(str(st["gpuEfficiencyRatio"])) == D("0.75")


@pytest.mark.usefixtures("installed")
def test_dead_and_garbage_endpoints_do_not_stop_the_pass(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    ips = [new_ip() for _ in range(4)]
    for i, ip in enumerate(ips):
        w.inference_pod(f"vllm-{i}", namespace, ip, f"m{i}")
        sim.write(ip, 8000, metricsgen.vllm(f"m{i}", 0, 0))
    _report(kube, namespace, [namespace])
    reconcile(namespace, T0)
    # pod 1 answers 503, pod 2 hangs past the timeout, pod 3 serves garbage; pod 0 is healthy
    sim.write(ips[0], 8000, metricsgen.vllm("m0", 1_000, 0))
    sim.set_status(ips[1], 8000, 503)
    sim.write(ips[1], 8000, metricsgen.vllm("m1", 2_000, 0))
    sim.set_delay(ips[2], 8000, 3)
    sim.write(ips[2], 8000, metricsgen.vllm("m2", 3_000, 0))
    sim.write(ips[3], 8000, "<html>this is not prometheus</html>\n")
    out = reconcile(namespace, T1, "--scrape-timeout", "1s")
    assert "3 failed" in out["stdout"] or "2 failed" in out["stdout"]
    st = status_of(kube, "usagereports", namespace, "daily")
    assert {m["model"]: m["inputTokens"] for m in st["byModel"]} == {"m0": 1_000}
    # TDP fallback, no exporter: C = 8.219178 + 5.6 kWh x 0.15 = 9.059178 all on m0 (token mode)
    assert D(str(st["estimatedCostUSD"])) == D("9.059178")
    scrape = next(c for c in st["conditions"] if c["type"] == "ScrapeHealthy")
    assert scrape["status"] == "False" and "vllm-1" in scrape["message"] and "vllm-3" in scrape["message"]
    # recovery: nothing is lost, the missed tokens arrive in the next interval
    sim.set_status(ips[1], 8000, None)
    sim.set_delay(ips[2], 8000, None)
    sim.write(ips[3], 8000, metricsgen.vllm("m3", 4_000, 0))
    reconcile(namespace, "2026-04-20T12:00:00Z")
    st = status_of(kube, "usagereports", namespace, "daily")
    assert {m["model"]: m["inputTokens"] for m in st["byModel"]} == {"m0": 1_000, "m1": 2_000, "m2": 3_000, "m3": 4_000}
    cp = status_of(kube, "costprofiles", namespace, "h100")
    dcgm = next(c for c in cp["conditions"] if c["type"] == "DCGMReachable")
    assert (dcgm["status"], dcgm["reason"]) == ("False", "DCGMNotFound")
    assert "TDP fallback 5600 W" in dcgm["message"] and cp["powerSource"] == "TDPFallback"


@pytest.mark.usefixtures("installed")
def test_now_before_checkpoint_is_refused(kube: KubeClient, sim: Sim, namespace: str) -> None:
    new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", worked_profile())
    _report(kube, namespace, [namespace])
    reconcile(namespace, T1)
    out = run_cli("reconcile", "-n", namespace, "--now", T0)
    assert out.returncode == 6
    assert f"UsageReport {namespace}/daily: evaluation time 2026-04-20T10:00:00+00:00 is before" in out.stderr
    assert out.stderr.splitlines()[-1] == f"error: --now {T0} could not be applied to 1 report(s): {namespace}/daily"

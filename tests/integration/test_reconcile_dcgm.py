"""DCGMReachable's four states, TDP fallback, two reports on one profile, --dry-run and --watch."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.simpod import make_pod

from .conftest import NewIp, Sim, run_cli
from .world import STARTED, create, new_world, reconcile, status_of, worked_profile

T0, T1 = "2026-04-20T10:00:00Z", "2026-04-20T11:00:00Z"


def _dcgm(cp: dict) -> tuple[str, str, str]:  # type: ignore[type-arg]
    c = next(c for c in cp["conditions"] if c["type"] == "DCGMReachable")
    return c["status"], c["reason"], c["message"]


@pytest.mark.usefixtures("installed")
def test_four_dcgm_states(kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp) -> None:
    selector = {"infercost.test/pool": namespace}
    w = new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", {**worked_profile(), "nodeSelector": selector})
    reconcile(namespace, T0)
    state = _dcgm(status_of(kube, "costprofiles", namespace, "h100"))
    assert state[:2] == ("False", "DCGMNotFound") and "TDP fallback 5600 W" in state[2]

    ip = new_ip()
    make_pod(
        kube, "dcgm", namespace, ip, node=w.node, labels={"app.kubernetes.io/name": "dcgm-exporter"}, started=STARTED
    )
    sim.set_status(ip, 9400, 500)
    reconcile(namespace, T0)
    state = _dcgm(status_of(kube, "costprofiles", namespace, "h100"))
    assert state[:2] == ("False", "DCGMScrapeError") and "TDP fallback 5600 W" in state[2]

    sim.set_status(ip, 9400, None)
    sim.write(ip, 9400, "# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).\n# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n")
    reconcile(namespace, T0)
    cp = status_of(kube, "costprofiles", namespace, "h100")
    assert _dcgm(cp)[:2] == ("Unknown", "DCGMNoReadings") and cp["powerSource"] == "TDPFallback"
    # 5600 W at TDP: electricity 5.6 x 1.5 x 0.10 = 0.84/h; hourly 8.219178 + 0.84
    assert D(str(cp["hourlyCostUSD"])) == D("9.059178")

    sim.write(
        ip, 9400, metricsgen.dcgm(w.node, "NVIDIA H100", [metricsgen.Gpu(i, f"GPU-{i}", 350.0, None) for i in range(8)])
    )
    reconcile(namespace, T0)
    cp = status_of(kube, "costprofiles", namespace, "h100")
    assert _dcgm(cp)[:2] == ("True", "DCGMHealthy") and cp["powerSource"] == "DCGMPower"
    # 8 x 350 W = 2.8 kW -> 2.8 x 1.5 x 0.10 = 0.42/h
    assert cp["currentPowerDrawWatts"] == 2800 and D(str(cp["electricityCostPerHour"])) == D("0.42")


@pytest.mark.usefixtures("installed")
def test_two_reports_on_one_profile_each_account_their_scope(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    ns_a, ns_b = f"{namespace}-a", f"{namespace}-b"
    ip_a, ip_b = new_ip(), new_ip()
    w.inference_pod("a", ns_a, ip_a, "ma")
    w.inference_pod("b", ns_b, ip_b, "mb")
    create(kube, "usagereports", namespace, "team-a", {"costProfileRef": "h100", "namespaces": [ns_a]})
    create(
        kube,
        "usagereports",
        namespace,
        "both",
        {"costProfileRef": "h100", "namespaces": [ns_a, ns_b], "schedule": "monthly"},
    )
    sim.write(ip_a, 8000, metricsgen.vllm("ma", 0, 0))
    sim.write(ip_b, 8000, metricsgen.vllm("mb", 0, 0))
    reconcile(namespace, T0)
    sim.write(ip_a, 8000, metricsgen.vllm("ma", 300, 100))
    sim.write(ip_b, 8000, metricsgen.vllm("mb", 100, 0))
    out = reconcile(namespace, T1)
    assert "endpoints: 2 scraped" in out["stdout"]  # the shared pod is fetched once
    a = status_of(kube, "usagereports", namespace, "team-a")
    both = status_of(kube, "usagereports", namespace, "both")
    assert [(m["model"], m["inputTokens"], m["outputTokens"]) for m in a["byModel"]] == [("ma", 300, 100)]
    assert both["period"] == "2026-04" and (both["inputTokens"], both["outputTokens"]) == (400, 100)
    # TDP fallback C = 9.059178; in "both", ma has 400 of 500 weighted tokens: 7.247342
    assert D(str(a["estimatedCostUSD"])) == D("9.059178")
    assert {m["model"]: D(str(m["estimatedCostUSD"])) for m in both["byModel"]} == {
        "ma": D("7.247342"),
        "mb": D("1.811836"),
    }


@pytest.mark.usefixtures("installed")
def test_dry_run_writes_nothing(kube: KubeClient, sim: Sim, namespace: str) -> None:
    new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", worked_profile())
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    out = reconcile(namespace, T0, "--dry-run")
    assert "dry run: nothing written" in out["stdout"] and "baseline taken" in out["stdout"]
    assert status_of(kube, "usagereports", namespace, "daily") == {}
    assert status_of(kube, "costprofiles", namespace, "h100") == {}


@pytest.mark.usefixtures("installed")
def test_watch_stops_cleanly_on_sigterm(kube: KubeClient, sim: Sim, namespace: str) -> None:
    new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", worked_profile())
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    proc = subprocess.Popen(
        ["kubectl", "infercost", "reconcile", "-n", namespace, "--watch", "--interval", "1s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "accountingSince" not in status_of(kube, "usagereports", namespace, "daily"):
        time.sleep(0.2)
    time.sleep(2.5)  # at least one more pass
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    passes = [line for line in out.splitlines() if " reports 1 profiles 1 endpoints " in line]
    assert len(passes) >= 2, out  # watch mode: one compact line per pass
    assert "stopping after the current pass" in err
    st = status_of(kube, "usagereports", namespace, "daily")
    assert st["checkpoint"]["time"] >= st["accountingSince"]


@pytest.mark.usefixtures("installed")
def test_invalid_object_is_reported_and_others_still_accounted(
    kube: KubeClient, sim: Sim, namespace: str
) -> None:
    new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "h100", worked_profile())
    create(kube, "usagereports", namespace, "good", {"costProfileRef": "h100", "namespaces": [namespace]})
    create(kube, "usagereports", namespace, "orphan", {"costProfileRef": "missing", "namespaces": [namespace]})
    create(kube, "usagereports", namespace, "badzone", {"costProfileRef": "h100", "timeZone": "Mars/Olympus"})
    out = run_cli("reconcile", "-n", namespace, "--now", T0)
    assert out.returncode == 0, out.stderr
    assert (
        f"UsageReport {namespace}/orphan: spec.costProfileRef: CostProfile {namespace}/missing not found" in out.stderr
    )
    assert "unknown time zone 'Mars/Olympus'" in out.stderr
    assert "accountingSince" in status_of(kube, "usagereports", namespace, "good")

"""From the Go InferCost operator: its CRDs refuse a reconcile, `install` upgrades them in place,
the seed samples created under them keep working and get the Go operator's five status fields."""

from __future__ import annotations

import subprocess
import time
from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.simpod import make_node, make_pod

from .conftest import REPO, NewIp, Sim, run_cli
from .world import check_invariants, create, status_of

GO_CRDS = REPO / "tests" / "fixtures" / "crds" / "infercost-go-v0.4.0"


def _kubectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, check=False)


@pytest.mark.usefixtures("installed")
def test_go_operator_crds_upgrade_in_place(kube: KubeClient, sim: Sim, new_ip: NewIp) -> None:
    replaced = _kubectl("replace", "-f", str(GO_CRDS))  # the cluster as the Go operator left it
    assert replaced.returncode == 0, replaced.stderr
    time.sleep(2)  # the API server picks up the replaced schemas
    try:
        applied = _kubectl("apply", "-f", str(REPO / "samples"))  # a fresh user's quick start, namespaces included
        assert applied.returncode == 0, applied.stderr
        # the Go CRDs accept pueFactor 0, ours do not: an object created then must say so after the upgrade
        legacy = {
            "hardware": {"gpuModel": "L4", "gpuCount": 1, "purchasePriceUSD": 2500, "amortizationYears": 3},
            "electricity": {"ratePerKWh": 0.1, "pueFactor": 0},
        }
        create(kube, "costprofiles", "engineering", "legacy", legacy)
        refused = run_cli("reconcile", "-n", "engineering", "--now", "2026-04-20T10:00:00Z")
        assert refused.returncode != 0
        errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "run `kubectl infercost install`" in errors[0], refused.stderr
    finally:
        upgraded = run_cli("install")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "usagereports.finops.infercost.ai configured" in upgraded.stdout
    time.sleep(2)

    make_node(kube, "h100-node-01", {"kubernetes.io/hostname": "h100-node-01"}, 8)
    ip = new_ip()
    make_pod(kube, "vllm", "engineering", ip, node="h100-node-01", labels={"infercost.ai/model": "llama"}, gpus=4)
    sim.write(ip, 8000, metricsgen.vllm("llama", 0, 0))
    first = run_cli("reconcile", "-n", "engineering", "--now", "2026-04-20T10:00:00Z")
    assert first.returncode == 0, first.stderr
    sim.write(ip, 8000, metricsgen.vllm("llama", 1_000, 0))
    second = run_cli("reconcile", "-n", "engineering", "--now", "2026-04-20T11:00:00Z")
    assert second.returncode == 0, second.stderr
    st = status_of(kube, "usagereports", "engineering", "engineering-daily")
    check_invariants(st)
    assert "not ready: costprofile engineering/legacy: InvalidSpec: spec.electricity.pueFactor:" in second.stdout
    cond = next(
        c for c in status_of(kube, "costprofiles", "engineering", "legacy")["conditions"] if c["type"] == "Ready"
    )
    assert (cond["status"], cond["reason"]) == ("False", "InvalidSpec")
    described = _kubectl("describe", "costprofile", "legacy", "-n", "engineering").stdout
    assert described.count("Warning  InvalidSpec") == 1, described
    # the sample profile for 1 h: 280000/(3 x 8760) = 10.654490 + 280000 x 0.10/8760 = 3.196347 + TDP 700 W x 8
    # = 5.6 kWh x 1.4 x 0.12 = 0.9408 -> C = 14.791637...; the pod holds 4 of 8 GPUs: C/2 = 7.395819, idle 7.395819
    assert [(m["model"], D(str(m["estimatedCostUSD"]))) for m in st["byModel"]] == [("llama", D("7.395819"))]
    assert D(str(st["idleCostUSD"])) == D("7.395819")
    # the Go operator's fields: 4 of 8 GPUs active for the 1 h accounted -> 0.5 h active, 50 %;
    # active energy 5.6 x 0.5 = 2.8 kWh costing 0.9408 x 0.5 = 0.4704 -> 0.4704 / 1,000 tokens x 1e6 = 470.4 $/MTok
    figures = [D(str(st[k])) for k in ("totalHoursInPeriod", "activeHoursInPeriod", "utilizationPercent")]
    assert figures == [D(1), D("0.5"), D(50)]
    assert D(str(st["activeEnergyKWh"])) == D("2.8") and D(str(st["marginalCostPerMillionTokens"])) == D("470.4")
    assert st["checkpoint"]["time"] == "2026-04-20T11:00:00Z"  # no longer pruned
    # the quick start's next step, in a namespace without reports: it says where they are
    elsewhere = run_cli("reconcile", "-n", "default", "--now", "2026-04-20T11:00:00Z")
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "no UsageReports in namespace default; UsageReports are in: engineering (1)" in elsewhere.stdout

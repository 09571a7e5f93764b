"""The roles in deploy/rbac/ are enough, and no more: reconcile, report and export work as users holding
only them; pods/proxy is granted per namespace, and a scrape elsewhere fails naming the permission."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.promhistory import HistoryPrometheus
from testenv.simpod import ensure_namespace

from .conftest import REPO, NewIp, Sim, run_cli
from .identities import bind, user_kubeconfig
from .identities import user as user_subject
from .world import create, new_world, status_of


@pytest.mark.usefixtures("installed")
def test_reconciler_and_viewer_roles_suffice(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
    tmp_path: Path,
) -> None:
    applied = subprocess.run(
        ["kubectl", "apply", "-f", str(REPO / "deploy" / "rbac" / "roles.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    user, viewer = f"rec-{namespace}", f"view-{namespace}"
    as_user_subject = user_subject(user)
    bind(kube, "infercost-reconciler", as_user_subject)
    bind(kube, "infercost-pod-proxy", as_user_subject, namespace)
    bind(kube, "infercost-viewer", user_subject(viewer))
    # An inference server in a namespace where the reconciler holds no pods/proxy.
    elsewhere = f"{namespace}-x"
    ensure_namespace(kube, elsewhere)
    as_user = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "rec", user))}
    as_viewer = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "view", viewer))}

    w = new_world(kube, sim, namespace)
    w.add_exporter(new_ip())
    w.pool_profile()
    ip = new_ip()
    w.inference_pod("vllm", namespace, ip, "llama-3-8b")
    far_ip = new_ip()
    w.inference_pod("vllm", elsewhere, far_ip, "llama-3-8b")
    sim.write(far_ip, 8000, metricsgen.vllm("llama-3-8b", 5, 5))
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace, elsewhere]})
    sim.write(ip, 8000, metricsgen.vllm("llama-3-8b", 0, 0))
    w.set_energy(0)
    first = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T10:00:00Z", env=as_user)
    assert first.returncode == 0, first.stderr
    sim.write(ip, 8000, metricsgen.vllm("llama-3-8b", 600_000, 200_000))
    w.set_energy(1_800_000_000)
    second = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T11:00:00Z", env=as_user)
    assert second.returncode == 0, second.stderr
    assert "1 failed" in second.stdout
    assert (
        f"failed: {elsewhere}/vllm:8000: forbidden: this identity may not get pods/proxy in namespace {elsewhere}"
        in second.stdout
    ), second.stdout
    # the worked example's hour, all on the one model (token mode): 8.819178
    assert D(str(status_of(kube, "usagereports", namespace, "daily")["estimatedCostUSD"])) == D("8.819178")

    exported = run_cli("export", "focus", "-n", namespace, env=as_viewer)
    assert exported.returncode == 0, exported.stderr
    # BilledCost and EffectiveCost are the status's 8.819178; FOCUS rounds the unit price, not the cost:
    # 8.819178 / 0.8 = 11.0239725 -> 11.023972 (half-even), ListCost = ContractedCost = 11.023972 x 0.8 = 8.8191776
    assert exported.stdout.splitlines()[1].startswith("8.819178000000,8.819178000000,8.819177600000,8.819177600000,")
    refused = run_cli("reconcile", "-n", namespace, "--now", "2026-04-20T12:00:00Z", env=as_viewer)
    assert refused.returncode == 4
    assert "forbidden" in refused.stderr.lower()

    # A viewer bound in this namespace alone reads its reports and exports them, namespace labels included.
    local = f"nsview-{namespace}"
    bind(kube, "infercost-viewer", user_subject(local), namespace)
    as_local = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "local", local))}
    kube.merge_patch(f"/api/v1/namespaces/{namespace}", {"metadata": {"labels": {"team": "ml"}}})
    reported = run_cli("report", "-n", namespace, "-o", "json", env=as_local)
    assert reported.returncode == 0, reported.stderr
    [mine] = json.loads(reported.stdout)["usageReports"]
    assert D(str(mine["estimatedCostUSD"])) == D("8.819178")
    tagged = run_cli("export", "focus", "-n", namespace, "--tag-label", "team", "--format", "json", env=as_local)
    assert tagged.returncode == 0, tagged.stderr
    [record] = json.loads(tagged.stdout)["records"]
    assert record["Tags"]["team"] == "ml"
    # Pod labels need list pods, which the viewer role lacks: one warning, namespace labels only, exit 0
    keys = "team,infercost.ai/model"
    tagged = run_cli("export", "focus", "-n", namespace, "--tag-allowlist", keys, "--format", "json", env=as_local)
    assert tagged.returncode == 0, tagged.stderr
    assert tagged.stderr.splitlines() == [
        f"warning: this identity may not list pods in namespace {namespace}; Tags carry namespace labels only"
        " (bind the infercost-viewer-pods ClusterRole, see docs/rbac.md)"
    ]
    [record] = json.loads(tagged.stdout)["records"]
    assert record["Tags"]["team"] == "ml" and "infercost.ai/model" not in record["Tags"]
    # ...and with the add-on bound in this namespace the pod vllm's label is copied too
    bind(kube, "infercost-viewer-pods", user_subject(local), namespace)
    tagged = run_cli("export", "focus", "-n", namespace, "--tag-allowlist", keys, "--format", "json", env=as_local)
    assert tagged.returncode == 0, tagged.stderr
    assert tagged.stderr == ""
    [record] = json.loads(tagged.stdout)["records"]
    assert (record["Tags"]["team"], record["Tags"]["infercost.ai/model"]) == ("ml", "llama-3-8b")
    everywhere = run_cli("report", "-A", "-o", "json", env=as_local)
    assert everywhere.returncode == 4
    assert "cannot list resource" in everywhere.stderr and "at the cluster scope" in everywhere.stderr


T1 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _history(namespace: str, node: str) -> str:
    """An hour of hand-written series, as kube-prometheus would have scraped them (every 30 s from T1 - 5 min).

    prompt tokens: 0 until T1, 250,000 at T1 + 30 min, a restart (50,000 at T1 + 30.5 min), 350,000 at
    T2 = T1 + 1 h -> 250,000 + 50,000 + 300,000 = 600,000 in the hour; generated tokens: 0 until T1, linear
    to 200,000 at T2; energy: 0 until T1, 1,800,000,000 mJ per GPU at T2 (500 W for an hour).
    """
    e1 = int(T1.timestamp())
    ticks = range(-300, 3601, 30)
    pod = f'namespace="{namespace}",pod="vllm",model_name="llama-3-8b"'

    def prompt(t: int) -> int:
        if t <= 0:
            return 0
        if t <= 1800:
            return 250_000 * t // 1800
        return 50_000 + 300_000 * (t - 1830) // 1770

    lines = ["# TYPE vllm:prompt_tokens counter"]
    lines += [f"vllm:prompt_tokens_total{{{pod}}} {prompt(t)} {e1 + t}" for t in ticks]
    lines.append("# TYPE vllm:generation_tokens counter")
    lines += [f"vllm:generation_tokens_total{{{pod}}} {200_000 * max(t, 0) // 3600} {e1 + t}" for t in ticks]
    def energy(t: int) -> int:
        return 500 * 1000 * max(t, 0)

    def power(_: int) -> int:
        return 500

    for family, kind, value in (
        ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", energy),
        ("DCGM_FI_DEV_POWER_USAGE", "gauge", power),
    ):
        lines.append(f"# TYPE {family.removesuffix('_total')} {kind}")
        for g in range(8):
            labels = (
                f'namespace="{namespace}",pod="dcgm-{node}",gpu="{g}",UUID="GPU-{node}-{g}",'
                f'modelName="NVIDIA H100 80GB HBM3",Hostname="{node}"'
            )
            lines += [f"{family}{{{labels}}} {value(t)} {e1 + t}" for t in ticks]
    return "\n".join([*lines, "# EOF", ""])


@pytest.mark.usefixtures("installed")
def test_the_prometheus_source_needs_the_reconciler_role_only(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, tmp_path: Path
) -> None:
    applied = subprocess.run(
        ["kubectl", "apply", "-f", str(REPO / "deploy" / "rbac" / "roles.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    user = f"prom-{namespace}"
    bind(kube, "infercost-reconciler", user_subject(user))  # and no infercost-pod-proxy anywhere
    as_user = {"KUBECONFIG": str(user_kubeconfig(tmp_path / "rec", user))}
    w = new_world(kube, sim, namespace)
    w.add_exporter(new_ip())
    w.pool_profile()
    w.inference_pod("vllm", namespace, new_ip(), "llama-3-8b")
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    prom = HistoryPrometheus(tmp_path / "prom", port=19192)
    prom.start(_history(namespace, w.node))
    try:
        source = ["--metrics-source", "prometheus", "--prometheus-url", prom.url]
        first = run_cli("reconcile", "-n", namespace, "--now", "2026-11-30T10:00:00Z", *source, env=as_user)
        assert first.returncode == 0, first.stderr
        assert "0 failed" in first.stdout, first.stdout
        second = run_cli("reconcile", "-n", namespace, "--now", "2026-11-30T11:00:00Z", *source, env=as_user)
        assert second.returncode == 0, second.stderr
        assert "2 scraped, 0 failed" in second.stdout, second.stdout
    finally:
        prom.stop()
    status = status_of(kube, "usagereports", namespace, "daily")
    # 600,000 prompt tokens through the restart (pod-proxy scrapes at T1 and T2 would see only 350,000)
    assert (status["inputTokens"], status["outputTokens"]) == (600_000, 200_000)
    # the worked example's hour, all on the one model (token mode), as in the pod-proxy test above: 8.819178
    assert D(str(status["estimatedCostUSD"])) == D("8.819178")
    # the same identity cannot scrape at all: it really holds no pods/proxy
    proxied = run_cli("reconcile", "-n", namespace, "--now", "2026-11-30T12:00:00Z", env=as_user)
    assert proxied.returncode == 0, proxied.stderr
    assert f"forbidden: this identity may not get pods/proxy in namespace {namespace}" in proxied.stdout

"""The same simulated world reconciled through pod proxies and through a live Prometheus: equal, pass by pass.

Prometheus scrapes the simulated pods every second, their series labelled ``namespace``/``pod``
as kube-prometheus' PodMonitor relabelling does (static targets: Debian's Prometheus has no
Kubernetes service discovery). Two namespaces hold the same CostProfile and UsageReport over
the world's namespace; one is reconciled with ``--metrics-source proxy``, the other with
``--metrics-source prometheus``, at the same instants. Prometheus is started with a small
``--query.max-samples``, so the passes also go through chunked queries.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.promhistory import HistoryPrometheus
from testenv.simpod import delete_pod, ensure_namespace, make_pod

from .conftest import NewIp, Sim
from .world import World, create, new_world, reconcile, status_of, worked_profile

MODEL = "llama-3.1-8b"


@pytest.fixture
def prom(tmp_path: Path) -> Iterator[HistoryPrometheus]:
    # 50 samples per query at most: the 8 GPUs' 1 s samples outgrow it within seconds, so the DCGM
    # families are answered in chunks (by exporter pod, then halves of the time range)
    server = HistoryPrometheus(tmp_path, port=19191, extra_args=["--query.max-samples=50"])
    yield server
    server.stop()


def _instant() -> str:
    """The next whole second, once it has passed: both sources are asked about the same instant."""
    target = math.ceil(time.time()) + 1
    time.sleep(max(0.0, target - time.time()) + 0.05)
    return datetime.fromtimestamp(target, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _set(w: World, sim: Sim, ip: str, prom: HistoryPrometheus, prompt: int, generated: int, energy: int) -> None:
    sim.write(ip, 8000, metricsgen.vllm(MODEL, prompt, generated))
    w.set_energy(energy)
    prom.wait_for(f'vllm:prompt_tokens_total{{namespace="{w.namespace}"}}', [D(prompt)])
    prom.wait_for(f'vllm:generation_tokens_total{{namespace="{w.namespace}"}}', [D(generated)])
    prom.wait_for(f'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{namespace="{w.namespace}"}}', [D(energy)] * 8)


def _read_at_dropped(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checkpoint entries without ``observedAt`` (when each reconcile process read: its own wall clock)
    and without the series' ``startedAt`` (the pod proxy reads vLLM's _created samples; Prometheus keeps
    those as series of their own, which the Prometheus source does not ask for)."""
    kept = [{k: v for k, v in e.items() if k != "observedAt"} for e in entries]
    for entry in kept:
        if "series" in entry:
            entry["series"] = [{k: v for k, v in s.items() if k != "startedAt"} for s in entry["series"]]
    return kept


def _accounted(status: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in status.items() if k not in ("conditions", "lastUpdated")}
    if "checkpoint" in kept:
        checkpoint = kept["checkpoint"]
        kept["checkpoint"] = {
            **checkpoint,
            "pods": _read_at_dropped(checkpoint.get("pods", [])),
            "gpus": _read_at_dropped(checkpoint.get("gpus", [])),
        }
    return kept


@pytest.mark.usefixtures("installed")
def test_proxy_and_prometheus_agree_pass_by_pass(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, prom: HistoryPrometheus
) -> None:
    w = new_world(kube, sim, namespace)
    exporter_ip, pod_ip = new_ip(), new_ip()
    w.add_exporter(exporter_ip)
    w.inference_pod("vllm-0", namespace, pod_ip, MODEL)
    prom.start_live([(f"{pod_ip}:8000", namespace, "vllm-0")], [(f"{exporter_ip}:9400", namespace, f"dcgm-{w.node}")])
    live = prom
    by_source = {"proxy": f"{namespace}-px", "prometheus": f"{namespace}-pm"}
    for ns in by_source.values():
        ensure_namespace(kube, ns)
        create(
            kube, "costprofiles", ns, "h100", {**worked_profile(), "nodeSelector": {"infercost.test/pool": namespace}}
        )
        create(kube, "usagereports", ns, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})

    def both_passes() -> dict[str, dict[str, Any]]:
        now = _instant()
        reconcile(by_source["proxy"], now, "-q")
        reconcile(by_source["prometheus"], now, "-q", "--metrics-source", "prometheus", "--prometheus-url", live.url)
        return {src: status_of(kube, "usagereports", ns, "daily") for src, ns in by_source.items()}

    # pass 0: baseline at 1,000 prompt / 100 generated tokens, 1,000,000 mJ on each of 8 GPUs
    _set(w, sim, pod_ip, live, 1_000, 100, 1_000_000)
    first = both_passes()
    assert _accounted(first["proxy"]) == _accounted(first["prometheus"])

    # pass 1: +600 prompt, +60 generated; each GPU +360,000 mJ
    _set(w, sim, pod_ip, live, 1_600, 160, 1_360_000)
    second = both_passes()
    assert (second["prometheus"]["inputTokens"], second["prometheus"]["outputTokens"]) == (600, 60)
    assert D(str(second["prometheus"]["estimatedCostUSD"])) > 0
    assert _accounted(second["proxy"]) == _accounted(second["prometheus"])

    # pass 2: the server restarted (counters reset to 50 / 5: all new) and so did the exporter (energy
    # dropped: the interval falls back to power draw) -> 600 + 50 = 650 prompt, 60 + 5 = 65 generated
    _set(w, sim, pod_ip, live, 50, 5, 10_000)
    third = both_passes()
    assert (third["prometheus"]["inputTokens"], third["prometheus"]["outputTokens"]) == (650, 65)
    assert _accounted(third["proxy"]) == _accounted(third["prometheus"])
    # the checkpoints name the same series: a report can switch sources without counting anything twice
    assert _read_at_dropped(third["proxy"]["checkpoint"]["pods"]) == _read_at_dropped(
        third["prometheus"]["checkpoint"]["pods"]
    )
    [old_uid] = [p["uid"] for p in third["prometheus"]["checkpoint"]["pods"]]

    # pass 3: the pod is deleted and created again under the same name (a new UID), its counters
    # starting over: the old pod's last samples (50 / 5) are older than the new pod's start and are
    # not its own; the new pod counts from zero -> 40 prompt, 4 generated; each GPU +90,000 mJ
    delete_pod(kube, "vllm-0", namespace)
    sim.path(pod_ip, 8000).unlink()
    live.wait_for('up{job="inference"}', [D(0)])
    started = math.ceil(time.time())  # after the old pod's last sample
    time.sleep(max(0.0, started - time.time()) + 0.05)
    make_pod(
        kube,
        "vllm-0",
        namespace,
        pod_ip,
        node=w.node,
        labels={"infercost.ai/model": MODEL},
        started=datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    _set(w, sim, pod_ip, live, 40, 4, 100_000)
    fourth = both_passes()
    assert (fourth["prometheus"]["inputTokens"], fourth["prometheus"]["outputTokens"]) == (690, 69)
    assert _accounted(fourth["proxy"]) == _accounted(fourth["prometheus"])
    [new_uid] = [p["uid"] for p in fourth["prometheus"]["checkpoint"]["pods"]]
    assert new_uid != old_uid
    assert _read_at_dropped(fourth["proxy"]["checkpoint"]["pods"]) == _read_at_dropped(
        fourth["prometheus"]["checkpoint"]["pods"]
    )
    # the DCGM families did not fit in one query: 4 passes, more queries than that
    energy = [q for q in live.logged_queries() if q.startswith("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{") and "[" in q]
    assert len(energy) > 4, energy

"""Build a simulated GPU world for a test: a node pool, a DCGM exporter, inference pods, metric files."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from testenv import metricsgen
from testenv.simpod import GROUP as GROUP  # the tests take these from here, with the world
from testenv.simpod import create as create
from testenv.simpod import make_node, make_pod

from .conftest import Sim, run_cli

STARTED = "2026-04-19T00:00:00Z"


def create_with_status(
    kube: KubeClient, plural: str, namespace: str, name: str, spec: dict[str, Any], status: dict[str, Any]
) -> None:
    """An object with a status: POST it (the API server drops a status there), then merge-patch ``/status``."""
    create(kube, plural, namespace, name, spec)
    kube.merge_patch(f"{GROUP}/namespaces/{namespace}/{plural}/{name}/status", {"status": status})


def status_of(kube: KubeClient, plural: str, namespace: str, name: str) -> dict[str, Any]:
    obj = kube.get(f"{GROUP}/namespaces/{namespace}/{plural}/{name}")
    return dict(obj.get("status") or {})


def worked_profile(**hardware: Any) -> dict[str, Any]:
    """The issue's worked example: 8 GPUs, $240,000, 4 years, 5 %/year, 700 W TDP, $0.10/kWh, PUE 1.5."""
    hw = {
        "gpuModel": "NVIDIA H100 80GB HBM3",
        "gpuCount": 8,
        "purchasePriceUSD": 240000,
        "amortizationYears": 4,
        "maintenancePercentPerYear": 0.05,
        "tdpWatts": 700,
        **hardware,
    }
    return {"hardware": hw, "electricity": {"ratePerKWh": 0.10, "pueFactor": 1.5}}


@dataclass
class World:
    kube: KubeClient
    sim: Sim
    namespace: str
    node: str
    exporter_ip: str | None = None
    gpus: list[metricsgen.Gpu] = field(default_factory=list)

    def add_exporter(self, ip: str, gpu_count: int = 8) -> None:
        self.exporter_ip = ip
        make_pod(
            self.kube,
            f"dcgm-{self.node}",
            self.namespace,
            ip,
            node=self.node,
            labels={"app": "nvidia-dcgm-exporter"},
            started=STARTED,
        )
        self.gpus = [metricsgen.Gpu(i, f"GPU-{self.node}-{i}", 500.0, 0) for i in range(gpu_count)]
        self.write_dcgm()

    def write_dcgm(self) -> None:
        assert self.exporter_ip is not None
        self.sim.write(self.exporter_ip, 9400, metricsgen.dcgm(self.node, "NVIDIA H100 80GB HBM3", self.gpus))

    def set_energy(self, energy_mj_each: int, power_w: float = 500.0) -> None:
        self.gpus = [metricsgen.Gpu(g.index, g.uuid, power_w, energy_mj_each, g.pod, g.namespace) for g in self.gpus]
        self.write_dcgm()

    def inference_pod(
        self,
        name: str,
        namespace: str,
        ip: str,
        model: str,
        *,
        backend: str | None = None,
        gpus: int = 0,
        labels: dict[str, str] | None = None,
    ) -> None:
        annotations = {"infercost.ai/backend": backend} if backend else {}
        labels = {**(labels or {}), "infercost.ai/model": model}
        make_pod(
            self.kube,
            name,
            namespace,
            ip,
            node=self.node,
            labels=labels,
            annotations=annotations,
            gpus=gpus,
            started=STARTED,
        )

    def pool_profile(self, name: str = "h100") -> None:
        """The worked-example CostProfile, selecting this world's node only."""
        create(
            self.kube,
            "costprofiles",
            self.namespace,
            name,
            {**worked_profile(), "nodeSelector": {"infercost.test/pool": self.namespace}},
        )


def new_world(kube: KubeClient, sim: Sim, namespace: str) -> World:
    node = f"gpu-{namespace}"
    make_node(kube, node, {"infercost.test/pool": namespace}, 8)
    return World(kube, sim, namespace, node)


def reconcile(namespace: str, now: str, *extra: str) -> dict[str, Any]:
    """One pass through the real CLI; afterwards every report of the namespace keeps docs/accounting.md's invariants."""
    out = run_cli("reconcile", "-n", namespace, "--now", now, *extra)
    assert out.returncode == 0, out.stderr + out.stdout
    check_namespace(namespace)
    return {"stdout": out.stdout, "stderr": out.stderr}


def reconcile_together(namespace: str, now: str | None, writers: int, *extra: str) -> list[str]:
    """``writers`` reconcilers at the same instant (None: the wall clock); the invariants afterwards.

    Returns each writer's stdout.
    """
    if writers == 1 and now is not None:
        return [reconcile(namespace, now, *extra)["stdout"]]
    at = ["--now", now] if now is not None else []
    procs = [
        subprocess.Popen(
            ["kubectl", "infercost", "reconcile", "-n", namespace, *at, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for _ in range(writers)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err + out
        outs.append(out)
    check_namespace(namespace)
    return outs


def check_namespace(namespace: str) -> None:
    """docs/accounting.md's invariants on every report of the namespace that the pass accounted.

    A report left Ready=False was refused: its status is still what the user wrote (e.g. a negative cost);
    a repaired history was accounted, so it is checked.
    """
    with KubeClient(load_config()) as kube:
        for obj in kube.list_items(f"{GROUP}/namespaces/{namespace}/usagereports"):
            status = obj.get("status") or {}
            ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)
            if ready is None or ready["status"] != "False" or ready["reason"] == "HistoryRepaired":
                check_invariants(status)


def reconcile_in_parallel(namespace: str, now: str, writers: int) -> None:
    """``writers`` reconcile processes started together at the same instant; each must succeed."""
    reconcile_together(namespace, now, writers, "-q")


def _d(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def check_invariants(status: dict[str, Any]) -> None:
    """Σ byModel + idle = total = Σ byNamespace + idle; tokens likewise; nothing negative; $/1M consistent."""
    for period in [status, *status.get("history", [])]:
        if "estimatedCostUSD" not in period:
            continue
        models, namespaces = period.get("byModel", []), period.get("byNamespace", [])
        idle, total = _d(period.get("idleCostUSD")), _d(period["estimatedCostUSD"])
        assert sum((_d(m["estimatedCostUSD"]) for m in models), Decimal(0)) + idle == total, period
        assert sum((_d(n["estimatedCostUSD"]) for n in namespaces), Decimal(0)) + idle == total, period
        tokens = period.get("inputTokens", 0) + period.get("outputTokens", 0)
        assert sum(m.get("inputTokens", 0) + m.get("outputTokens", 0) for m in models) == tokens
        assert sum(n.get("tokenCount", 0) for n in namespaces) == tokens
        assert all(_d(m["estimatedCostUSD"]) >= 0 for m in models) and idle >= 0 and total >= 0
        expected = (total / tokens * 1_000_000).quantize(Decimal("0.000001")) if tokens else Decimal(0)
        assert _d(period.get("costPerMillionTokens")) == expected, period


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)


def labelled_world(kube: KubeClient, sim: Sim, new_ip: Callable[[], str], namespace: str) -> None:
    """Two pods of llama (``team=ml`` on both, ``app`` vllm-a / vllm-b) in a namespace labelled
    ``cost-center=42``, the worked-example CostProfile (no exporter: TDP fallback) and a daily report
    reconciled from 10:00 to 11:00 on 2026-04-20: 400,000 + 200,000 input and 100,000 + 100,000 output tokens."""
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    kube.merge_patch(f"/api/v1/namespaces/{namespace}", {"metadata": {"labels": {"cost-center": "42"}}})
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    ips = {"vllm-a": new_ip(), "vllm-b": new_ip()}
    for name, ip in ips.items():
        w.inference_pod(name, namespace, ip, "llama", labels={"team": "ml", "app": name})
        sim.write(ip, 8000, metricsgen.vllm("llama", 0, 0))
    reconcile(namespace, "2026-04-20T10:00:00Z")
    sim.write(ips["vllm-a"], 8000, metricsgen.vllm("llama", 400_000, 100_000))
    sim.write(ips["vllm-b"], 8000, metricsgen.vllm("llama", 200_000, 100_000))
    reconcile(namespace, "2026-04-20T11:00:00Z")

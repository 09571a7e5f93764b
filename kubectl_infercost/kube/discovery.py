"""Which pods to scrape: inference servers and dcgm-exporters, from one LIST of each kind (docs/accounting.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import ForbiddenError
from ..models import CostProfileSpec
from .client import JSON, KubeClient
from .resources import NAMESPACES, NODES, PODS, USAGE_REPORTS

MODEL_LABELS = ("infercost.ai/model", "inference.llmkube.dev/model")
DEFAULT_PORTS = {"vllm": 8000, "llamacpp": 8080, "sglang": 30000, "tgi": 80, "triton": 8002, "nim": 8000}
DCGM_SELECTORS = ({"app": "nvidia-dcgm-exporter"}, {"app.kubernetes.io/name": "dcgm-exporter"})
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class Endpoint:
    namespace: str
    pod: str
    port: int
    path: str


@dataclass(frozen=True)
class InferencePod:
    uid: str
    namespace: str
    name: str
    node: str | None
    model: str
    backend: str
    endpoint: Endpoint
    started: datetime | None
    gpu_limit: int


@dataclass(frozen=True)
class ExporterPod:
    namespace: str
    name: str
    node: str
    endpoint: Endpoint


@dataclass
class ClusterView:
    nodes: list[JSON]
    pods: list[JSON]  # Running, with a pod IP: the ones that can be scraped
    pod_uids: frozenset[str] = frozenset()  # every pod that exists, in any phase


def observe(client: KubeClient) -> ClusterView:
    """One LIST of nodes and one of pods (any phase), shared by every profile and report of the pass.

    Pods that exist but are not Running keep their checkpoint entries, so every UID is kept.
    """
    nodes = client.list_items(NODES.collection(), what="list nodes")
    pods = client.list_items(PODS.collection(), what="list pods", keep=_slim_pod)
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running" and p["status"].get("podIP")]
    return ClusterView(nodes, running, frozenset(p["metadata"]["uid"] for p in pods))


_POD_METADATA = ("name", "namespace", "uid", "labels", "annotations", "creationTimestamp")


def _slim_pod(pod: JSON) -> JSON:
    """Only what discovery reads: with 10,000 pods, managed fields, volumes and the like are most of a LIST."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    containers = [
        {"resources": {"limits": (c.get("resources") or {}).get("limits") or {}}} for c in spec.get("containers") or []
    ]
    return {
        "metadata": {k: meta[k] for k in _POD_METADATA if k in meta},
        "spec": {"nodeName": spec.get("nodeName"), "containers": containers},
        "status": {k: status[k] for k in ("phase", "podIP", "startTime") if k in status},
    }


def matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    """matchLabels semantics: every key present with the same value; an empty selector matches all."""
    return all(labels.get(k) == v for k, v in selector.items())


def profile_nodes(view: ClusterView, spec: CostProfileSpec) -> list[str]:
    return sorted(
        n["metadata"]["name"] for n in view.nodes if matches(n["metadata"].get("labels") or {}, spec.node_selector)
    )


def _meta(obj: JSON, key: str) -> dict[str, str]:
    return dict(obj["metadata"].get(key) or {})


def _setting(obj: JSON, key: str) -> str | None:
    return _meta(obj, "annotations").get(key) or _meta(obj, "labels").get(key)


def _started(pod: JSON) -> datetime | None:
    text = (pod.get("status") or {}).get("startTime") or pod["metadata"].get("creationTimestamp")
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _gpu_limit(pod: JSON) -> int:
    total = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        value: Any = ((c.get("resources") or {}).get("limits") or {}).get(GPU_RESOURCE)
        if value is not None:
            try:
                total += int(str(value))
            except ValueError:
                continue
    return total


def inference_pods(view: ClusterView) -> tuple[list[InferencePod], list[str]]:
    """Pods to count tokens from, and one problem line per pod whose settings are unusable."""
    found: list[InferencePod] = []
    problems: list[str] = []
    for pod in view.pods:
        labels = _meta(pod, "labels")
        model = next((labels[k] for k in MODEL_LABELS if labels.get(k)), None)
        if model is None and _setting(pod, "infercost.ai/scrape") != "true":
            continue
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        backend = (_setting(pod, "infercost.ai/backend") or "auto").lower()
        port_text = _setting(pod, "infercost.ai/metrics-port")
        try:
            port = int(port_text) if port_text else DEFAULT_PORTS.get(backend, 8000)
        except ValueError:
            problems.append(f"pod {ns}/{name}: infercost.ai/metrics-port {port_text!r} is not a port number")
            continue
        path = _setting(pod, "infercost.ai/metrics-path") or "/metrics"
        found.append(
            InferencePod(
                uid=pod["metadata"]["uid"],
                namespace=ns,
                name=name,
                node=(pod.get("spec") or {}).get("nodeName"),
                model=model or name,
                backend=backend,
                endpoint=Endpoint(ns, name, port, path if path.startswith("/") else "/" + path),
                started=_started(pod),
                gpu_limit=_gpu_limit(pod),
            )
        )
    return found, problems


def exporter_pods(view: ClusterView, spec: CostProfileSpec, nodes: list[str]) -> list[ExporterPod]:
    selectors = [spec.dcgm.pod_selector] if spec.dcgm.pod_selector else list(DCGM_SELECTORS)
    wanted = set(nodes)
    out = []
    for pod in view.pods:
        node = (pod.get("spec") or {}).get("nodeName")
        ns = pod["metadata"]["namespace"]
        if node not in wanted or (spec.dcgm.namespace and ns != spec.dcgm.namespace):
            continue
        if any(matches(_meta(pod, "labels"), s) for s in selectors):
            name = pod["metadata"]["name"]
            out.append(ExporterPod(ns, name, node, Endpoint(ns, name, spec.dcgm.port, spec.dcgm.path)))
    return sorted(out, key=lambda e: (e.node, e.namespace, e.name))


def namespace_labels(client: KubeClient) -> dict[str, dict[str, str]]:
    """Labels of every namespace (for CostProfile.spec.namespaceSelector)."""
    items = client.list_items(NAMESPACES.collection(), what="list namespaces (a CostProfile has a namespaceSelector)")
    return {n["metadata"]["name"]: dict(n["metadata"].get("labels") or {}) for n in items}


def in_scope(
    pods: list[InferencePod],
    namespaces: list[str],
    nodes: set[str] | None,
    namespace_selector: Mapping[str, str],
    labels_of: Mapping[str, Mapping[str, str]],
) -> list[InferencePod]:
    """A report's pods: in its namespaces (if any), on its profile's nodes (if it selects nodes), and in
    namespaces matching the profile's namespaceSelector (if it has one)."""
    wanted = set(namespaces)
    return [
        p
        for p in pods
        if (not wanted or p.namespace in wanted)
        and (nodes is None or p.node in nodes)
        and (not namespace_selector or matches(labels_of.get(p.namespace, {}), namespace_selector))
    ]


def reports_elsewhere(client: KubeClient) -> dict[str, int]:
    """Namespace -> number of UsageReports, cluster-wide ({} when not allowed to list them all)."""
    try:
        items = client.list_items(USAGE_REPORTS.collection(), what="list usagereports in all namespaces")
    except ForbiddenError:
        return {}
    counts: dict[str, int] = {}
    for item in items:
        ns = item["metadata"]["namespace"]
        counts[ns] = counts.get(ns, 0) + 1
    return counts

"""An in-memory Kubernetes API behind KubeClient's injectable transport, for fast tests of a pass.

It serves what a reconcile pass asks for: lists of nodes, pods and our kinds, single objects, status
PUTs with resourceVersion checks (409 when stale), and pod-proxy GETs answered with metric text.
The integration tier runs the same passes against the real API server.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubectl_infercost.kube.client import KubeClient, RetryPolicy, dumps, loads
from kubectl_infercost.kube.config import ClusterConfig

GROUP = "finops.infercost.ai/v1alpha1"
KINDS = {"costprofiles": "CostProfile", "usagereports": "UsageReport", "tokenbudgets": "TokenBudget"}


class Reply:
    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.status, self._body, self.headers = status, body, {"Content-Type": content_type}
        self._sent = False

    def read(self) -> bytes:
        return self._body

    def read1(self, _n: int) -> bytes:
        if self._sent:
            return b""
        self._sent = True
        return self._body

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        pass


def _status(code: int, message: str) -> Reply:
    return Reply(code, json.dumps({"kind": "Status", "code": code, "message": message}).encode())


@dataclass
class FakeApi:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (plural, ns, name)
    metrics: dict[tuple[str, str, int], str] = field(default_factory=dict)  # (ns, pod, port) -> text
    conflicts: int = 0  # the next N status writes answer 409 (another writer won)
    writes: list[str] = field(default_factory=list)
    version: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)  # a pass writes several objects at once

    def client(self) -> KubeClient:
        config = ClusterConfig(server="https://fake:6443", context="fake")
        return KubeClient(config, transport=self, retry=RetryPolicy(attempts=2, base=0.0, cap=0.0))

    def node(self, name: str, labels: dict[str, str]) -> None:
        self.nodes.append({"metadata": {"name": name, "labels": labels}})

    def pod(self, ns: str, name: str, node: str, ip: str, labels: dict[str, str], gpus: int = 0) -> None:
        limits = {"nvidia.com/gpu": str(gpus)} if gpus else {}
        self.pods.append(
            {
                "metadata": {"name": name, "namespace": ns, "uid": f"uid-{ns}-{name}", "labels": labels},
                "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"limits": limits}}]},
                "status": {"phase": "Running", "podIP": ip, "startTime": "2026-04-19T00:00:00Z"},
            }
        )

    def create(self, plural: str, ns: str, name: str, spec: dict[str, Any]) -> None:
        self.version += 1
        self.objects[(plural, ns, name)] = {
            "apiVersion": GROUP,
            "kind": KINDS[plural],
            "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}", "resourceVersion": str(self.version)},
            "spec": spec,
        }

    def status(self, plural: str, ns: str, name: str) -> dict[str, Any]:
        return dict(self.objects[(plural, ns, name)].get("status") or {})

    def __call__(self, method: str, url: str, *, body: bytes | None = None, **_: Any) -> Reply:
        with self.lock:
            return self._serve(method, url, body)

    def _serve(self, method: str, url: str, body: bytes | None) -> Reply:
        parts = urlsplit(url)
        path, query = parts.path, parse_qs(parts.query)
        if method == "GET" and path == "/api/v1/nodes":
            return self._list(self.nodes)
        if method == "GET" and path == "/api/v1/pods":
            return self._list([p for p in self.pods if p["status"]["phase"] == "Running"] if query else self.pods)
        if m := re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/:]+):(\d+)/proxy(/.*)", path):
            text = self.metrics.get((m.group(1), m.group(2), int(m.group(3))))
            return Reply(200, text.encode(), "text/plain") if text is not None else Reply(404, b"404 page not found")
        if re.fullmatch(r"/api/v1/namespaces/[^/]+/configmaps/[^/]+", path):
            return _status(404, "configmaps not found")
        m = re.fullmatch(rf"/apis/{GROUP}(?:/namespaces/([^/]+))?/([a-z]+)(?:/([^/]+))?(/status)?", path)
        if m is None:
            return _status(404, f"no route for {method} {path}")
        ns, plural, name, sub = m.groups()
        if name is None:
            return self._list([o for (p, n, _), o in self.objects.items() if p == plural and (ns is None or n == ns)])
        obj = self.objects.get((plural, ns, name))
        if obj is None:
            return _status(404, f'{plural} "{name}" not found')
        if method == "GET":
            return Reply(200, dumps(obj))
        if method == "PUT" and sub:
            return self._put_status(plural, ns, name, obj, loads(body or b"{}"))
        return _status(405, "method not allowed")

    def _list(self, items: list[dict[str, Any]]) -> Reply:
        return Reply(200, dumps({"kind": "List", "metadata": {}, "items": items}))

    def _put_status(self, plural: str, ns: str, name: str, obj: dict[str, Any], new: dict[str, Any]) -> Reply:
        if self.conflicts:
            self.conflicts -= 1
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)  # someone else wrote
            return _status(409, "the object has been modified; please apply your changes to the latest version")
        if new["metadata"].get("resourceVersion") != obj["metadata"]["resourceVersion"]:
            return _status(409, "the object has been modified")
        self.version += 1
        obj["status"] = new.get("status")
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.writes.append(f"{plural}/{ns}/{name}")
        return Reply(200, dumps(obj))

"""Create simulated Nodes and Running Pods (status set through the status subresource).

sim-pod node NAME [--label K=V]... [--gpus N]
sim-pod pod NAME -n NS --ip 192.0.2.X [--node NODE] [--label K=V]... [--annotation K=V]...
            [--gpus N] [--started RFC3339] [--phase Running]
sim-pod delete NAME -n NS
sim-pod apply FILE        (YAML list of {kind: node|pod, name, ...} with the same keys)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Iterable
from typing import Any

import yaml

from kubectl_infercost.errors import ConflictError, InferCostError, NotFoundError
from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config

GPU = "nvidia.com/gpu"
GROUP = "/apis/finops.infercost.ai/v1alpha1"
_KINDS = {"costprofiles": "CostProfile", "usagereports": "UsageReport", "tokenbudgets": "TokenBudget"}


def create(client: KubeClient, plural: str, namespace: str, name: str, spec: dict[str, Any]) -> Any:
    """POST one of the plugin's objects (``costprofiles``, ``usagereports``, ``tokenbudgets``) with ``spec``."""
    kind = _KINDS[plural]
    body = {"apiVersion": "finops.infercost.ai/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}
    return client.request("POST", f"{GROUP}/namespaces/{namespace}/{plural}", body=body)


def _pairs(items: Iterable[str] | dict[str, str] | None) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"sim-pod: expected K=V, got {item!r}")
        out[key] = value
    return out


def ensure_namespace(client: KubeClient, name: str) -> None:
    with contextlib.suppress(ConflictError):
        client.request(
            "POST", "/api/v1/namespaces", body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )


def make_node(client: KubeClient, name: str, labels: dict[str, str], gpus: int) -> None:
    labels = {"kubernetes.io/hostname": name, **labels}
    body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}
    try:
        client.request("POST", "/api/v1/nodes", body=body)
    except ConflictError:
        client.merge_patch(f"/api/v1/nodes/{name}", {"metadata": {"labels": labels}})
    capacity = {"cpu": "64", "memory": "512Gi", "pods": "500"}
    if gpus:
        capacity[GPU] = str(gpus)
    client.merge_patch(
        f"/api/v1/nodes/{name}/status",
        {
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "conditions": [{"type": "Ready", "status": "True", "reason": "Simulated", "message": "simulated node"}],
            }
        },
    )


def make_pod(
    client: KubeClient,
    name: str,
    namespace: str,
    ip: str,
    *,
    node: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    gpus: int = 0,
    started: str | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    ensure_namespace(client, namespace)
    container: dict[str, Any] = {"name": "server", "image": "simulated.invalid/inference:1"}
    if gpus:
        container["resources"] = {"limits": {GPU: str(gpus)}}
    spec: dict[str, Any] = {"containers": [container]}
    if node:
        spec["nodeName"] = node
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}, "annotations": annotations or {}},
        "spec": spec,
    }
    base = f"/api/v1/namespaces/{namespace}/pods"
    pod = client.request("POST", base, body=body)
    start = started or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}], "startTime": start, "hostIP": "192.0.2.1"}
    result: dict[str, Any] = client.merge_patch(f"{base}/{name}/status", {"status": status})
    return result or pod


def delete_pod(client: KubeClient, name: str, namespace: str) -> None:
    with contextlib.suppress(NotFoundError):
        client.delete(f"/api/v1/namespaces/{namespace}/pods/{name}?gracePeriodSeconds=0")


def apply_file(client: KubeClient, path: str) -> int:
    with open(path) as fh:
        items = yaml.safe_load(fh) or []
    for item in items:
        kind = item.get("kind")
        if kind == "node":
            make_node(client, item["name"], _pairs(item.get("labels")), int(item.get("gpus", 0)))
        elif kind == "pod":
            make_pod(
                client,
                item["name"],
                item["namespace"],
                item["ip"],
                node=item.get("node"),
                labels=_pairs(item.get("labels")),
                annotations=_pairs(item.get("annotations")),
                gpus=int(item.get("gpus", 0)),
                started=item.get("started"),
                phase=item.get("phase", "Running"),
            )
        else:
            raise SystemExit(f"sim-pod: unknown kind {kind!r} in {path}")
    return len(items)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sim-pod", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kubeconfig")
    sub = parser.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("node", help="create or update a Node")
    n.add_argument("name")
    n.add_argument("--label", action="append", default=[])
    n.add_argument("--gpus", type=int, default=0)
    p = sub.add_parser("pod", help="create a Running Pod with an IP")
    p.add_argument("name")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("--ip", required=True)
    p.add_argument("--node")
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--annotation", action="append", default=[])
    p.add_argument("--gpus", type=int, default=0)
    p.add_argument("--started", help="status.startTime (RFC 3339; default now)")
    p.add_argument("--phase", default="Running")
    d = sub.add_parser("delete", help="delete a Pod")
    d.add_argument("name")
    d.add_argument("-n", "--namespace", default="default")
    a = sub.add_parser("apply", help="create Nodes and Pods listed in a YAML file")
    a.add_argument("file")
    args = parser.parse_args(argv)
    try:
        with KubeClient(load_config(args.kubeconfig)) as client:
            if args.cmd == "node":
                make_node(client, args.name, _pairs(args.label), args.gpus)
                print(f"node/{args.name} ready")
            elif args.cmd == "pod":
                make_pod(
                    client,
                    args.name,
                    args.namespace,
                    args.ip,
                    node=args.node,
                    labels=_pairs(args.label),
                    annotations=_pairs(args.annotation),
                    gpus=args.gpus,
                    started=args.started,
                    phase=args.phase,
                )
                print(f"pod/{args.name} running at {args.ip} in {args.namespace}")
            elif args.cmd == "delete":
                delete_pod(client, args.name, args.namespace)
                print(f"pod/{args.name} deleted")
            else:
                print(f"{apply_file(client, args.file)} objects applied")
    except InferCostError as exc:
        print(f"sim-pod: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

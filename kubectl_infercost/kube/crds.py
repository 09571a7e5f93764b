"""Install and uninstall our CustomResourceDefinitions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from ..errors import ApiError, ForbiddenError, InferCostError, NotFoundError
from .client import JSON, KubeClient
from .resources import CRDS, INFERCOST_RESOURCES, Resource


def load_manifests() -> list[JSON]:
    """The three CRDs shipped inside the package (crds/ at the repository root)."""
    folder = resources.files("kubectl_infercost") / "crds"
    docs: list[JSON] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            docs.append(yaml.safe_load(entry.read_text()))
    if len(docs) != len(INFERCOST_RESOURCES):
        raise InferCostError(f"packaged CRDs are incomplete: found {len(docs)} of {len(INFERCOST_RESOURCES)}")
    return docs


@dataclass
class CrdResult:
    name: str
    action: str  # created | configured | unchanged | deleted | absent


def _established(obj: JSON) -> bool:
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def install(
    client: KubeClient,
    *,
    timeout: float = 60.0,
    progress: Callable[[str], None] = lambda _: None,
) -> list[CrdResult]:
    results: list[CrdResult] = []
    for manifest in load_manifests():
        name = manifest["metadata"]["name"]
        what = f"customresourcedefinition {name}"
        try:
            before: JSON | None = client.get(CRDS.item(name), what=what)
        except NotFoundError:
            before = None
        after = client.apply(CRDS.item(name), manifest, what=what)
        if before is None:
            action = "created"
        elif before["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]:
            action = "unchanged"
        else:
            action = "configured"
        results.append(CrdResult(name, action))
        progress(f"customresourcedefinition.apiextensions.k8s.io/{name} {action}")
    deadline = time.monotonic() + timeout
    for result in results:
        while True:
            obj = client.get(CRDS.item(result.name), what=f"customresourcedefinition {result.name}")
            if _established(obj):
                break
            if time.monotonic() > deadline:
                raise ApiError(f"customresourcedefinition {result.name} not Established after {timeout:g}s")
            time.sleep(0.1)
    return results


def count_objects(client: KubeClient) -> dict[Resource, int]:
    """How many objects of each of our kinds exist (a missing CRD counts 0)."""
    counts: dict[Resource, int] = {}
    for res in INFERCOST_RESOURCES:
        try:
            counts[res] = len(client.list_items(res.collection(), what=f"list {res.plural}"))
        except NotFoundError:
            counts[res] = 0
    return counts


def uninstall(
    client: KubeClient,
    *,
    timeout: float = 120.0,
    progress: Callable[[str], None] = lambda _: None,
) -> list[CrdResult]:
    results: list[CrdResult] = []
    for manifest in load_manifests():
        name = manifest["metadata"]["name"]
        try:
            client.delete(CRDS.item(name), what=f"customresourcedefinition {name}")
            results.append(CrdResult(name, "deleted"))
        except NotFoundError:
            results.append(CrdResult(name, "absent"))
    deadline = time.monotonic() + timeout
    for result in results:
        if result.action != "deleted":
            progress(f"customresourcedefinition.apiextensions.k8s.io/{result.name} not found")
            continue
        while True:
            try:
                client.get(CRDS.item(result.name))
            except NotFoundError:
                break
            if time.monotonic() > deadline:
                raise ApiError(f"customresourcedefinition {result.name} still present after {timeout:g}s")
            time.sleep(0.2)
        progress(f"customresourcedefinition.apiextensions.k8s.io/{result.name} deleted")
    return results


def manifests_yaml() -> str:
    docs: list[Any] = load_manifests()
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


def ensure_ours(client: KubeClient) -> None:
    """Refuse to reconcile against CRDs that would prune our status (e.g. the Go operator's).

    Without permission to read CRDs the check is skipped: the API server still answers the pass.
    """
    name = "usagereports.finops.infercost.ai"
    try:
        crd = client.get(CRDS.item(name), what=f"customresourcedefinition {name}")
    except (ForbiddenError, NotFoundError):
        return
    for version in (crd.get("spec") or {}).get("versions") or []:
        schema = ((version.get("schema") or {}).get("openAPIV3Schema") or {}).get("properties") or {}
        status = (schema.get("status") or {}).get("properties") or {}
        if version.get("storage") and "checkpoint" not in status:
            raise InferCostError(
                f"the installed CRD {name} is not kubectl-infercost's: it has no status.checkpoint, so the API "
                "server would drop the accounting state on every write; run `kubectl infercost install` to "
                "upgrade the CRDs in place (existing objects keep working)"
            )

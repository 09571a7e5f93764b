"""The series the shipped kube-state-metrics config (deploy/kube-state-metrics/) exports for an object.

Labels are resolved from the config's own paths, so promtool tests feed rules exactly the
shape kube-state-metrics produces; the end-to-end test checks this against the real binary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "deploy" / "kube-state-metrics" / "custom-resource-state.yaml"


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    return config


def resource(kind: str) -> dict[str, Any]:
    for res in load_config()["spec"]["resources"]:
        if res["groupVersionKind"]["kind"] == kind:
            return dict(res)
    raise KeyError(kind)


def _at(obj: Any, path: list[str]) -> Any:
    for part in path:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def labels(obj: dict[str, Any], metric: str) -> dict[str, str]:
    """The label set of ``<prefix>_<metric>`` for a scalar-valued metric of ``obj``."""
    kind = obj["kind"]
    res = resource(kind)
    gvk = res["groupVersionKind"]
    out = {
        "customresource_group": gvk["group"],
        "customresource_version": gvk["version"],
        "customresource_kind": kind,
    }
    for name, path in res.get("labelsFromPath", {}).items():
        value = _at(obj, path)
        if value is not None:
            out[name] = str(value)
    names = [m["name"] for m in res["metrics"]]
    if metric not in names:
        raise KeyError(f"{kind} has no metric {metric} in {CONFIG.name}: {names}")
    return out


def name(kind: str, metric: str) -> str:
    return f"{resource(kind)['metricNamePrefix']}_{metric}"


def series(obj: dict[str, Any], metric: str) -> str:
    """promtool's series notation: name{label="value",...}."""
    body = ",".join(f'{k}="{v}"' for k, v in sorted(labels(obj, metric).items()))
    return f"{name(obj['kind'], metric)}{{{body}}}"

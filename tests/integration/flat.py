"""A CostProfile whose money is hand-derivable at any instant: $3.60 an hour, $0.001 a second.

$31,536 over 1 year of 8,760 hours = 31,536 / 8,760 = $3.60/h; no maintenance, electricity at $0/kWh.
Passes happen on whole seconds, so every interval costs 0.001 x its seconds, exactly, at 6 dp.
With every inference pod holding one of the profile's GPUs (ownership), each pod's share is that cost
over ``gpus`` -- exact too when ``gpus`` divides 1,000 (0.001 / 8 = 0.000125, 0.001 / 200 = 0.000005).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .world import World, create, new_world

if TYPE_CHECKING:
    from kubectl_infercost.kube.client import KubeClient

    from .conftest import Sim

PER_SECOND = Decimal("0.001")


def flat_profile(gpus: int, pool: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "hardware": {
            "gpuModel": "NVIDIA L4",
            "gpuCount": gpus,
            "purchasePriceUSD": 31536,
            "amortizationYears": 1,
            "tdpWatts": 72,
        },
        "electricity": {"ratePerKWh": 0},
    }
    if pool:
        spec["nodeSelector"] = pool
    return spec


def flat_world(kube: KubeClient, sim: Sim, namespace: str, gpus: int, **report: Any) -> World:
    """The test's node pool, a flat CostProfile ``flat`` over it and a UsageReport ``daily`` of the namespace."""
    world = new_world(kube, sim, namespace)
    create(kube, "costprofiles", namespace, "flat", flat_profile(gpus, {"infercost.test/pool": namespace}))
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "flat", "namespaces": [namespace], **report})
    return world


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def accounted_seconds(status: dict[str, Any]) -> int:
    """Seconds from the baseline to the checkpoint: what a flat profile must have charged for."""
    span = instant(status["checkpoint"]["time"]) - instant(status["accountingSince"])
    return int(span.total_seconds())


def total_usd(status: dict[str, Any]) -> Decimal:
    """The current period plus every period in history."""
    periods = [status, *status.get("history", [])]
    return sum((Decimal(str(p.get("estimatedCostUSD", 0))) for p in periods), Decimal(0))


def total_tokens(status: dict[str, Any]) -> tuple[int, int]:
    periods = [status, *status.get("history", [])]
    return (sum(int(p.get("inputTokens", 0)) for p in periods), sum(int(p.get("outputTokens", 0)) for p in periods))

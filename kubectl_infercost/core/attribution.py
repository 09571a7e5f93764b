"""Who pays for an interval's cost C: ownership mode or token mode, and what stays idle (docs/accounting.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .deltas import PodDelta
from .money import ZERO

Key = tuple[str, str]  # (namespace, model)


@dataclass
class Share:
    cost: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    gpu_hours: Decimal | None = None  # owned GPU-hours, ownership mode only


@dataclass
class Allocation:
    mode: str  # Ownership | Tokens
    shares: dict[Key, Share] = field(default_factory=dict)
    idle_cost: Decimal = ZERO
    gpu_hours: Decimal = ZERO
    idle_gpu_hours: Decimal = ZERO
    active_gpu_hours: Decimal = ZERO
    oversubscribed: bool = False  # pods claim more GPUs than the profile has

    def share(self, key: Key) -> Share:
        return self.shares.setdefault(key, Share())


def weighted(tokens: tuple[int, int], output_weight: Decimal) -> Decimal:
    return Decimal(tokens[0]) + output_weight * tokens[1]


def attribute(
    deltas: list[PodDelta],
    cost: Decimal,
    hours: Decimal,
    gpu_count: int,
    output_weight: Decimal,
) -> Allocation:
    """Split ``cost`` (exact) over (namespace, model); what nobody owns or uses is idle."""
    ownership = any(d.pod.gpus > 0 for d in deltas)
    alloc = Allocation("Ownership" if ownership else "Tokens", gpu_hours=gpu_count * hours)
    for d in deltas:
        for model, (i, o) in d.tokens.items():
            s = alloc.share((d.pod.namespace, model))
            s.input_tokens += i
            s.output_tokens += o
    if ownership:
        _by_ownership(alloc, deltas, cost, hours, gpu_count, output_weight)
    else:
        _by_tokens(alloc, cost, hours, gpu_count, output_weight)
    return alloc


def _by_ownership(
    alloc: Allocation, deltas: list[PodDelta], cost: Decimal, hours: Decimal, gpu_count: int, weight: Decimal
) -> None:
    claimed = sum(d.pod.gpus for d in deltas)
    denominator = max(gpu_count, claimed)
    alloc.oversubscribed = claimed > gpu_count
    assigned = ZERO
    active_gpus = 0
    for d in deltas:
        if d.pod.gpus == 0:
            continue  # holds no GPU: its tokens ride on the owners' cost
        pod_cost = cost * d.pod.gpus / denominator
        pod_hours = Decimal(d.pod.gpus) * hours * gpu_count / denominator
        assigned += pod_cost
        weights = {m: weighted(t, weight) for m, t in d.tokens.items()}
        total_weight = sum(weights.values(), ZERO)
        if total_weight == 0:
            targets = {d.pod.model: Decimal(1)}  # a pod with no tokens still carries its cost
        else:
            active_gpus += d.pod.gpus
            targets = {m: w / total_weight for m, w in weights.items() if w}
        for model, part in targets.items():
            s = alloc.share((d.pod.namespace, model))
            s.cost += pod_cost * part
            s.gpu_hours = (s.gpu_hours or ZERO) + pod_hours * part
    alloc.idle_cost = cost - assigned
    owned = min(claimed, gpu_count)
    alloc.idle_gpu_hours = (gpu_count - owned) * hours
    alloc.active_gpu_hours = Decimal(min(active_gpus, gpu_count)) * hours * gpu_count / denominator


def _by_tokens(alloc: Allocation, cost: Decimal, hours: Decimal, gpu_count: int, weight: Decimal) -> None:
    weights = {k: weighted((s.input_tokens, s.output_tokens), weight) for k, s in alloc.shares.items()}
    total_weight = sum(weights.values(), ZERO)
    if total_weight == 0:
        alloc.idle_cost = cost
        alloc.idle_gpu_hours = gpu_count * hours
        return
    for key, w in weights.items():
        alloc.shares[key].cost = cost * w / total_weight
    alloc.active_gpu_hours = gpu_count * hours

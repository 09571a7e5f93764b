"""CostProfile status from what the DCGM exporters said: hourly figures and DCGMReachable (docs/accounting.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..models import CostProfileSpec, CostProfileStatus, GpuStatus
from .conditions import set_condition
from .cost import GpuEnergy, hourly_figures
from .money import round6


@dataclass(frozen=True)
class DcgmOutcome:
    """What discovery and scraping found for one profile."""

    nodes: list[str]
    exporters: int  # dcgm-exporter pods on the profile's nodes
    failed: list[str]  # exporters whose scrape failed, with the reason
    gpus: list[GpuEnergy]  # readings of GPUs on the profile's nodes
    models: dict[str, str]  # GPU uuid -> model name
    owners: dict[tuple[str, str], int] = field(default_factory=dict)  # (namespace, pod) -> GPUs (pod mapping)


def profile_status(
    spec: CostProfileSpec, old: CostProfileStatus, dcgm: DcgmOutcome, now: datetime
) -> CostProfileStatus:
    readings = [g for g in dcgm.gpus if (g.power_w is not None and g.power_w > 0) or g.energy_mj]
    hourly = hourly_figures(spec, now, readings)
    source = hourly.power_source
    if readings and all(g.energy_mj is not None for g in readings):
        source = "DCGMEnergy"
    tdp_note = f"TDP fallback {hourly.power_watts:f} W" if source == "TDPFallback" else ""
    if dcgm.exporters == 0:
        state = ("False", "DCGMNotFound", f"no dcgm-exporter pod on the profile's nodes; using {tdp_note}")
    elif len(dcgm.failed) == dcgm.exporters:
        state = (
            "False",
            "DCGMScrapeError",
            f"every dcgm-exporter scrape failed ({'; '.join(dcgm.failed)}); using {tdp_note}",
        )
    elif not readings:
        state = (
            "Unknown",
            "DCGMNoReadings",
            f"{dcgm.exporters} exporter(s) answered with no GPU readings; using {tdp_note}",
        )
    else:
        what = "energy counters" if source == "DCGMEnergy" else "power readings"
        state = ("True", "DCGMHealthy", f"{len(readings)} GPU(s) at {round6(hourly.power_watts):f} W from DCGM {what}")
    conditions = set_condition(old.conditions, "DCGMReachable", *state, now)
    conditions = set_condition(conditions, "Ready", "True", "CostComputed", f"${round6(hourly.total):f}/h", now)
    return CostProfileStatus(
        hourly_cost_usd=round6(hourly.total),
        amortization_rate_per_hour=round6(hourly.amortization_and_maintenance),
        maintenance_rate_per_hour=round6(hourly.maintenance),
        electricity_cost_per_hour=round6(hourly.electricity),
        current_power_draw_watts=round6(hourly.power_watts),
        power_source=source,
        nodes=sorted(dcgm.nodes),
        gpus=[
            GpuStatus(uuid=g.uuid, node=g.node, model=dcgm.models.get(g.uuid), power_w=g.power_w)
            for g in sorted(dcgm.gpus, key=lambda g: (g.node or "", g.uuid))
        ],
        last_updated=now,
        conditions=conditions,
    )


ProfileKey = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Claim:
    """A profile that selects nodes: who it is, when it was created, which nodes its nodeSelector matches."""

    key: ProfileKey
    created: datetime | None
    nodes: list[str]


@dataclass
class NodeAssignment:
    nodes: dict[ProfileKey, list[str]]  # the nodes each profile accounts
    shared: dict[ProfileKey, list[tuple[str, ProfileKey, ProfileKey]]]  # (node, other profile, the one accounting)


def assign_nodes(claims: list[Claim]) -> NodeAssignment:
    """Each node is accounted by one profile only: the oldest (creationTimestamp, then namespace/name).

    Profiles selecting the same node each learn the other's name, so the overlap can be fixed.
    """
    order = sorted(claims, key=lambda c: (c.created.timestamp() if c.created else float("inf"), c.key))
    owner: dict[str, ProfileKey] = {}
    result = NodeAssignment({c.key: [] for c in claims}, {c.key: [] for c in claims})
    for claim in order:
        for node in claim.nodes:
            first = owner.setdefault(node, claim.key)
            if first == claim.key:
                result.nodes[claim.key].append(node)
            else:
                result.shared[claim.key].append((node, first, first))
                result.shared[first].append((node, claim.key, first))
    return result


def shared_nodes_condition(key: ProfileKey, shared: list[tuple[str, ProfileKey, ProfileKey]]) -> tuple[str, str, str]:
    """(status, reason, message) of the NodesShared condition."""
    if not shared:
        return "False", "NoSharedNodes", "no other CostProfile selects this profile's nodes"
    parts = []
    for node, other, accounting in shared:
        who = "this profile accounts it" if accounting == key else f"{accounting[0]}/{accounting[1]} accounts it"
        parts.append(f"node {node} is also selected by CostProfile {other[0]}/{other[1]} ({who}, created first)")
    return "True", "SharedNodes", "; ".join(parts) + "; make the nodeSelectors disjoint"

"""UsageReport: mirrors crds/finops.infercost.ai_usagereports.yaml field for field."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, PrivateAttr, model_validator

from .common import Condition, KubeModel, Number, ObjectMeta, Timestamp

Schedule = Literal["daily", "weekly", "monthly"]
IdleCostPolicy = Literal["Separate", "Proportional"]


class UsageReportSpec(KubeModel):
    cost_profile_ref: str = Field(min_length=1)
    schedule: Schedule = "daily"
    namespaces: list[str] = Field(default_factory=list)
    time_zone: str = "UTC"
    output_token_weight: Number = Field(default=Decimal(1), ge=0)
    idle_cost_policy: IdleCostPolicy = "Separate"
    history_limit: int = Field(default=31, ge=0, le=120)


class ModelCost(KubeModel):
    model: str
    namespace: str
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    estimated_cost_usd: Number = Field(default=Decimal(0), alias="estimatedCostUSD")
    cost_per_million_tokens: Number = Field(default=Decimal(0))
    idle_cost_usd: Number | None = Field(default=None, alias="idleCostUSD")
    gpu_hours: Number | None = None


class NamespaceCost(KubeModel):
    namespace: str
    estimated_cost_usd: Number = Field(default=Decimal(0), alias="estimatedCostUSD")
    token_count: int = Field(default=0, ge=0)


class CloudComparison(KubeModel):
    provider: str
    model: str
    estimated_cloud_cost_usd: Number = Field(alias="estimatedCloudCostUSD")
    savings_usd: Number = Field(alias="savingsUSD")
    savings_percent: Number


class PeriodFigures(KubeModel):
    """What a period holds; the current period and each closed one in history alike."""

    period: str | None = None
    period_start: Timestamp | None = None
    period_end: Timestamp | None = None
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    estimated_cost_usd: Number = Field(default=Decimal(0), alias="estimatedCostUSD")
    cost_per_million_tokens: Number = Field(default=Decimal(0))
    idle_cost_usd: Number = Field(default=Decimal(0), alias="idleCostUSD")
    idle_gpu_hours: Number = Field(default=Decimal(0))
    energy_kwh: Number = Field(default=Decimal(0), alias="energyKWh")
    gpu_hours: Number = Field(default=Decimal(0))
    active_gpu_hours: Number = Field(default=Decimal(0))
    gpu_efficiency_ratio: Number = Field(default=Decimal(0))
    # The Go operator's figures (docs/accounting.md defines each in our terms).
    total_hours_in_period: Number = Field(default=Decimal(0))
    active_hours_in_period: Number = Field(default=Decimal(0))
    utilization_percent: Number = Field(default=Decimal(0))
    active_energy_kwh: Number = Field(default=Decimal(0), alias="activeEnergyKWh")
    active_energy_cost_usd: Number = Field(default=Decimal(0), alias="activeEnergyCostUSD")
    marginal_cost_per_million_tokens: Number = Field(default=Decimal(0))
    estimated: bool = False
    by_model: list[ModelCost] = Field(default_factory=list)
    by_namespace: list[NamespaceCost] = Field(default_factory=list)
    cloud_comparison: list[CloudComparison] = Field(default_factory=list)


HistorySource = Literal["prometheus-backfill"]


class HistoryEntry(PeriodFigures):
    """A closed period in ``status.history``; ``source`` says how it was obtained (absent: live reconcile)."""

    source: HistorySource | None = None


class SeriesCheckpoint(KubeModel):
    model: str  # where its tokens were last attributed (for people; identity is ``labels``)
    labels: str | None = None  # the series' own labels, canonical; None in checkpoints of older versions
    in_: int = Field(alias="in", ge=0)
    out: int = Field(ge=0)
    # When the counters began (the server's _created or process start); None when it does not say.
    started_at: Timestamp | None = None


class PodCheckpoint(KubeModel):
    uid: str
    namespace: str
    name: str
    # When the scrape whose values these are had finished; None in checkpoints of older versions.
    observed_at: Timestamp | None = None
    series: list[SeriesCheckpoint] = Field(default_factory=list)


class GpuCheckpoint(KubeModel):
    uuid: str
    node: str | None = None
    observed_at: Timestamp | None = None  # when the pass that read these values had finished reading
    energy_mj: int | None = Field(default=None, alias="energyMJ")
    power_w: Number | None = Field(default=None, alias="powerW")


class Checkpoint(KubeModel):
    time: Timestamp
    pods: list[PodCheckpoint] = Field(default_factory=list)
    gpus: list[GpuCheckpoint] = Field(default_factory=list)


def repair_history(history: list[HistoryEntry]) -> tuple[list[HistoryEntry], str | None]:
    """History with each period once, newest first, and what was repaired (None: nothing).

    Of entries for the same period the one accounted furthest (latest periodEnd, then the
    first listed) is kept: the others are earlier copies of it, never extra usage.
    """
    kept: dict[str, HistoryEntry] = {}
    duplicates: list[str] = []
    for entry in history:
        label = entry.period or ""
        old = kept.get(label)
        if old is None:
            kept[label] = entry
            continue
        duplicates.append(label)
        if entry.period_end is not None and (old.period_end is None or entry.period_end > old.period_end):
            kept[label] = entry
    ordered = sorted(kept.values(), key=lambda h: h.period_start.timestamp() if h.period_start else 0.0, reverse=True)
    notes = []
    if duplicates:
        notes.append(f"status.history listed {', '.join(sorted(set(duplicates)))} more than once; merged into one each")
    if not duplicates and [id(h) for h in ordered] != [id(h) for h in history]:
        notes.append("status.history was not ordered newest first; reordered")
    return ordered, ("; ".join(notes) or None)


class UsageReportStatus(PeriodFigures):
    accounting_since: Timestamp | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    checkpoint: Checkpoint | None = None
    last_updated: Timestamp | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)
    # What reading the object repaired in history (None: nothing), so every reader sees each period once.
    _history_repaired: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _each_period_once(self) -> UsageReportStatus:
        self.history, self._history_repaired = repair_history(self.history)
        return self

    @property
    def history_repaired(self) -> str | None:
        return self._history_repaired


class UsageReport(KubeModel):
    api_version: str = "finops.infercost.ai/v1alpha1"
    kind: Literal["UsageReport"] = "UsageReport"
    metadata: ObjectMeta
    spec: UsageReportSpec
    status: UsageReportStatus = Field(default_factory=UsageReportStatus)

"""UsageReport: mirrors crds/finops.infercost.ai_usagereports.yaml field for field."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

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


class SeriesCheckpoint(KubeModel):
    model: str  # where its tokens were last attributed (for people; identity is ``labels``)
    labels: str | None = None  # the series' own labels, canonical; None in checkpoints of older versions
    in_: int = Field(alias="in", ge=0)
    out: int = Field(ge=0)


class PodCheckpoint(KubeModel):
    uid: str
    namespace: str
    name: str
    series: list[SeriesCheckpoint] = Field(default_factory=list)


class GpuCheckpoint(KubeModel):
    uuid: str
    node: str | None = None
    energy_mj: int | None = Field(default=None, alias="energyMJ")
    power_w: Number | None = Field(default=None, alias="powerW")


class Checkpoint(KubeModel):
    time: Timestamp
    pods: list[PodCheckpoint] = Field(default_factory=list)
    gpus: list[GpuCheckpoint] = Field(default_factory=list)


class UsageReportStatus(PeriodFigures):
    accounting_since: Timestamp | None = None
    history: list[PeriodFigures] = Field(default_factory=list)
    checkpoint: Checkpoint | None = None
    last_updated: Timestamp | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)


class UsageReport(KubeModel):
    api_version: str = "finops.infercost.ai/v1alpha1"
    kind: Literal["UsageReport"] = "UsageReport"
    metadata: ObjectMeta
    spec: UsageReportSpec
    status: UsageReportStatus = Field(default_factory=UsageReportStatus)

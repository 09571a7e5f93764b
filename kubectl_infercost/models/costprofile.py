"""CostProfile: mirrors crds/finops.infercost.ai_costprofiles.yaml field for field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from .common import Condition, KubeModel, NonNegative, Number, ObjectMeta, Timestamp

PowerSource = Literal["DCGMEnergy", "DCGMPower", "TDPFallback"]


class Hardware(KubeModel):
    gpu_model: str = Field(min_length=1)
    gpu_count: int = Field(ge=1)
    purchase_price_usd: NonNegative = Field(alias="purchasePriceUSD")
    amortization_years: Number = Field(default=Decimal(3), gt=0)
    maintenance_percent_per_year: Number = Field(default=Decimal(0), ge=0, le=1)
    tdp_watts: NonNegative | None = None
    in_service_date: date | None = None


class Electricity(KubeModel):
    rate_per_kwh: NonNegative = Field(alias="ratePerKWh")
    pue_factor: Number = Field(default=Decimal(1), ge=1)
    idle_watts_threshold: NonNegative | None = None


class DcgmSource(KubeModel):
    namespace: str | None = None
    pod_selector: dict[str, str] | None = None
    port: int = Field(default=9400, ge=1, le=65535)
    path: str = Field(default="/metrics", pattern=r"^/")


class CostProfileSpec(KubeModel):
    hardware: Hardware
    electricity: Electricity
    node_selector: dict[str, str] = Field(default_factory=dict)
    # Only pods in namespaces with all these labels are attributed to the profile (the Go operator's field).
    namespace_selector: dict[str, str] = Field(default_factory=dict)
    dcgm: DcgmSource = Field(default_factory=DcgmSource)


class GpuStatus(KubeModel):
    uuid: str
    node: str | None = None
    model: str | None = None
    power_w: Number | None = Field(default=None, alias="powerW")


class CostProfileStatus(KubeModel):
    hourly_cost_usd: Number | None = Field(default=None, alias="hourlyCostUSD")
    amortization_rate_per_hour: Number | None = None
    maintenance_rate_per_hour: Number | None = None
    electricity_cost_per_hour: Number | None = None
    current_power_draw_watts: Number | None = None
    power_source: PowerSource | None = None
    nodes: list[str] = Field(default_factory=list)
    gpus: list[GpuStatus] = Field(default_factory=list)
    last_updated: Timestamp | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)


class CostProfile(KubeModel):
    api_version: str = "finops.infercost.ai/v1alpha1"
    kind: Literal["CostProfile"] = "CostProfile"
    metadata: ObjectMeta
    spec: CostProfileSpec
    status: CostProfileStatus = Field(default_factory=CostProfileStatus)

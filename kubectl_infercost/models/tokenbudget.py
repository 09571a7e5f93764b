"""TokenBudget: mirrors crds/finops.infercost.ai_tokenbudgets.yaml field for field."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Condition, KubeModel, NonNegative, Number, ObjectMeta, Timestamp


class BudgetScope(KubeModel):
    namespace: str = Field(min_length=1)


class AlertThreshold(KubeModel):
    percent: int = Field(ge=1, le=200)
    severity: Literal["warning", "critical"]


class PrometheusRuleSpec(KubeModel):
    labels: dict[str, str] = Field(default_factory=dict)


class UsageReportRef(KubeModel):
    name: str = Field(min_length=1)
    namespace: str | None = None


class TokenBudgetSpec(KubeModel):
    scope: BudgetScope
    monthly_limit_usd: NonNegative = Field(alias="monthlyLimitUSD")
    alert_thresholds: list[AlertThreshold] = Field(default_factory=list)
    prometheus_rule: PrometheusRuleSpec | None = None
    usage_reports: list[UsageReportRef] = Field(default_factory=list)


class TokenBudgetStatus(KubeModel):
    current_spend_usd: Number | None = Field(default=None, alias="currentSpendUSD")
    utilization_percent: Number | None = None
    period_start: Timestamp | None = None
    period_end: Timestamp | None = None
    last_updated: Timestamp | None = None
    observed_generation: int | None = None
    conditions: list[Condition] = Field(default_factory=list)


class TokenBudget(KubeModel):
    api_version: str = "finops.infercost.ai/v1alpha1"
    kind: Literal["TokenBudget"] = "TokenBudget"
    metadata: ObjectMeta
    spec: TokenBudgetSpec
    status: TokenBudgetStatus = Field(default_factory=TokenBudgetStatus)

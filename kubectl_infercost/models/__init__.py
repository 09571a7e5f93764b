"""pydantic models mirroring crds/*.yaml (spec and status), camelCase on the wire."""

from .common import API_VERSION, GROUP, VERSION, Condition, ObjectMeta
from .costprofile import CostProfile, CostProfileSpec, CostProfileStatus, GpuStatus
from .tokenbudget import TokenBudget, TokenBudgetSpec, TokenBudgetStatus
from .usagereport import (
    Checkpoint,
    CloudComparison,
    GpuCheckpoint,
    HistoryEntry,
    ModelCost,
    NamespaceCost,
    PeriodFigures,
    PodCheckpoint,
    SeriesCheckpoint,
    UsageReport,
    UsageReportSpec,
    UsageReportStatus,
)

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "Checkpoint",
    "CloudComparison",
    "Condition",
    "CostProfile",
    "CostProfileSpec",
    "CostProfileStatus",
    "GpuCheckpoint",
    "GpuStatus",
    "HistoryEntry",
    "ModelCost",
    "NamespaceCost",
    "ObjectMeta",
    "PeriodFigures",
    "PodCheckpoint",
    "SeriesCheckpoint",
    "TokenBudget",
    "TokenBudgetSpec",
    "TokenBudgetStatus",
    "UsageReport",
    "UsageReportSpec",
    "UsageReportStatus",
]

"""Human tables of ``kubectl infercost report`` (``-o table`` and ``-o wide``), written to a stream.

Rows come from :mod:`kubectl_infercost.core.reportdata` (exact values); this module only formats:
money totals ``$1,234.57`` (2 dp), rates ($/h, $/1M tokens) ``$3.6543`` (4 dp), tokens ``1,234,567``,
percentages ``60.0%``; rounding is half-up for display only. Missing values show as ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TextIO

from tabulate import tabulate

from ..core.reportdata import Row, SortSpec

Kind = Literal[
    "text", "money", "rate", "price", "tokens", "int", "watts", "number", "percent", "ratio", "bool",
    "datetime", "date", "list", "thresholds", "threshold",
]  # fmt: skip
NUMERIC: frozenset[str] = frozenset({"money", "rate", "price", "tokens", "int", "watts", "number", "percent", "ratio"})
MISSING = "-"


@dataclass(frozen=True)
class Column:
    key: str  # the row key (= the JSON/YAML key)
    header: str
    kind: Kind = "text"
    wide: bool = False  # only with -o wide
    scope: bool = False  # the object's own namespace: shown only across namespaces (-A), like kubectl


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]

    def fields(self) -> list[str]:
        return [c.key for c in self.columns]

    def visible(self, *, wide: bool, all_namespaces: bool) -> list[Column]:
        return [c for c in self.columns if (wide or not c.wide) and (all_namespaces or not c.scope)]

    def sort_spec(self, field: str) -> SortSpec | None:
        """``FIELD`` or ``-FIELD`` (descending): a row key or a column header, case-insensitive."""
        descending = field.startswith("-")
        wanted = field[1:] if descending else field
        norm = wanted.strip().casefold()
        for c in self.columns:
            if norm in (c.key.casefold(), c.header.casefold()):
                return SortSpec(c.key, descending)
        return None


def C(key: str, header: str, kind: Kind = "text", *, wide: bool = False, scope: bool = False) -> Column:
    return Column(key, header, kind, wide, scope)


def _table(name: str, title: str, *columns: Column) -> Table:
    return Table(name, title, columns)


# Columns that several tables share, in the order they appear there.
_OBJECT = (C("namespace", "NAMESPACE", scope=True), C("name", "NAME"))  # the listed object itself, like kubectl
_OF_REPORT = (C("reportNamespace", "REPORT NAMESPACE", scope=True), C("report", "REPORT"), C("period", "PERIOD"))
_BOUNDS = (C("periodStart", "START", "datetime", wide=True), C("periodEnd", "END", "datetime", wide=True))
_TOKENS = (
    C("inputTokens", "INPUT", "tokens"),
    C("outputTokens", "OUTPUT", "tokens"),
    C("totalTokens", "TOKENS", "tokens", wide=True),
)
_COST = C("estimatedCostUSD", "COST", "money")
_PER_MILLION = C("costPerMillionTokens", "$/1M TOK", "rate")
_GPU_HOURS = C("gpuHours", "GPU-H", "number", wide=True)
_ESTIMATED = C("estimated", "ESTIMATED", "bool")
_READY = C("ready", "READY", wide=True)
_UPDATED = C("lastUpdated", "UPDATED", "datetime", wide=True)

PERIOD_FIGURES = (
    *_BOUNDS,
    _COST,
    C("idleCostUSD", "IDLE", "money"),
    *_TOKENS,
    _PER_MILLION,
    C("energyKWh", "KWH", "number", wide=True),
    _GPU_HOURS,
    C("activeGpuHours", "ACTIVE GPU-H", "number", wide=True),
    C("idleGpuHours", "IDLE GPU-H", "number", wide=True),
    C("gpuEfficiencyRatio", "EFFICIENCY", "ratio", wide=True),
)

PROFILES = _table(
    "costProfiles",
    "COST PROFILES",
    *_OBJECT,
    C("gpuModel", "GPU MODEL"),
    C("gpuCount", "GPUS", "int"),
    C("hourlyCostUSD", "$/H", "rate"),
    C("amortizationRatePerHour", "AMORT+MAINT $/H", "rate"),
    C("maintenanceRatePerHour", "MAINT $/H", "rate", wide=True),
    C("electricityCostPerHour", "ELECTRICITY $/H", "rate"),
    C("currentPowerDrawWatts", "POWER W", "watts"),
    C("powerSource", "POWER SOURCE"),
    C("dcgmState", "DCGM"),
    _READY,
    C("nodes", "NODES", "list", wide=True),
    C("gpuReadings", "GPU READINGS", "int", wide=True),
    _UPDATED,
)

REPORTS = _table(
    "usageReports",
    "USAGE REPORTS (current period)",
    *_OBJECT,
    C("costProfile", "PROFILE"),
    C("schedule", "SCHEDULE", wide=True),
    C("timeZone", "TIME ZONE", wide=True),
    C("period", "PERIOD"),
    *PERIOD_FIGURES,
    C("accountingSince", "ACCOUNTING SINCE", "datetime"),
    _ESTIMATED,
    C("historyPeriods", "CLOSED PERIODS", "int", wide=True),
    _READY,
    C("scrapeHealthy", "SCRAPE OK", wide=True),
    _UPDATED,
)

_MODEL_COLUMNS = (
    *_OF_REPORT,
    C("namespace", "NAMESPACE"),
    C("model", "MODEL"),
    *_TOKENS,
    _COST,
    _PER_MILLION,
    C("idleCostUSD", "IDLE SHARE", "money", wide=True),
    _GPU_HOURS,
)
MODELS = _table("models", "MODELS", *_MODEL_COLUMNS)
TOP_MODELS = _table("topModels", "TOP MODELS (current period, by cost)", *_MODEL_COLUMNS)

NAMESPACES = _table(
    "namespaces",
    "NAMESPACES",
    *_OF_REPORT,
    *_BOUNDS,
    C("namespace", "NAMESPACE"),
    _COST,
    C("tokenCount", "TOKENS", "tokens"),
    _PER_MILLION,
    C("sharePercent", "SHARE", "percent"),
)

COMPARE = _table(
    "compare",
    "CLOUD COMPARISON (current period)",
    *_OF_REPORT,
    C("inputTokens", "INPUT", "tokens", wide=True),
    C("outputTokens", "OUTPUT", "tokens", wide=True),
    C("provider", "PROVIDER"),
    C("model", "MODEL"),
    C("tier", "TIER", wide=True),
    C("inputPerMillion", "IN $/1M", "price", wide=True),
    C("outputPerMillion", "OUT $/1M", "price", wide=True),
    C("onpremCostUSD", "ON-PREM", "money"),
    C("cloudCostUSD", "CLOUD", "money"),
    C("savingsUSD", "SAVINGS", "money"),
    C("savingsPercent", "SAVINGS %", "percent"),
    C("onpremDailyCostUSD", "ON-PREM $/DAY", "money", wide=True),
    C("breakEvenTokensPerDay", "BREAK-EVEN TOK/DAY", "tokens"),
)

HISTORY = _table(
    "history", "HISTORY (closed periods)", *_OF_REPORT, *PERIOD_FIGURES, _ESTIMATED, C("source", "SOURCE", wide=True)
)

BUDGETS = _table(
    "budgets",
    "BUDGETS (month to date)",
    *_OBJECT,
    C("scopeNamespace", "SCOPE"),
    C("monthlyLimitUSD", "LIMIT", "money"),
    C("currentSpendUSD", "SPEND", "money"),
    C("remainingUSD", "REMAINING", "money", wide=True),
    C("utilizationPercent", "UTILIZATION", "percent"),
    C("state", "STATE"),
    C("nextThreshold", "NEXT", "threshold"),
    C("leftBeforeNextUSD", "LEFT", "money"),
    C("nextThresholdUSD", "NEXT AT", "money", wide=True),
    C("thresholds", "THRESHOLDS", "thresholds", wide=True),
    *_BOUNDS,
    _UPDATED,
)


# ---------------------------------------------------------------------------------------------- formatting


def _grouped(value: Decimal, places: int) -> str:
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(q):,.{places}f}"
    return f"-{text}" if q < 0 else text


def money(value: Decimal, places: int = 2) -> str:
    text = _grouped(value, places)
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def price(value: Decimal) -> str:
    """A list price: 2 dp when that is exact, else 4 dp (``$2.50``, ``$0.1250``)."""
    return money(value, 2 if value == value.quantize(Decimal("0.01")) else 4)


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def format_value(value: Any, kind: Kind) -> str:
    if value is None:
        return MISSING
    match kind:
        case "money":
            return money(Decimal(value))
        case "rate":
            return money(Decimal(value), 4)
        case "price":
            return price(Decimal(value))
        case "tokens":
            return f"{int(value):,}"
        case "int":
            return str(int(value))
        case "watts":
            return _grouped(Decimal(value), 0)
        case "number":
            return _grouped(Decimal(value), 2)
        case "percent":
            return f"{_grouped(Decimal(value), 1)}%"
        case "ratio":
            return f"{_grouped(Decimal(value) * 100, 1)}%"
        case "bool":
            return "yes" if value else "no"
        case "datetime":
            return timestamp(value) if isinstance(value, datetime) else str(value)
        case "date":
            return value.isoformat() if isinstance(value, date) else str(value)
        case "list":
            return ", ".join(str(v) for v in value) or MISSING
        case "thresholds":
            return ", ".join(f"{t['percent']}% {t['severity']}" for t in value) or MISSING
        case "threshold":
            return f"{value['percent']}% {value['severity']}"
    return str(value)


# ---------------------------------------------------------------------------------------------- writers


def render(table: Table, rows: Sequence[Row], *, wide: bool = False, all_namespaces: bool = False) -> str:
    """The table as text (no trailing spaces, ending in a newline); empty string for no rows."""
    if not rows:
        return ""
    cols = table.visible(wide=wide, all_namespaces=all_namespaces)
    body = [[format_value(row.get(c.key), c.kind) for c in cols] for row in rows]
    text = tabulate(
        body,
        headers=[c.header for c in cols],
        tablefmt="plain",
        disable_numparse=True,
        colalign=["right" if c.kind in NUMERIC else "left" for c in cols],
    )
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def write_table(
    stream: TextIO, table: Table, rows: Sequence[Row], *, wide: bool = False, all_namespaces: bool = False
) -> None:
    stream.write(render(table, rows, wide=wide, all_namespaces=all_namespaces))


def write_sections(
    stream: TextIO,
    sections: Sequence[tuple[Table, Sequence[Row]]],
    *,
    wide: bool = False,
    all_namespaces: bool = False,
) -> None:
    """Several titled tables separated by a blank line; sections without rows are left out."""
    first = True
    for table, rows in sections:
        if not rows:
            continue
        if not first:
            stream.write("\n")
        first = False
        stream.write(f"{table.title}\n")
        write_table(stream, table, rows, wide=wide, all_namespaces=all_namespaces)

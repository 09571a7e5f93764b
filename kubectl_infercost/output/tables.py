"""Human tables of ``kubectl infercost report`` (``-o table`` and ``-o wide``), written to a stream.

Rows come from :mod:`kubectl_infercost.core.reportdata` (exact values); this module only formats:
money totals ``$1,234.57`` (2 dp), rates ($/h, $/1M tokens) ``$3.6543`` (4 dp), tokens ``1,234,567``,
percentages ``60.0%``; rounding is half-up for display only. Missing values show as ``-``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TextIO

from tabulate import tabulate

from ..core.reportdata import Record, SortSpec

ValueFormat = Literal[
    "text", "money", "rate", "price", "tokens", "int", "watts", "number", "percent", "ratio", "bool",
    "datetime", "date", "list", "thresholds", "threshold",
]  # fmt: skip
NUMERIC: frozenset[str] = frozenset({"money", "rate", "price", "tokens", "int", "watts", "number", "percent", "ratio"})
MISSING = "-"


@dataclass(frozen=True)
class TableColumn:
    key: str  # the row key (= the JSON/YAML key)
    header: str
    kind: ValueFormat = "text"
    wide: bool = False  # only with -o wide
    scope: bool = False  # the object's own namespace: shown only across namespaces (-A), like kubectl


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[TableColumn, ...]

    def fields(self) -> list[str]:
        return [c.key for c in self.columns]

    def visible(self, *, wide: bool, all_namespaces: bool) -> list[TableColumn]:
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


def col(key: str, header: str, kind: ValueFormat = "text", *, wide: bool = False, scope: bool = False) -> TableColumn:
    return TableColumn(key, header, kind, wide, scope)


def _table(name: str, title: str, *columns: TableColumn) -> Table:
    return Table(name, title, columns)


# Columns that several tables share, in the order they appear there.
_OBJECT = (col("namespace", "NAMESPACE", scope=True), col("name", "NAME"))  # the listed object itself, like kubectl
_OF_REPORT = (col("reportNamespace", "REPORT NAMESPACE", scope=True), col("report", "REPORT"), col("period", "PERIOD"))
_BOUNDS = (col("periodStart", "START", "datetime", wide=True), col("periodEnd", "END", "datetime", wide=True))
_TOKENS = (
    col("inputTokens", "INPUT", "tokens"),
    col("outputTokens", "OUTPUT", "tokens"),
    col("totalTokens", "TOKENS", "tokens", wide=True),
)
_COST = col("estimatedCostUSD", "COST", "money")
_PER_MILLION = col("costPerMillionTokens", "$/1M TOK", "rate")
_GPU_HOURS = col("gpuHours", "GPU-H", "number", wide=True)
_ESTIMATED = col("estimated", "ESTIMATED", "bool")
_READY = col("ready", "READY", wide=True)
_UPDATED = col("lastUpdated", "UPDATED", "datetime", wide=True)

PERIOD_FIGURES = (
    *_BOUNDS,
    _COST,
    col("idleCostUSD", "IDLE", "money"),
    *_TOKENS,
    _PER_MILLION,
    col("energyKWh", "KWH", "number", wide=True),
    _GPU_HOURS,
    col("activeGpuHours", "ACTIVE GPU-H", "number", wide=True),
    col("idleGpuHours", "IDLE GPU-H", "number", wide=True),
    col("gpuEfficiencyRatio", "EFFICIENCY", "ratio", wide=True),
)

PROFILES = _table(
    "costProfiles",
    "COST PROFILES",
    *_OBJECT,
    col("gpuModel", "GPU MODEL"),
    col("gpuCount", "GPUS", "int"),
    col("hourlyCostUSD", "$/H", "rate"),
    col("amortizationRatePerHour", "AMORT+MAINT $/H", "rate"),
    col("maintenanceRatePerHour", "MAINT $/H", "rate", wide=True),
    col("electricityCostPerHour", "ELECTRICITY $/H", "rate"),
    col("currentPowerDrawWatts", "POWER W", "watts"),
    col("powerSource", "POWER SOURCE"),
    col("dcgmState", "DCGM"),
    _READY,
    col("nodes", "NODES", "list", wide=True),
    col("gpuReadings", "GPU READINGS", "int", wide=True),
    _UPDATED,
)

REPORTS = _table(
    "usageReports",
    "USAGE REPORTS (current period)",
    *_OBJECT,
    col("costProfile", "PROFILE"),
    col("schedule", "SCHEDULE", wide=True),
    col("timeZone", "TIME ZONE", wide=True),
    col("period", "PERIOD"),
    *PERIOD_FIGURES,
    col("accountingSince", "ACCOUNTING SINCE", "datetime"),
    _ESTIMATED,
    col("historyPeriods", "CLOSED PERIODS", "int", wide=True),
    _READY,
    col("scrapeHealthy", "SCRAPE OK", wide=True),
    _UPDATED,
)

_MODEL_COLUMNS = (
    *_OF_REPORT,
    col("namespace", "NAMESPACE"),
    col("model", "MODEL"),
    *_TOKENS,
    _COST,
    _PER_MILLION,
    col("idleCostUSD", "IDLE SHARE", "money", wide=True),
    _GPU_HOURS,
)
MODELS = _table("models", "MODELS", *_MODEL_COLUMNS)
TOP_MODELS = _table("topModels", "TOP MODELS (current period, by cost)", *_MODEL_COLUMNS)

NAMESPACES = _table(
    "namespaces",
    "NAMESPACES",
    *_OF_REPORT,
    *_BOUNDS,
    col("namespace", "NAMESPACE"),
    _COST,
    col("tokenCount", "TOKENS", "tokens"),
    _PER_MILLION,
    col("sharePercent", "SHARE", "percent"),
)

COMPARE = _table(
    "compare",
    "CLOUD COMPARISON (current period)",
    *_OF_REPORT,
    col("inputTokens", "INPUT", "tokens", wide=True),
    col("outputTokens", "OUTPUT", "tokens", wide=True),
    col("provider", "PROVIDER"),
    col("model", "MODEL"),
    col("tier", "TIER", wide=True),
    col("inputPerMillion", "IN $/1M", "price", wide=True),
    col("outputPerMillion", "OUT $/1M", "price", wide=True),
    col("onpremCostUSD", "ON-PREM", "money"),
    col("cloudCostUSD", "CLOUD", "money"),
    col("savingsUSD", "SAVINGS", "money"),
    col("savingsPercent", "SAVINGS %", "percent"),
    col("onpremDailyCostUSD", "ON-PREM $/DAY", "money", wide=True),
    col("breakEvenTokensPerDay", "BREAK-EVEN TOK/DAY", "tokens"),
)

HISTORY = _table(
    "history", "HISTORY (closed periods)", *_OF_REPORT, *PERIOD_FIGURES, _ESTIMATED, col("source", "SOURCE", wide=True)
)

BUDGETS = _table(
    "budgets",
    "BUDGETS (month to date)",
    *_OBJECT,
    col("scopeNamespace", "SCOPE"),
    col("monthlyLimitUSD", "LIMIT", "money"),
    col("currentSpendUSD", "SPEND", "money"),
    col("remainingUSD", "REMAINING", "money", wide=True),
    col("utilizationPercent", "UTILIZATION", "percent"),
    col("state", "STATE"),
    col("nextThreshold", "NEXT", "threshold"),
    col("leftBeforeNextUSD", "LEFT", "money"),
    col("nextThresholdUSD", "NEXT AT", "money", wide=True),
    col("thresholds", "THRESHOLDS", "thresholds", wide=True),
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


_FORMATS: dict[str, Callable[[Any], str]] = {
    "money": lambda v: money(Decimal(v)),
    "rate": lambda v: money(Decimal(v), 4),
    "price": lambda v: price(Decimal(v)),
    "tokens": lambda v: f"{int(v):,}",
    "int": lambda v: str(int(v)),
    "watts": lambda v: _grouped(Decimal(v), 0),
    "number": lambda v: _grouped(Decimal(v), 2),
    "percent": lambda v: f"{_grouped(Decimal(v), 1)}%",
    "ratio": lambda v: f"{_grouped(Decimal(v) * 100, 1)}%",
    "bool": lambda v: "yes" if v else "no",
    "datetime": lambda v: timestamp(v) if isinstance(v, datetime) else str(v),
    "date": lambda v: v.isoformat() if isinstance(v, date) else str(v),
    "list": lambda v: ", ".join(str(x) for x in v) or MISSING,
    "thresholds": lambda v: ", ".join(f"{t['percent']}% {t['severity']}" for t in v) or MISSING,
    "threshold": lambda v: f"{v['percent']}% {v['severity']}",
}


def format_value(value: Any, kind: ValueFormat) -> str:
    if value is None:
        return MISSING
    formatter = _FORMATS.get(kind)
    return str(value) if formatter is None else formatter(value)


# ---------------------------------------------------------------------------------------------- writers


def render(table: Table, rows: Sequence[Record], *, wide: bool = False, all_namespaces: bool = False) -> str:
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
    stream: TextIO, table: Table, rows: Sequence[Record], *, wide: bool = False, all_namespaces: bool = False
) -> None:
    stream.write(render(table, rows, wide=wide, all_namespaces=all_namespaces))


def write_sections(
    stream: TextIO,
    sections: Sequence[tuple[Table, Sequence[Record]]],
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

"""The board report's figures: a CFO's few numbers from the same CRs ``report -o json`` reads (PURE).

Which periods count: per CostProfile (and namespace) one UsageReport — the one that covers every
namespace, then the finest schedule (daily, weekly, monthly), then by name — so that a daily and a
monthly report of the same GPUs are never added up. A period (the current one or a closed one in
``status.history``) counts in the range that contains its ``periodStart``: no period is split or
counted twice. Money is exact Decimal; percentages and rates this module computes are rounded
half-even to 6 dp (like ``report``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..models import PeriodFigures, TokenBudget, UsageReport
from .board_budgets import BudgetLine, budget_lines
from .board_range import DateRange
from .cloud import PriceCatalog, PriceEntry, cheapest, cloud_cost
from .money import ZERO, per_million, round6
from .periods import hours_between

SCHEDULE_ORDER = {"daily": 0, "weekly": 1, "monthly": 2}
TREND_POINTS = 31
HOURS_PER_MONTH = Decimal(730)  # 8760 / 12: an average month, for "per month" estimates
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Slice:
    """One period of one counted report."""

    report: str  # namespace/name
    schedule: str
    figures: PeriodFigures
    start: datetime
    end: datetime
    open: bool  # the current period (its end is the last accounted time)
    accounted_from: datetime  # start, or accountingSince when accounting began inside the period


@dataclass(frozen=True)
class Totals:
    spend: Decimal = ZERO
    idle: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    periods: int = 0
    first_start: datetime | None = None  # when the counted data begins (accountingSince inside a period)
    last_end: datetime | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def allocated(self) -> Decimal:
        return self.spend - self.idle

    @property
    def idle_percent(self) -> Decimal:
        """Idle cost as a share of spend, 6 dp (0 without spend)."""
        return round6(self.idle / self.spend * HUNDRED) if self.spend else ZERO


@dataclass(frozen=True)
class Change:
    """Now against the previous range: None where there is no previous range (no arrow)."""

    previous: Decimal
    delta: Decimal
    percent: Decimal | None  # None when the previous figure is 0


@dataclass(frozen=True)
class NamespaceSpend:
    namespace: str
    spend: Decimal
    tokens: int
    share_percent: Decimal  # of the range's spend (idle included), 6 dp
    change: Change | None


@dataclass(frozen=True)
class TrendPoint:
    schedule: str
    label: str
    start: datetime
    spend: Decimal
    idle: Decimal
    open: bool
    in_range: bool


@dataclass(frozen=True)
class ModelPrice:
    model: str
    spend: Decimal
    tokens: int
    per_million: Decimal


@dataclass(frozen=True)
class CloudPrice:
    entry: PriceEntry
    cost: Decimal  # the range's tokens at this model's list prices, exact
    per_million: Decimal  # at the range's input/output mix, 6 dp


@dataclass(frozen=True)
class CloudSummary:
    entry: PriceEntry
    chosen: bool  # --compare-to, else the cheapest for the range's mix
    cost: Decimal
    savings: Decimal  # cloud − on-prem
    savings_percent: Decimal


@dataclass(frozen=True)
class Efficiency:
    namespace: str
    model: str
    gpu_hours: Decimal
    tokens: int
    spend: Decimal
    gpu_share: Decimal  # % of the models' GPU-hours
    token_share: Decimal  # % of their tokens
    excess_gpu_hours: Decimal  # beyond what the tokens need at the fleet's tokens per GPU-hour
    monthly_saving: Decimal


@dataclass(frozen=True)
class Board:
    range: DateRange
    previous_range: DateRange
    totals: Totals
    previous: Totals | None  # None: no period in the previous range
    change: Change | None
    cloud: CloudSummary | None
    per_million: Decimal  # on-prem, idle included
    namespaces: list[NamespaceSpend]
    trend: list[TrendPoint]
    models: list[ModelPrice]
    cloud_prices: list[CloudPrice]
    budgets: list[BudgetLine]
    efficiency: list[Efficiency]
    fleet_tokens_per_gpu_hour: Decimal | None
    projected_spend: Decimal | None  # the range's spend at the current rate, when data stops early
    reports: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (report, the one counted instead)

    @property
    def has_data(self) -> bool:
        return self.totals.periods > 0


# ---------------------------------------------------------------------------------------------- periods


def _name(report: UsageReport) -> str:
    return f"{report.metadata.namespace}/{report.metadata.name}"


def choose_reports(reports: Iterable[UsageReport]) -> tuple[list[UsageReport], list[tuple[str, str]]]:
    """One report per (namespace, CostProfile); the others as (skipped, counted instead)."""
    groups: dict[tuple[str, str], list[UsageReport]] = {}
    for r in reports:
        groups.setdefault((r.metadata.namespace or "", r.spec.cost_profile_ref), []).append(r)
    chosen: list[UsageReport] = []
    skipped: list[tuple[str, str]] = []
    for key in sorted(groups):
        ranked = sorted(
            groups[key],
            key=lambda r: (bool(r.spec.namespaces), SCHEDULE_ORDER[r.spec.schedule], r.metadata.name),
        )
        chosen.append(ranked[0])
        skipped.extend((_name(r), _name(ranked[0])) for r in ranked[1:])
    return chosen, skipped


def slices(reports: Iterable[UsageReport]) -> list[Slice]:
    """Every accounted period of the reports (the current one last), oldest first within a report."""
    result = []
    for r in reports:
        closed = [(fig, False) for fig in reversed(r.status.history)]
        for fig, is_open in [*closed, (r.status, True)]:
            if fig.period_start is None or fig.period_end is None:
                continue  # never accounted
            since = r.status.accounting_since
            begun = max(fig.period_start, since) if since is not None and since < fig.period_end else fig.period_start
            result.append(Slice(_name(r), r.spec.schedule, fig, fig.period_start, fig.period_end, is_open, begun))
    return result


def totals(parts: Sequence[Slice]) -> Totals:
    if not parts:
        return Totals()
    return Totals(
        spend=sum((s.figures.estimated_cost_usd for s in parts), ZERO),
        idle=sum((s.figures.idle_cost_usd for s in parts), ZERO),
        input_tokens=sum(s.figures.input_tokens for s in parts),
        output_tokens=sum(s.figures.output_tokens for s in parts),
        periods=len(parts),
        first_start=min(s.accounted_from for s in parts),
        last_end=max(s.end for s in parts),
    )


def change(now: Decimal, previous: Decimal) -> Change:
    delta = now - previous
    return Change(previous, delta, round6(delta / previous * HUNDRED) if previous else None)


# ---------------------------------------------------------------------------------------------- sections


def namespace_spend(now: Sequence[Slice], before: Sequence[Slice] | None, total: Decimal) -> list[NamespaceSpend]:
    """Σ byNamespace per namespace, dearest first; with a change when there is a previous range."""
    spend: dict[str, Decimal] = {}
    tokens: dict[str, int] = {}
    for s in now:
        for ns in s.figures.by_namespace:
            spend[ns.namespace] = spend.get(ns.namespace, ZERO) + ns.estimated_cost_usd
            tokens[ns.namespace] = tokens.get(ns.namespace, 0) + ns.token_count
    prior: dict[str, Decimal] = {}
    for s in before or ():
        for ns in s.figures.by_namespace:
            prior[ns.namespace] = prior.get(ns.namespace, ZERO) + ns.estimated_cost_usd
    rows = [
        NamespaceSpend(
            ns,
            cost,
            tokens[ns],
            round6(cost / total * HUNDRED) if total else ZERO,
            change(cost, prior.get(ns, ZERO)) if before is not None else None,
        )
        for ns, cost in spend.items()
    ]
    return sorted(rows, key=lambda r: (-r.spend, r.namespace))


def trend(parts: Sequence[Slice], rng: DateRange, limit: int = TREND_POINTS) -> list[TrendPoint]:
    """Spend per period label (summed over the counted reports of a schedule), the last ``limit``."""
    points: dict[tuple[str, str], TrendPoint] = {}
    for s in parts:
        key = (s.schedule, s.figures.period or s.start.date().isoformat())
        old = points.get(key)
        spend, idle = s.figures.estimated_cost_usd, s.figures.idle_cost_usd
        if old is not None:
            spend, idle = spend + old.spend, idle + old.idle
        start = min(s.start, old.start) if old else s.start
        is_open = s.open or bool(old and old.open)
        points[key] = TrendPoint(key[0], key[1], start, spend, idle, is_open, rng.contains(start))
    ordered = sorted(points.values(), key=lambda p: (SCHEDULE_ORDER[p.schedule], p.start, p.label))
    result: list[TrendPoint] = []
    for schedule in SCHEDULE_ORDER:
        result.extend([p for p in ordered if p.schedule == schedule][-limit:])
    return result


def model_prices(parts: Sequence[Slice]) -> list[ModelPrice]:
    """$/1M tokens per model (over all namespaces); byModel cost, so idle is not in it (Separate)."""
    spend: dict[str, Decimal] = {}
    tokens: dict[str, int] = {}
    for s in parts:
        for m in s.figures.by_model:
            spend[m.model] = spend.get(m.model, ZERO) + m.estimated_cost_usd
            tokens[m.model] = tokens.get(m.model, 0) + m.input_tokens + m.output_tokens
    rows = [ModelPrice(m, cost, tokens[m], per_million(cost, tokens[m])) for m, cost in spend.items()]
    return sorted(rows, key=lambda r: (-r.per_million, r.model))


def cloud_prices(catalog: PriceCatalog | None, input_tokens: int, output_tokens: int) -> list[CloudPrice]:
    """Every catalog model at the range's token mix, cheapest first (empty without tokens)."""
    if catalog is None or input_tokens + output_tokens == 0:
        return []
    rows = []
    for entry in catalog.entries:
        cost = cloud_cost(entry, input_tokens, output_tokens)
        rows.append(CloudPrice(entry, cost, per_million(cost, input_tokens + output_tokens)))
    return sorted(rows, key=lambda r: (r.per_million, r.entry.provider, r.entry.model, r.entry.tier))


def cloud_summary(catalog: PriceCatalog | None, t: Totals, compare_to: tuple[str, str] | None) -> CloudSummary | None:
    if catalog is None or t.tokens == 0:
        return None
    entry: PriceEntry | None
    if compare_to is not None:
        wanted = (compare_to[0].casefold(), compare_to[1].casefold())
        entry = next((e for e in catalog.entries if (e.provider.casefold(), e.model.casefold()) == wanted), None)
    else:
        entry = cheapest(catalog, t.input_tokens, t.output_tokens)
    if entry is None:
        return None
    cost = cloud_cost(entry, t.input_tokens, t.output_tokens)
    savings = cost - t.spend
    percent = round6(savings / cost * HUNDRED) if cost else ZERO
    return CloudSummary(entry, compare_to is not None, cost, savings, percent)


def efficiency(parts: Sequence[Slice], covered_hours: Decimal) -> tuple[list[Efficiency], Decimal | None]:
    """Models whose GPU share is at least twice their token share, and what consolidating would save.

    Only models with ``gpuHours`` (ownership mode) count. The fleet rate R = Σ tokens / Σ GPU-hours of
    those models. A flagged model needs tokens / R GPU-hours at that rate; the rest is excess. Saving
    in the range = excess × its cost per GPU-hour; per month = that × 730 h / the hours the range's
    data covers. Returns the flagged models (largest saving first) and R.
    """
    gpu: dict[tuple[str, str], Decimal] = {}
    tok: dict[tuple[str, str], int] = {}
    cost: dict[tuple[str, str], Decimal] = {}
    for s in parts:
        for m in s.figures.by_model:
            if m.gpu_hours is None:
                continue
            key = (m.namespace, m.model)
            gpu[key] = gpu.get(key, ZERO) + m.gpu_hours
            tok[key] = tok.get(key, 0) + m.input_tokens + m.output_tokens
            cost[key] = cost.get(key, ZERO) + m.estimated_cost_usd
    all_gpu, all_tok = sum(gpu.values(), ZERO), sum(tok.values())
    if all_gpu == 0 or all_tok == 0 or covered_hours <= 0:
        return [], None
    rate = all_tok / all_gpu
    rows = []
    for key, hours in gpu.items():
        if hours == 0:
            continue
        gpu_share, token_share = hours / all_gpu * HUNDRED, Decimal(tok[key]) / all_tok * HUNDRED
        if token_share * 2 > gpu_share:
            continue
        excess = hours - tok[key] / rate
        saving = excess * cost[key] / hours
        rows.append(
            Efficiency(
                key[0],
                key[1],
                hours,
                tok[key],
                cost[key],
                round6(gpu_share),
                round6(token_share),
                round6(excess),
                round6(saving * HOURS_PER_MONTH / covered_hours),
            )
        )
    return sorted(rows, key=lambda r: (-r.monthly_saving, r.namespace, r.model)), round6(rate)


# ---------------------------------------------------------------------------------------------- board


def build_board(
    reports: Iterable[UsageReport],
    budgets: Iterable[TokenBudget],
    catalog: PriceCatalog | None,
    rng: DateRange,
    compare_to: tuple[str, str] | None = None,
) -> Board:
    chosen, skipped = choose_reports(reports)
    every = slices(chosen)
    before_range = rng.previous()
    now = [s for s in every if rng.contains(s.start)]
    before = [s for s in every if before_range.contains(s.start)]
    t = totals(now)
    prev = totals(before) if before else None
    covered = hours_between(t.first_start, t.last_end) if t.first_start and t.last_end else ZERO
    projected = None
    if t.last_end is not None and t.first_start is not None and t.last_end < rng.end and covered > 0:
        projected = round6(t.spend + t.spend / covered * hours_between(t.last_end, rng.end))
    flagged, rate = efficiency(now, covered)
    return Board(
        range=rng,
        previous_range=before_range,
        totals=t,
        previous=prev,
        change=change(t.spend, prev.spend) if prev else None,
        cloud=cloud_summary(catalog, t, compare_to),
        per_million=per_million(t.spend, t.tokens),
        namespaces=namespace_spend(now, before if prev else None, t.spend),
        trend=trend(every, rng),
        models=model_prices(now),
        cloud_prices=cloud_prices(catalog, t.input_tokens, t.output_tokens),
        budgets=budget_lines(budgets),
        efficiency=flagged,
        fleet_tokens_per_gpu_hour=rate,
        projected_spend=projected,
        reports=[_name(r) for r in chosen],
        skipped=skipped,
    )


def latest_accounted(reports: Iterable[UsageReport]) -> datetime | None:
    """The newest ``periodEnd`` of the reports' current periods (the default range is its month)."""
    ends = [r.status.period_end for r in reports if r.status.period_end is not None]
    return max(ends) if ends else None

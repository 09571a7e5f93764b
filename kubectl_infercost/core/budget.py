"""Month-to-date spend of a TokenBudget, its state and next threshold (docs/budgets.md).

Spend of ``spec.scope.namespace``: per CostProfile one covering UsageReport (monthly, else
weekly, else daily; or the reports named in ``spec.usageReports``), its current period plus
the history overlapping the calendar month in the report's time zone, a straddling period
prorated by time, summed over profiles. Never "whichever report ran last".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from ..models import Condition, TokenBudget, TokenBudgetStatus, UsageReport
from ..models.tokenbudget import AlertThreshold
from .conditions import set_condition
from .money import ZERO, round6
from .periods import period_of

State = Literal["OK", "Warning", "Exceeded"]
STATE_CONDITIONS: dict[State, str] = {"OK": "BudgetOK", "Warning": "BudgetWarning", "Exceeded": "BudgetExceeded"}
STATE_REASONS: dict[State, str] = {"OK": "WithinBudget", "Warning": "ThresholdCrossed", "Exceeded": "LimitReached"}
SPEND_CONDITION = "SpendMeasured"
HUNDRED = Decimal(100)
# Used when spec.alertThresholds is empty: the thresholds of the product documentation's example.
DEFAULT_THRESHOLDS = (AlertThreshold(percent=80, severity="warning"), AlertThreshold(percent=100, severity="critical"))
SCHEDULE_PREFERENCE = {"monthly": 0, "weekly": 1, "daily": 2}


def thresholds(budget: TokenBudget) -> list[AlertThreshold]:
    """The budget's thresholds, lowest first (the defaults when none are given)."""
    return sorted(budget.spec.alert_thresholds or DEFAULT_THRESHOLDS, key=lambda t: (t.percent, t.severity))


def _key(report: UsageReport) -> str:
    return f"{report.metadata.namespace}/{report.metadata.name}"


def _covers(report: UsageReport, namespace: str) -> bool:
    return not report.spec.namespaces or namespace in report.spec.namespaces


@dataclass
class Sources:
    reports: list[UsageReport]
    missing: list[str] = field(default_factory=list)  # spec.usageReports entries that do not exist


def select_sources(budget: TokenBudget, reports: Iterable[UsageReport]) -> Sources:
    """The reports the spend is taken from: spec.usageReports, else one covering report per CostProfile."""
    everything = list(reports)
    if budget.spec.usage_reports:
        by_key = {_key(r): r for r in everything}
        chosen, missing = [], []
        for ref in budget.spec.usage_reports:
            key = f"{ref.namespace or budget.metadata.namespace}/{ref.name}"
            if key in by_key:
                chosen.append(by_key[key])
            else:
                missing.append(key)
        return Sources(chosen, missing)
    best: dict[tuple[str, str], UsageReport] = {}
    for report in everything:
        if not _covers(report, budget.spec.scope.namespace):
            continue
        profile = (report.metadata.namespace or "", report.spec.cost_profile_ref)
        rank = (SCHEDULE_PREFERENCE[report.spec.schedule], _key(report))
        current = best.get(profile)
        if current is None or rank < (SCHEDULE_PREFERENCE[current.spec.schedule], _key(current)):
            best[profile] = report
    return Sources([best[p] for p in sorted(best)])


def _micros(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


def report_month_spend(report: UsageReport, namespace: str, now: datetime) -> Decimal:
    """The namespace's spend in ``report`` during the calendar month of ``now`` (report's time zone), exact."""
    month = period_of(now, "monthly", report.spec.time_zone)
    status = report.status
    total = ZERO
    for figures in [status, *status.history]:
        if figures.period_start is None or figures.period_end is None:
            continue
        cost = sum((n.estimated_cost_usd for n in figures.by_namespace if n.namespace == namespace), ZERO)
        if not cost:
            continue
        # A period is accounted from its start, or from accountingSince in the first one.
        start = max(figures.period_start, status.accounting_since or figures.period_start)
        end = figures.period_end
        overlap = _micros(min(end, month.end) - max(start, month.start))
        if overlap <= 0:
            continue
        span = _micros(end - start)
        total += cost if overlap >= span else cost * overlap / span
    return total


@dataclass
class Evaluation:
    spend: Decimal
    limit: Decimal
    utilization: Decimal | None  # percent; None when the limit is 0 and something was spent
    state: State
    crossed: AlertThreshold | None  # the highest threshold reached
    next_threshold: AlertThreshold | None
    next_at: Decimal | None  # spend at which the next threshold is reached
    left: Decimal | None  # spend left before it
    period_start: datetime
    period_end: datetime
    sources: list[str]
    missing: list[str]


def reached(spend: Decimal, limit: Decimal, percent: int) -> bool:
    """spend >= percent % of limit, exactly; nothing spent never reaches anything (a $0 budget at $0 is OK)."""
    return spend > 0 and spend * HUNDRED >= limit * percent


def next_threshold(
    spend: Decimal, limit: Decimal, levels: Sequence[AlertThreshold]
) -> tuple[AlertThreshold | None, Decimal | None, Decimal | None]:
    """The lowest threshold not reached yet (the limit itself counts as 100 %), where, and what is left."""
    candidates = list(levels)
    if all(t.percent != 100 for t in candidates):
        candidates.append(AlertThreshold(percent=100, severity="critical"))
    for level in sorted(candidates, key=lambda t: t.percent):
        if not reached(spend, limit, level.percent):
            at = round6(limit * level.percent / HUNDRED)
            return level, at, at - spend
    return None, None, None


def evaluate(budget: TokenBudget, reports: Iterable[UsageReport], now: datetime) -> Evaluation:
    sources = select_sources(budget, reports)
    namespace = budget.spec.scope.namespace
    spend = round6(sum((report_month_spend(r, namespace, now) for r in sources.reports), ZERO))
    limit = budget.spec.monthly_limit_usd
    levels = thresholds(budget)
    utilization = round6(spend * HUNDRED / limit) if limit else (ZERO if spend == 0 else None)
    crossed = [t for t in levels if reached(spend, limit, t.percent)]
    state: State = "Exceeded" if reached(spend, limit, 100) else ("Warning" if crossed else "OK")
    level, at, left = next_threshold(spend, limit, levels)
    zone = sources.reports[0].spec.time_zone if sources.reports else "UTC"
    month = period_of(now, "monthly", zone)
    return Evaluation(
        spend=spend,
        limit=limit,
        utilization=utilization,
        state=state,
        crossed=crossed[-1] if crossed else None,
        next_threshold=level,
        next_at=at,
        left=left,
        period_start=month.start,
        period_end=month.end,
        sources=[f"{_key(r)} ({r.spec.schedule})" for r in sources.reports],
        missing=sources.missing,
    )


def state_of(conditions: Sequence[Condition]) -> State | None:
    """The state the conditions record (None before the first evaluation)."""
    for state, kind in STATE_CONDITIONS.items():
        if any(c.type == kind and c.status == "True" for c in conditions):
            return state
    return None


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%" if value == value.to_integral_value() else f"{value:.2f}%"


def describe(ev: Evaluation) -> str:
    """One sentence for conditions and Events."""
    if ev.utilization is None:
        share = f"spend {_usd(ev.spend)} against a {_usd(ev.limit)} monthly limit"
    else:
        share = f"spend {_usd(ev.spend)} is {_pct(ev.utilization)} of the {_usd(ev.limit)} monthly limit"
    if ev.state == "Exceeded":
        return f"{share}: limit reached"
    text = share
    if ev.crossed is not None:
        text += f", past the {ev.crossed.percent}% ({ev.crossed.severity}) threshold"
    if ev.next_threshold is not None and ev.left is not None:
        text += f"; {_usd(ev.left)} left before {ev.next_threshold.percent}%"
    return text


def budget_status(
    budget: TokenBudget, ev: Evaluation, now: datetime, extra: Sequence[tuple[str, str, str, str]] = ()
) -> TokenBudgetStatus:
    """The new status: figures, exactly one of the three state conditions True, the spend source, ``extra``."""
    status = budget.status.model_copy(deep=True)
    status.current_spend_usd = ev.spend
    status.utilization_percent = ev.utilization
    status.period_start, status.period_end = ev.period_start, ev.period_end
    status.last_updated = now
    status.observed_generation = budget.metadata.generation
    message = describe(ev)
    conditions = status.conditions
    for state, kind in STATE_CONDITIONS.items():
        truth = "True" if state == ev.state else "False"
        conditions = set_condition(conditions, kind, truth, STATE_REASONS[ev.state], message, now)
    conditions = set_condition(conditions, SPEND_CONDITION, *_spend_condition(budget, ev), now)
    for kind, truth, reason, text in extra:
        conditions = set_condition(conditions, kind, truth, reason, text, now)
    status.conditions = conditions
    return status


def _spend_condition(budget: TokenBudget, ev: Evaluation) -> tuple[str, str, str]:
    if ev.missing:
        return "False", "UsageReportNotFound", "spec.usageReports: not found: " + ", ".join(ev.missing)
    if not ev.sources:
        return (
            "False",
            "NoUsageReport",
            f"no UsageReport covers namespace {budget.spec.scope.namespace}: spend counts as $0 "
            "(create one whose spec.namespaces is empty or lists it)",
        )
    return "True", "ReportsFound", "month to date from usagereport " + ", ".join(ev.sources)


@dataclass(frozen=True)
class Transition:
    type: Literal["Normal", "Warning"]
    reason: str


def transition(old: State | None, new: State) -> Transition | None:
    """The Event a state change deserves; None when nothing changed (or a new budget starts OK)."""
    if old == new or (old is None and new == "OK"):
        return None
    if new == "OK":
        return Transition("Normal", "BudgetRecovered")
    return Transition("Warning", STATE_CONDITIONS[new])

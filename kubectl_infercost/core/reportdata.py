"""View-models of ``kubectl infercost report``: CR models in, flat row dicts out (PURE).

Rows hold exact values: money and rates as the :class:`~decimal.Decimal` read from the CR status (no
re-rounding, so ``-o json`` round-trips), tokens as ``int``, times as aware ``datetime``, and ``None``
for what the status does not say. Figures this module computes itself are rounded half-even to 6 dp,
except cloud costs and savings, which are exact. The keys are the documented JSON/YAML keys
(docs/report.md); the table writer formats the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..models import Condition, CostProfile, ModelCost, PeriodFigures, TokenBudget, UsageReport
from .budget import next_threshold
from .budget import thresholds as budget_thresholds
from .cloud import PriceCatalog, break_even_tokens_per_day, compare
from .money import round6

# One row of a report table: the documented JSON/YAML keys and their exact values.
Record = dict[str, Any]

HOURS_PER_DAY = 24
DEFAULT_TOP = 5


def _condition(conditions: Sequence[Condition], kind: str) -> Condition | None:
    return next((c for c in conditions if c.type == kind), None)


def _status_of(conditions: Sequence[Condition], kind: str) -> str | None:
    cond = _condition(conditions, kind)
    return cond.status if cond else None


# ---------------------------------------------------------------------------------------------- profiles


def profile_rows(profiles: Iterable[CostProfile]) -> list[Record]:
    """One row per CostProfile: $/h and its parts, power and where it came from, DCGM state."""
    rows = []
    for p in profiles:
        st, hw = p.status, p.spec.hardware
        dcgm = _condition(st.conditions, "DCGMReachable")
        rows.append(
            {
                "namespace": p.metadata.namespace,
                "name": p.metadata.name,
                "gpuModel": hw.gpu_model,
                "gpuCount": hw.gpu_count,
                "hourlyCostUSD": st.hourly_cost_usd,
                "amortizationRatePerHour": st.amortization_rate_per_hour,
                "maintenanceRatePerHour": st.maintenance_rate_per_hour,
                "electricityCostPerHour": st.electricity_cost_per_hour,
                "currentPowerDrawWatts": st.current_power_draw_watts,
                "powerSource": st.power_source,
                "dcgmState": dcgm.reason if dcgm else None,
                "dcgmMessage": dcgm.message if dcgm else None,
                "ready": _status_of(st.conditions, "Ready"),
                "nodes": list(st.nodes),
                "gpuReadings": len(st.gpus),
                "lastUpdated": st.last_updated,
            }
        )
    return sorted(rows, key=lambda r: (r["namespace"] or "", r["name"]))


# ---------------------------------------------------------------------------------------------- reports


def _period_row(fig: PeriodFigures) -> Record:
    return {
        "period": fig.period,
        "periodStart": fig.period_start,
        "periodEnd": fig.period_end,
        "estimatedCostUSD": fig.estimated_cost_usd,
        "idleCostUSD": fig.idle_cost_usd,
        "inputTokens": fig.input_tokens,
        "outputTokens": fig.output_tokens,
        "totalTokens": fig.input_tokens + fig.output_tokens,
        "costPerMillionTokens": fig.cost_per_million_tokens,
        "energyKWh": fig.energy_kwh,
        "gpuHours": fig.gpu_hours,
        "activeGpuHours": fig.active_gpu_hours,
        "idleGpuHours": fig.idle_gpu_hours,
        "gpuEfficiencyRatio": fig.gpu_efficiency_ratio,
        "estimated": fig.estimated,
    }


def _ref(report: UsageReport) -> Record:
    return {"reportNamespace": report.metadata.namespace, "report": report.metadata.name}


def _report_key(report: UsageReport) -> tuple[str, str]:
    return (report.metadata.namespace or "", report.metadata.name)


def report_rows(reports: Iterable[UsageReport]) -> list[Record]:
    """One row per UsageReport: its current (open) period."""
    rows = []
    for r in sorted(reports, key=_report_key):
        st = r.status
        row: Record = {
            "namespace": r.metadata.namespace,
            "name": r.metadata.name,
            "costProfile": r.spec.cost_profile_ref,
            "schedule": r.spec.schedule,
            "timeZone": r.spec.time_zone,
        }
        row.update(_period_row(st))
        row.update(
            {
                "accountingSince": st.accounting_since,
                "historyPeriods": len(st.history),
                "ready": _status_of(st.conditions, "Ready"),
                "scrapeHealthy": _status_of(st.conditions, "ScrapeHealthy"),
                "lastUpdated": st.last_updated,
            }
        )
        rows.append(row)
    return rows


def history_rows(reports: Iterable[UsageReport]) -> list[Record]:
    """One row per closed period (``status.history``) of each report, newest first within a report.

    With the period's ``byModel`` and ``byNamespace`` breakdowns (JSON/YAML only; dearest first).
    """
    rows = []
    for r in sorted(reports, key=_report_key):
        for fig in r.status.history:
            row = _ref(r)
            row.update(_period_row(fig))
            row["source"] = fig.source or "reconcile"
            models = sorted(fig.by_model, key=lambda m: (-m.estimated_cost_usd, m.namespace, m.model))
            row["byModel"] = [_model_fields(m) for m in models]
            namespaces = sorted(fig.by_namespace, key=lambda n: (-n.estimated_cost_usd, n.namespace))
            row["byNamespace"] = [
                {"namespace": n.namespace, "estimatedCostUSD": n.estimated_cost_usd, "tokenCount": n.token_count}
                for n in namespaces
            ]
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- models


def _model_fields(m: ModelCost) -> Record:
    return {
        "namespace": m.namespace,
        "model": m.model,
        "inputTokens": m.input_tokens,
        "outputTokens": m.output_tokens,
        "totalTokens": m.input_tokens + m.output_tokens,
        "estimatedCostUSD": m.estimated_cost_usd,
        "costPerMillionTokens": m.cost_per_million_tokens,
        "idleCostUSD": m.idle_cost_usd,
        "gpuHours": m.gpu_hours,
    }


def model_rows(reports: Iterable[UsageReport]) -> list[Record]:
    """One row per ``byModel`` entry of each report's current period; by cost, dearest first."""
    rows = []
    for r in sorted(reports, key=_report_key):
        models = []
        for m in r.status.by_model:
            row = _ref(r)
            row["period"] = r.status.period
            row.update(_model_fields(m))
            models.append(row)
        models.sort(key=lambda x: (-x["estimatedCostUSD"], x["namespace"], x["model"]))
        rows.extend(models)
    return rows


def top_model_rows(reports: Iterable[UsageReport], limit: int = DEFAULT_TOP) -> list[Record]:
    """The ``limit`` dearest (report, namespace, model) rows over all reports' current periods.

    Not summed across reports: two reports of one profile (daily and monthly) count the same tokens.
    """
    rows = model_rows(reports)
    rows.sort(
        key=lambda x: (-x["estimatedCostUSD"], x["reportNamespace"] or "", x["report"], x["namespace"], x["model"])
    )
    return rows[: max(0, limit)]


def namespace_rows(reports: Iterable[UsageReport]) -> list[Record]:
    """One row per ``byNamespace`` entry of each report's current period, with $/1M and its share.

    ``costPerMillionTokens`` = cost / tokens × 1e6 (0 tokens → 0) and ``sharePercent`` = cost / the
    report's estimatedCostUSD × 100 (idle included in the denominator; total 0 → 0), both 6 dp.
    """
    rows = []
    for r in sorted(reports, key=_report_key):
        total = r.status.estimated_cost_usd
        items = []
        for ns in r.status.by_namespace:
            cost, tokens = ns.estimated_cost_usd, ns.token_count
            row = _ref(r)
            row.update(
                {
                    "period": r.status.period,
                    "periodStart": r.status.period_start,
                    "periodEnd": r.status.period_end,
                    "namespace": ns.namespace,
                    "estimatedCostUSD": cost,
                    "tokenCount": tokens,
                    "costPerMillionTokens": round6(cost / tokens * 1_000_000) if tokens else Decimal(0),
                    "sharePercent": round6(cost / total * 100) if total else Decimal(0),
                }
            )
            items.append(row)
        items.sort(key=lambda x: (-x["estimatedCostUSD"], x["namespace"]))
        rows.extend(items)
    return rows


# ---------------------------------------------------------------------------------------------- compare


def catalog_info(catalog: PriceCatalog, today: date) -> Record:
    return {
        "source": catalog.source,
        "currency": catalog.currency,
        "lastVerified": catalog.last_verified,
        "ageDays": catalog.age_days(today),
        "entries": len(catalog.entries),
    }


def compare_rows(
    reports: Iterable[UsageReport], profiles: Iterable[CostProfile], catalog: PriceCatalog
) -> list[Record]:
    """Each report's current period priced at every catalog model (docs/report.md#cloud-prices).

    ``cloudCostUSD`` and ``savingsUSD`` (cloud − on-prem) are exact; ``savingsPercent`` is 6 dp.
    ``onpremDailyCostUSD`` is the report's CostProfile ``hourlyCostUSD`` × 24 (amortization, maintenance
    and electricity at the current draw: what the GPUs cost per day whatever they serve);
    ``breakEvenTokensPerDay`` is the daily token volume, at the period's input/output mix, above which
    the cloud model would cost more than that (None when the profile has no hourly cost yet, the
    period has no tokens, or the cloud model is free).
    """
    hourly = {(p.metadata.namespace, p.metadata.name): p.status.hourly_cost_usd for p in profiles}
    rows = []
    for r in sorted(reports, key=_report_key):
        st = r.status
        rate = hourly.get((r.metadata.namespace, r.spec.cost_profile_ref))
        daily = rate * HOURS_PER_DAY if rate is not None else None
        for c in compare(catalog, st.input_tokens, st.output_tokens, st.estimated_cost_usd):
            row = _ref(r)
            row.update(
                {
                    "period": st.period,
                    "inputTokens": st.input_tokens,
                    "outputTokens": st.output_tokens,
                    "onpremCostUSD": st.estimated_cost_usd,
                    "provider": c.provider,
                    "model": c.model,
                    "tier": c.tier,
                    "inputPerMillion": c.entry.input_per_million,
                    "outputPerMillion": c.entry.output_per_million,
                    "cloudCostUSD": c.cloud_cost_usd,
                    "savingsUSD": c.savings_usd,
                    "savingsPercent": round6(c.savings_percent),
                    "onpremDailyCostUSD": daily,
                    "breakEvenTokensPerDay": (
                        break_even_tokens_per_day(c.entry, st.input_tokens, st.output_tokens, daily)
                        if daily is not None
                        else None
                    ),
                }
            )
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- budgets


def budget_state(budget: TokenBudget) -> str:
    """Exceeded, Warning or OK from the conditions (worst that is True); Unknown before a reconcile."""
    for kind, state in (("BudgetExceeded", "Exceeded"), ("BudgetWarning", "Warning"), ("BudgetOK", "OK")):
        if _status_of(budget.status.conditions, kind) == "True":
            return state
    return "Unknown"


def budget_rows(budgets: Iterable[TokenBudget]) -> list[Record]:
    """One row per TokenBudget; ``remainingUSD`` = limit − spend (negative when over), exact.

    ``nextThreshold``: the lowest threshold (or the limit, 100 %) the spend has not reached,
    ``nextThresholdUSD`` the spend at which it is reached, ``leftBeforeNextUSD`` what is left.
    """
    rows = []
    for b in budgets:
        st, limit = b.status, b.spec.monthly_limit_usd
        state = budget_state(b)
        active = _condition(st.conditions, f"Budget{state}") if state != "Unknown" else None
        levels = budget_thresholds(b)
        level, at, left = (None, None, None)
        if st.current_spend_usd is not None:
            level, at, left = next_threshold(st.current_spend_usd, limit, levels)
        rows.append(
            {
                "namespace": b.metadata.namespace,
                "name": b.metadata.name,
                "scopeNamespace": b.spec.scope.namespace,
                "monthlyLimitUSD": limit,
                "currentSpendUSD": st.current_spend_usd,
                "remainingUSD": limit - st.current_spend_usd if st.current_spend_usd is not None else None,
                "utilizationPercent": st.utilization_percent,
                "state": state,
                "message": active.message if active else None,
                "nextThreshold": None if level is None else {"percent": level.percent, "severity": level.severity},
                "nextThresholdUSD": at,
                "leftBeforeNextUSD": left,
                "thresholds": [{"percent": t.percent, "severity": t.severity} for t in levels],
                "periodStart": st.period_start,
                "periodEnd": st.period_end,
                "lastUpdated": st.last_updated,
            }
        )
    return sorted(rows, key=lambda r: (r["namespace"] or "", r["name"]))


# ---------------------------------------------------------------------------------------------- sorting


@dataclass(frozen=True)
class SortSpec:
    key: str
    descending: bool = False


def sort_rows(rows: Iterable[Record], spec: SortSpec) -> list[Record]:
    """Stable sort on one key; rows whose value is None go last either way."""
    items = list(rows)
    present = [r for r in items if r.get(spec.key) is not None]
    missing = [r for r in items if r.get(spec.key) is None]
    present.sort(key=lambda r: _sortable(r[spec.key]), reverse=spec.descending)
    return present + missing


def _sortable(value: Any) -> Any:
    if isinstance(value, list):
        return len(value)
    return value

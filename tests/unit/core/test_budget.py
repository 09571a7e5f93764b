"""TokenBudget month-to-date spend, state and next threshold, worked by hand (docs/budgets.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kubectl_infercost.core.budget import budget_status, evaluate, state_of, transition
from kubectl_infercost.models import TokenBudget, UsageReport

D = Decimal
NOW = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


def budget(limit: Any = 1000, *, thresholds: list[dict[str, Any]] | None = None, **spec: Any) -> TokenBudget:
    return TokenBudget.model_validate(
        {
            "metadata": {"name": "team-a", "namespace": "finance", "generation": 3},
            "spec": {
                "scope": {"namespace": "team-a"},
                "monthlyLimitUSD": limit,
                "alertThresholds": thresholds
                if thresholds is not None
                else [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}],
                **spec,
            },
        }
    )


def period(label: str, start: str, end: str, team_a: Any, other: Any = 0) -> dict[str, Any]:
    return {
        "period": label,
        "periodStart": start,
        "periodEnd": end,
        "byNamespace": [
            {"namespace": "team-a", "estimatedCostUSD": team_a},
            {"namespace": "team-b", "estimatedCostUSD": other},
        ],
    }


def report(
    name: str,
    schedule: str,
    current: dict[str, Any],
    history: list[dict[str, Any]] = (),  # type: ignore[assignment]
    *,
    profile: str = "h100",
    ns: str = "ops",
    tz: str = "UTC",
    namespaces: list[str] | None = None,
    since: str | None = None,
) -> UsageReport:
    status = {**current, "history": list(history)}
    if since:
        status["accountingSince"] = since
    return UsageReport.model_validate(
        {
            "metadata": {"name": name, "namespace": ns},
            "spec": {"costProfileRef": profile, "schedule": schedule, "timeZone": tz, "namespaces": namespaces or []},
            "status": status,
        }
    )


# The daily report of the h100 pool: today so far, the two days before, and March 31st.
DAILY = report(
    "h100-daily",
    "daily",
    period("2026-04-20", "2026-04-20T00:00:00Z", "2026-04-20T12:00:00Z", "10"),
    [
        period("2026-04-19", "2026-04-19T00:00:00Z", "2026-04-20T00:00:00Z", "24"),
        period("2026-04-18", "2026-04-18T00:00:00Z", "2026-04-19T00:00:00Z", "24"),
        period("2026-03-31", "2026-03-31T00:00:00Z", "2026-04-01T00:00:00Z", "50"),
    ],
    since="2026-03-31T00:00:00Z",
)
MONTHLY = report(
    "h100-monthly",
    "monthly",
    period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", "58"),
    [period("2026-03", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "900")],
)


def test_daily_and_monthly_on_one_profile_count_once_from_the_monthly() -> None:
    ev = evaluate(budget(), [DAILY, MONTHLY], NOW)
    # One covering report per profile: the monthly one, current period only (March is history): $58.
    # Summing both would give 58 + 10 + 24 + 24 = $116.
    assert ev.spend == D("58")
    assert ev.sources == ["ops/h100-monthly (monthly)"]
    assert ev.utilization == D("5.8")  # 58 / 1000 × 100
    assert ev.state == "OK"


def test_daily_report_alone_sums_current_and_history_in_the_month() -> None:
    ev = evaluate(budget(), [DAILY], NOW)
    assert ev.spend == D("58")  # 10 + 24 + 24; March 31st ($50) is last month


def test_two_profiles_sum() -> None:
    l4 = report(
        "l4-weekly",
        "weekly",
        period("2026-W17", "2026-04-20T00:00:00Z", "2026-04-20T12:00:00Z", "7.5"),
        [period("2026-W16", "2026-04-13T00:00:00Z", "2026-04-20T00:00:00Z", "70")],
        profile="l4",
    )
    ev = evaluate(budget(), [DAILY, MONTHLY, l4], NOW)
    # h100: the monthly report, $58; l4: W17 so far $7.5 + W16 (entirely in April) $70 = $77.5.
    assert ev.spend == D("135.5")  # 58 + 77.5
    assert ev.sources == ["ops/h100-monthly (monthly)", "ops/l4-weekly (weekly)"]


def test_same_profile_name_in_another_namespace_is_another_profile() -> None:
    other = report(
        "h100-daily", "daily", period("2026-04-20", "2026-04-20T00:00:00Z", "2026-04-20T12:00:00Z", "3"), ns="lab"
    )
    ev = evaluate(budget(), [MONTHLY, other], NOW)
    assert ev.spend == D("61")  # ops/h100 monthly $58 + lab/h100 daily $3 (reports in any namespace count)


def test_a_report_scoped_to_other_namespaces_does_not_cover() -> None:
    scoped = report(
        "h100-b",
        "monthly",
        period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", "999"),
        namespaces=["team-b"],
    )
    ev = evaluate(budget(), [DAILY, scoped], NOW)
    assert ev.spend == D("58")  # the daily report (covers all namespaces), not the team-b-only monthly one


def test_month_boundary_in_new_york_prorates_the_straddling_week() -> None:
    now = datetime(2026, 5, 2, 16, 0, tzinfo=UTC)  # Saturday May 2nd, 12:00 EDT (UTC-4)
    weekly = report(
        "h100-weekly",
        "weekly",
        # ISO week 18 starts Monday April 27th 00:00 EDT = 04:00Z; accounted up to now.
        period("2026-W18", "2026-04-27T04:00:00Z", "2026-05-02T16:00:00Z", "264"),
        [period("2026-W17", "2026-04-20T04:00:00Z", "2026-04-27T04:00:00Z", "500")],
        tz="America/New_York",
    )
    ev = evaluate(budget(), [weekly], now)
    # May starts 2026-05-01T00:00 EDT = 04:00Z. The week spans 27th 04:00Z .. 2nd 16:00Z = 132 h,
    # of which 1st 04:00Z .. 2nd 16:00Z = 36 h are in May: 264 × 36 / 132 = $72. W17 is all April.
    # (With UTC month boundaries it would be 40 h: $80.)
    assert ev.spend == D("72")
    assert ev.period_start == datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
    assert ev.period_end == datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def test_first_period_is_prorated_from_accounting_since() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    weekly = report(
        "w",
        "weekly",
        period("2026-W18", "2026-04-27T00:00:00Z", "2026-05-01T12:00:00Z", "30"),
        since="2026-04-30T12:00:00Z",
    )
    # Accounted from April 30th 12:00 to May 1st 12:00 (24 h), 12 h of it in May: 30 × 12 / 24 = $15.
    assert evaluate(budget(), [weekly], now).spend == D("15")


def test_states_and_next_threshold_at_the_edges() -> None:
    def at(spend: str) -> Any:
        r = report("m", "monthly", period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", spend))
        return evaluate(budget(), [r], NOW)

    below = at("799.999999")
    assert below.state == "OK"
    assert below.next_threshold is not None and below.next_threshold.percent == 80
    assert below.next_at == D("800") and below.left == D("0.000001")  # 80 % of 1000 − 799.999999
    warning = at("800")
    assert warning.state == "Warning" and warning.utilization == D("80")
    assert warning.next_threshold is not None and warning.next_threshold.percent == 100
    assert warning.left == D("200")  # 1000 − 800
    exceeded = at("1000")
    assert exceeded.state == "Exceeded" and exceeded.next_threshold is None and exceeded.left is None


def test_threshold_above_the_limit_is_next_after_exceeding() -> None:
    levels = [{"percent": 50, "severity": "warning"}, {"percent": 150, "severity": "critical"}]
    r = report("m", "monthly", period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", "120"))
    ev = evaluate(budget(100, thresholds=levels), [r], NOW)
    assert ev.state == "Exceeded" and ev.utilization == D("120")
    assert ev.next_threshold is not None and ev.next_threshold.percent == 150
    assert ev.left == D("30")  # 150 % of 100 − 120
    # Without thresholds the documented defaults apply: 80 % warning, 100 % critical.
    default = evaluate(budget(100, thresholds=[]), [r], NOW)
    assert default.crossed is not None and (default.crossed.percent, default.crossed.severity) == (100, "critical")


def test_budget_of_zero() -> None:
    nothing = report("m", "monthly", period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", "0"))
    ev = evaluate(budget(0), [nothing], NOW)
    assert (ev.spend, ev.utilization, ev.state) == (D(0), D(0), "OK")  # nothing spent, nothing exceeded
    assert ev.left == D(0)  # any spend reaches the first threshold
    some = report("m", "monthly", period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", "0.01"))
    ev = evaluate(budget(0), [some], NOW)
    assert (ev.spend, ev.utilization, ev.state) == (D("0.01"), None, "Exceeded")  # a share of $0 is undefined
    status = budget_status(budget(0), ev, NOW)
    assert status.utilization_percent is None
    assert _true(status) == ["BudgetExceeded"]


def _true(status: Any) -> list[str]:
    return [c.type for c in status.conditions if c.status == "True" and c.type.startswith("Budget")]


def test_no_report_is_a_condition_and_zero_spend() -> None:
    ev = evaluate(budget(), [], NOW)
    status = budget_status(budget(), ev, NOW)
    assert status.current_spend_usd == D(0) and _true(status) == ["BudgetOK"]
    spend = next(c for c in status.conditions if c.type == "SpendMeasured")
    assert (spend.status, spend.reason) == ("False", "NoUsageReport")
    assert spend.message is not None and "team-a" in spend.message
    assert status.observed_generation == 3 and status.last_updated == NOW


def test_explicit_usage_reports() -> None:
    refs = [{"name": "h100-daily", "namespace": "ops"}, {"name": "gone"}]
    ev = evaluate(budget(usageReports=refs), [DAILY, MONTHLY], NOW)
    assert ev.spend == D("58")  # the daily report only, as asked: 10 + 24 + 24
    assert ev.missing == ["finance/gone"]  # namespace defaults to the budget's
    spend = next(c for c in budget_status(budget(), ev, NOW).conditions if c.type == "SpendMeasured")
    assert (spend.status, spend.reason) == ("False", "UsageReportNotFound")


def test_exactly_one_state_condition_and_the_transition_events() -> None:
    r = report("m", "monthly", period("2026-04", "2026-04-01T00:00:00Z", "2026-04-20T12:00:00Z", "1020"))
    ev = evaluate(budget(), [r], NOW)
    status = budget_status(budget(), ev, NOW)
    assert _true(status) == ["BudgetExceeded"] and state_of(status.conditions) == "Exceeded"
    assert {c.type: c.status for c in status.conditions if c.type.startswith("Budget")} == {
        "BudgetExceeded": "True",
        "BudgetOK": "False",
        "BudgetWarning": "False",
    }
    t = transition("OK", "Exceeded")  # straight from OK to Exceeded: one BudgetExceeded
    assert t is not None and (t.type, t.reason) == ("Warning", "BudgetExceeded")
    t = transition("Exceeded", "OK")
    assert t is not None and (t.type, t.reason) == ("Normal", "BudgetRecovered")
    t = transition(None, "Warning")
    assert t is not None and t.reason == "BudgetWarning"
    assert transition(None, "OK") is None and transition("Warning", "Warning") is None

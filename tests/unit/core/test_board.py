"""Board report figures, worked by hand from a three-day daily report (two teams, two models)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from kubectl_infercost.core.board import build_board, choose_reports, latest_accounted
from kubectl_infercost.core.board_budgets import budget_lines, month_end
from kubectl_infercost.core.board_range import dates_range, month_of, period_range
from kubectl_infercost.errors import UsageError
from kubectl_infercost.models import HistoryEntry, TokenBudget, UsageReport
from tests.boardworld import CATALOG, period, report

D = Decimal


def board(rng: Any, reports: list[UsageReport] | None = None, **kw: Any) -> Any:
    return build_board([report()] if reports is None else reports, [], CATALOG, rng, **kw)


def test_two_day_range_against_the_day_before() -> None:
    b = board(dates_range(date(2026, 4, 19), date(2026, 4, 21)))
    assert b.range.label == "2026-04-19 to 2026-04-20" and b.previous_range.label == "2026-04-17 to 2026-04-18"
    t = b.totals
    # 120 + 30 spend, 20 + 6 idle; 1.5M + 0.3M input, 0.5M + 0.1M output.
    assert (t.spend, t.idle, t.allocated, t.input_tokens, t.output_tokens) == (150, 26, 124, 1_800_000, 600_000)
    assert t.idle_percent == D("17.333333")  # 26 / 150
    assert b.per_million == D("62.5")  # 150 / 2.4M × 1M
    assert b.change is not None and (b.change.previous, b.change.delta, b.change.percent) == (100, 50, 50)

    a, bb = b.namespaces
    # team-a: 90 + 20 = 110 of 150 = 73.333333 %, against 60 (+50, +83.333333 %).
    assert (a.namespace, a.spend, a.tokens, a.share_percent) == ("team-a", 110, 2_100_000, D("73.333333"))
    assert a.change is not None and (a.change.previous, a.change.delta, a.change.percent) == (60, 50, D("83.333333"))
    # team-b: 10 + 4 = 14 (9.333333 %), against 30: −16, −53.333333 %.
    assert (bb.spend, bb.tokens, bb.share_percent) == (14, 300_000, D("9.333333"))
    assert bb.change is not None and (bb.change.delta, bb.change.percent) == (-16, D("-53.333333"))

    # Cheapest for 1.8M in / 0.6M out: beta 0.18 + 0.24 = 0.42 (acme: 4.50 + 6.00 = 10.50).
    assert b.cloud is not None and b.cloud.entry.provider == "beta" and not b.cloud.chosen
    assert (b.cloud.cost, b.cloud.savings) == (D("0.42"), D("-149.58"))
    assert b.cloud.savings_percent == D("-35614.285714")  # −149.58 / 0.42 × 100
    assert [(c.entry.model, c.cost, c.per_million) for c in b.cloud_prices] == [
        ("m2", D("0.42"), D("0.175")),  # 0.42 / 2.4M × 1M
        ("m1", D("10.50"), D("4.375")),
    ]
    # llama 110 / 2.1M = 52.380952 per 1M; qwen 14 / 0.3M = 46.666667.
    assert [(m.model, m.spend, m.tokens, m.per_million) for m in b.models] == [
        ("llama-70b", 110, 2_100_000, D("52.380952")),
        ("qwen-7b", 14, 300_000, D("46.666667")),
    ]
    # Data from 04-19 00:00 to 04-20 06:00 (30 h) of a 48 h range: 150 + 150 / 30 × 18 = 240.
    assert b.projected_spend == 240


def test_efficiency_flags_the_model_whose_gpus_outweigh_its_tokens() -> None:
    b = board(dates_range(date(2026, 4, 19), date(2026, 4, 21)))
    # GPU-hours: llama 48 + 12 = 60, qwen 24 + 6 = 30 (90); tokens 2.1M and 0.3M (2.4M).
    # Fleet rate 2.4M / 90 = 26,666.666667 tokens per GPU-hour.
    assert b.fleet_tokens_per_gpu_hour == D("26666.666667")
    (e,) = b.efficiency  # qwen: 33.3 % of GPU-hours, 12.5 % of tokens; llama (66.7 %, 87.5 %) is fine
    assert (e.namespace, e.model, e.gpu_hours, e.tokens, e.spend) == ("team-b", "qwen-7b", 30, 300_000, 14)
    assert (e.gpu_share, e.token_share) == (D("33.333333"), D("12.5"))
    # Needs 300,000 / 26,666.67 = 11.25 GPU-h: 18.75 excess × $14 / 30 GPU-h = $8.75 in 30 h of data,
    # × 730 / 30 = $212.916667 a month.
    assert (e.excess_gpu_hours, e.monthly_saving) == (D("18.75"), D("212.916667"))


def test_compare_to_picks_the_named_cloud_model() -> None:
    b = board(dates_range(date(2026, 4, 19), date(2026, 4, 21)), compare_to=("ACME", "m1"))
    # 1.8M × 2.50 + 0.6M × 10.00 per 1M = 4.50 + 6.00; 10.50 − 150 = −139.50 = −1,328.571429 %.
    assert b.cloud is not None and b.cloud.chosen
    assert (b.cloud.cost, b.cloud.savings, b.cloud.savings_percent) == (D("10.50"), D("-139.50"), D("-1328.571429"))
    assert board(period_range("2026-04-19"), compare_to=("nobody", "x")).cloud is None


def test_one_day_against_the_previous_day() -> None:
    b = board(period_range("2026-04-20"))
    assert b.previous_range.label == "2026-04-19"
    assert b.change is not None and (b.change.delta, b.change.percent) == (-90, -75)  # 30 vs 120
    # Six of 24 hours: 30 + 30 / 6 × 18 = 120 at the current rate.
    assert b.projected_spend == 120
    assert [p.label for p in b.trend] == ["2026-04-18", "2026-04-19", "2026-04-20"]
    assert [(p.in_range, p.open) for p in b.trend] == [(False, False), (False, False), (True, True)]


def test_no_previous_range_means_no_change_at_all() -> None:
    b = board(period_range("2026-04-18"))
    assert b.has_data and b.previous is None and b.change is None
    assert all(ns.change is None for ns in b.namespaces)
    assert b.projected_spend is None  # the closed day is complete


def test_previous_range_that_cost_nothing_has_no_percentage() -> None:
    free = period("2026-04-17", "0", "0", ("0", 0, 0, 0), ("0", 0, 0, 0))
    r = report()
    status = UsageReport.model_validate({**r.model_dump(by_alias=True), "status": free}).status
    r.status.history.append(HistoryEntry.model_validate(status.model_dump(include=set(HistoryEntry.model_fields))))
    b = board(period_range("2026-04-18"), [r])
    assert b.change is not None and (b.change.previous, b.change.delta, b.change.percent) == (0, 100, None)
    assert b.namespaces[0].change is not None and b.namespaces[0].change.percent is None


def test_empty_board_divides_by_nothing() -> None:
    b = build_board([], [], None, period_range("2026-04"))
    assert not b.has_data and b.totals.spend == 0 and b.per_million == 0 and b.totals.idle_percent == 0
    assert (b.change, b.cloud, b.projected_spend, b.fleet_tokens_per_gpu_hour) == (None, None, None, None)
    assert [b.namespaces, b.models, b.trend, b.cloud_prices, b.efficiency] == [[], [], [], [], []]
    never = UsageReport.model_validate({"metadata": {"name": "new"}, "spec": {"costProfileRef": "x"}})
    assert not build_board([never], [], CATALOG, period_range("2026-04")).has_data
    assert latest_accounted([never]) is None


def test_one_report_per_profile_so_no_gpu_counts_twice() -> None:
    daily, monthly = report(), report("monthly", "monthly")
    partial = report("team-a-only", namespaces=["team-a"])
    other = report("other", profile="a100")
    chosen, skipped = choose_reports([monthly, partial, daily, other])
    assert [r.metadata.name for r in chosen] == ["other", "daily"]  # sorted by (namespace, profile)
    assert skipped == [("gpu-ops/monthly", "gpu-ops/daily"), ("gpu-ops/team-a-only", "gpu-ops/daily")]
    b = board(period_range("2026-04-18"), [monthly, daily])
    assert b.totals.spend == 100 and b.reports == ["gpu-ops/daily"]
    # Two profiles of one schedule add up per day in the trend: 100 + 100 on 04-18.
    assert board(period_range("2026-04-18"), [daily, other]).trend[0].spend == 200


def budget(spend: str | None, start: str, end: str, limit: int = 500) -> TokenBudget:
    status = {"currentSpendUSD": spend, "periodStart": start, "periodEnd": end} if spend else {}
    thresholds = [{"percent": 100, "severity": "critical"}, {"percent": 80, "severity": "warning"}]
    spec = {"scope": {"namespace": "team-a"}, "monthlyLimitUSD": limit, "alertThresholds": thresholds}
    meta = {"name": f"b{limit}", "namespace": "gpu-ops"}
    return TokenBudget.model_validate({"metadata": meta, "spec": spec, "status": status})


def test_budget_month_end_projection() -> None:
    fresh, berlin, utc = budget_lines(  # sorted by name: b300, b400, b500
        [
            # 155 in 10 days (240 h) of April's 720 h: 155 × 720 / 240 = 465, 93 % of 500.
            budget("155", "2026-04-01T00:00:00Z", "2026-04-11T00:00:00Z"),
            # April in Europe/Berlin starts 2026-03-31T22:00Z: 100 in 15 days → 200 of 400 = 50 %.
            budget("100", "2026-03-31T22:00:00Z", "2026-04-15T22:00:00Z", 400),
            budget(None, "", "", 300),
        ]
    )
    assert (utc.projected, utc.projected_utilization, utc.thresholds) == (Decimal(465), Decimal(93), (80, 100))
    assert (berlin.projected, berlin.projected_utilization) == (Decimal(200), Decimal(50))
    assert (fresh.spend, fresh.projected, fresh.state) == (None, None, "Unknown")
    assert month_end(datetime(2026, 1, 31, 23, tzinfo=UTC)) == datetime(2026, 2, 28, 23, tzinfo=UTC)


def test_ranges() -> None:
    week = period_range("2026-W17")
    assert (week.start, week.end) == (datetime(2026, 4, 20, tzinfo=UTC), datetime(2026, 4, 27, tzinfo=UTC))
    assert week.previous().label == "2026-W16"
    march = period_range("2026-03")
    assert march.previous().label == "2026-02" and march.previous().hours == 28 * 24  # month over month
    days = dates_range(date(2026, 4, 10), date(2026, 4, 17))
    prev = days.previous()
    assert (prev.label, prev.hours) == ("2026-04-03 to 2026-04-09", 7 * 24)  # the same length just before
    assert month_of(datetime(2026, 4, 20, 10, tzinfo=UTC)).label == "2026-04"
    with pytest.raises(UsageError, match="must be after --from"):
        dates_range(date(2026, 4, 10), date(2026, 4, 10))


def test_run_rate_starts_when_accounting_did() -> None:
    r = report()
    r.status.accounting_since = datetime(2026, 4, 20, 3, tzinfo=UTC)
    r.status.history = []
    # $30 in the 3 h from 03:00 to 06:00, not in 6 h: 30 + 30 / 3 × 18 remaining hours = 210.
    assert board(period_range("2026-04-20"), [r]).projected_spend == 210

"""Backfill's pure core: which periods, growth per step, and one period worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from kubectl_infercost.core.accounting import advance
from kubectl_infercost.core.backfill import (
    GpuHistory,
    OwnerSample,
    PeriodHistory,
    TokenSeries,
    account_period,
    merge_history,
    plan_periods,
    resolve_bound,
    step_growth,
    steps,
)
from kubectl_infercost.core.cost import GpuEnergy
from kubectl_infercost.core.counters import CounterSample
from kubectl_infercost.core.deltas import PodObservation, TokenCounter
from kubectl_infercost.core.periods import Period, period_of
from kubectl_infercost.models import CostProfileSpec, HistoryEntry, UsageReportSpec, UsageReportStatus

NY = "America/New_York"
# America/New_York: EDT (UTC-4) until 2026-11-01 06:00Z, EST (UTC-5) after.
SEP = datetime(2026, 9, 1, 4, tzinfo=UTC)
OCT = datetime(2026, 10, 1, 4, tzinfo=UTC)
NOV = datetime(2026, 11, 1, 4, tzinfo=UTC)
DEC = datetime(2026, 12, 1, 5, tzinfo=UTC)
SINCE_ACCOUNTING = datetime(2026, 12, 2, 15, tzinfo=UTC)


def monthly(**extra: object) -> UsageReportSpec:
    return UsageReportSpec.model_validate({"costProfileRef": "p", "schedule": "monthly", "timeZone": NY, **extra})


def reconciled(accounting_since: datetime = SINCE_ACCOUNTING, history: list[dict[str, object]] | None = None):  # type: ignore[no-untyped-def]
    start = period_of(accounting_since, "monthly", NY)
    return UsageReportStatus.model_validate(
        {
            "period": start.label,
            "periodStart": start.start,
            "periodEnd": accounting_since,
            "accountingSince": accounting_since,
            "history": history or [],
        }
    )


def labels(plan_periods_result: list[Period]) -> list[str]:
    return [p.label for p in plan_periods_result]


CUT_NOTE = "2026-12: contains accountingSince; only live accounting is kept for it"


@pytest.mark.parametrize(
    ("spec", "status", "since", "until", "in_service", "expected", "notes"),
    [
        # Sep, Oct, Nov are whole and before accountingSince; December is cut by it
        (monthly(), reconciled(), date(2026, 9, 1), None, None, ["2026-11", "2026-10", "2026-09"], [CUT_NOTE]),
        # October is already in history: left untouched
        (
            monthly(),
            reconciled(history=[{"period": "2026-10", "periodStart": OCT, "periodEnd": NOV}]),
            date(2026, 9, 1),
            None,
            None,
            ["2026-11", "2026-09"],
            [CUT_NOTE, "2026-10: already accounted; left untouched"],
        ),
        # a daily entry inside November (another schedule once) overlaps November: not written
        (
            monthly(),
            reconciled(history=[{"period": "2026-11-20", "periodStart": datetime(2026, 11, 20, 5, tzinfo=UTC)}]),
            date(2026, 10, 1),
            None,
            None,
            ["2026-10"],
            [CUT_NOTE, "2026-11: already accounted; left untouched"],
        ),
        # historyLimit 2 with nothing kept: the two newest
        (
            monthly(historyLimit=2),
            reconciled(),
            date(2026, 9, 1),
            None,
            None,
            ["2026-11", "2026-10"],
            [CUT_NOTE, "2026-09 and older: beyond historyLimit 2 (0 kept + 2 backfilled); not written"],
        ),
        # historyLimit 2 with one kept: room for one
        (
            monthly(historyLimit=2),
            reconciled(history=[{"period": "2026-08", "periodStart": datetime(2026, 8, 1, 4, tzinfo=UTC)}]),
            date(2026, 9, 1),
            None,
            None,
            ["2026-11"],
            [CUT_NOTE, "2026-10 and older: beyond historyLimit 2 (1 kept + 1 backfilled); not written"],
        ),
        # --since in the middle of September: September is cut by it, not written
        (monthly(), reconciled(), date(2026, 9, 15), None, None, ["2026-11", "2026-10"], [CUT_NOTE]),
        # a date is midnight in the report's zone: 2026-11-01 is 04:00Z, November's own start
        (monthly(), reconciled(), date(2026, 11, 1), None, None, ["2026-11"], [CUT_NOTE]),
        # an instant is used as is: one hour after November's start cuts it
        (monthly(), reconciled(), datetime(2026, 11, 1, 5, tzinfo=UTC), None, None, [], [CUT_NOTE]),
        # --until in mid-November: only periods ending by then
        (monthly(), reconciled(), date(2026, 9, 1), date(2026, 11, 15), None, ["2026-10", "2026-09"], []),
        # accountingSince exactly at December's start: November is whole, nothing is cut
        (monthly(), reconciled(DEC), date(2026, 11, 1), None, None, ["2026-11"], []),
        # amortization not yet running before inServiceDate (UTC midnight): September and October are skipped
        (monthly(), reconciled(), date(2026, 9, 1), None, date(2026, 10, 15), ["2026-11"], [CUT_NOTE]),
        # historyLimit 0: nothing fits
        (
            monthly(historyLimit=0),
            reconciled(),
            date(2026, 11, 1),
            None,
            None,
            [],
            [CUT_NOTE, "2026-11 and older: beyond historyLimit 0 (0 kept + 0 backfilled); not written"],
        ),
    ],
)
def test_plan_periods(spec, status, since, until, in_service, expected, notes) -> None:  # type: ignore[no-untyped-def]
    plan = plan_periods(spec, status, since, until, in_service)
    assert labels(plan.periods) == expected
    assert plan.notes == notes


def test_plan_periods_in_new_york_are_local_months() -> None:
    plan = plan_periods(monthly(), reconciled(), date(2026, 9, 1))
    # November in New York: from 2026-11-01 00:00 EDT (04:00Z) to 2026-12-01 00:00 EST (05:00Z)
    assert [(p.start, p.end) for p in plan.periods] == [(NOV, DEC), (OCT, NOV), (SEP, OCT)]


def test_a_report_never_reconciled_is_not_backfilled() -> None:
    plan = plan_periods(monthly(), UsageReportStatus(), date(2026, 9, 1))
    assert plan.periods == []
    assert plan.notes == ["never reconciled (no status.accountingSince): run reconcile first, then backfill"]


def test_resolve_bound() -> None:
    assert resolve_bound(date(2026, 11, 1), NY) == NOV
    assert resolve_bound(date(2026, 11, 1), "UTC") == datetime(2026, 11, 1, tzinfo=UTC)
    assert resolve_bound(datetime(2026, 11, 1, 1, tzinfo=UTC), NY) == datetime(2026, 11, 1, 1, tzinfo=UTC)


def test_steps_end_at_the_period_end() -> None:
    # 2026-11-01 in New York has 25 hours (EDT -> EST): 10 h steps give 10, 10, 5
    day = period_of(datetime(2026, 11, 1, 12, tzinfo=UTC), "daily", NY)
    got = steps(day, timedelta(hours=10))
    assert got == [NOV, NOV + timedelta(hours=10), NOV + timedelta(hours=20), NOV + timedelta(hours=25)]


def S(seconds: int, value: int) -> CounterSample:
    return CounterSample(seconds * 1000, D(value))


@pytest.mark.parametrize(
    ("samples", "new_from_zero", "expected"),
    [
        # baseline 100 at t=0 (the start bound); +50, reset to 20 (counts 20), +30; next step +10
        ([S(0, 100), S(10, 150), S(20, 20), S(30, 50), S(40, 60)], True, [D(100), D(10)]),
        # a sample exactly at the step boundary (t=30) belongs to the first step
        ([S(-5, 0), S(30, 7), S(31, 9)], True, [D(7), D(2)]),
        # a gap over the whole first step: the growth arrives with the first sample after it
        ([S(-5, 10), S(50, 40)], True, [D(0), D(30)]),
        # a series new in the period: its first sample counts whole (tokens) ...
        ([S(5, 12), S(35, 20)], True, [D(12), D(8)]),
        # ... or is only a baseline (energy counters)
        ([S(5, 12), S(35, 20)], False, [D(0), D(8)]),
        # samples after the last bound are not counted
        ([S(0, 1), S(60, 5), S(61, 9)], True, [D(0), D(4)]),
        ([], True, [D(0), D(0)]),
    ],
)
def test_step_growth(samples: list[CounterSample], new_from_zero: bool, expected: list[D]) -> None:
    assert step_growth(samples, [0, 30_000, 60_000], new_from_zero=new_from_zero) == expected


# -------------------------------------------------------------------------------------- one period by hand

PROFILE = CostProfileSpec.model_validate(
    {
        # 17,520 / (2 years x 8,760 h) = $1/h for the pool; no maintenance; $0.10/kWh, PUE 1
        "hardware": {"gpuModel": "L40S", "gpuCount": 2, "purchasePriceUSD": 17520, "amortizationYears": 2},
        "electricity": {"ratePerKWh": "0.10", "pueFactor": "1.0"},
    }
)
DAY = Period("2026-11-10", datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC))
E0 = int(DAY.start.timestamp())
H = 3600
KWH = 3_600_000_000  # mJ


def T(seconds: int, value: int) -> CounterSample:
    return CounterSample((E0 + seconds) * 1000, D(value))


A = TokenSeries(
    "team-a",
    "a",
    'model_name="llama"',
    "llama",
    # baseline 100 before the period; reset at 6 h; a sample at 12 h exactly; a gap from 12 h to 20 h
    [T(-600, 100), T(1 * H, 300), T(6 * H, 50), T(12 * H, 150), T(20 * H, 400)],
    [T(-600, 10), T(12 * H, 60), T(24 * H, 100)],
)
B = TokenSeries("team-b", "b", "", None, [T(13 * H, 1000), T(14 * H, 1500)], [])  # new in the period
C = TokenSeries("team-c", "c", "", None, [T(-600, 0), T(1 * H, 999)], [])  # not in the report's namespaces
OWNED_A = ("team-a", "a")
GPU0 = GpuHistory(
    "GPU-0",
    "node-1",
    [T(-60, 0), T(12 * H, KWH), T(24 * H, 3 * KWH)],
    [],
    [OwnerSample((E0 + t) * 1000, OWNED_A) for t in (-60, 12 * H, 24 * H)],
)
GPU1 = GpuHistory(
    "GPU-1",
    "node-1",
    # +1 kWh in the first half; a reset at 18 h to 0.5 kWh (counts whole), then +0.5 kWh
    [T(-60, 2 * KWH), T(12 * H, 3 * KWH), T(18 * H, KWH // 2), T(24 * H, KWH)],
    [],
    [OwnerSample((E0 + t) * 1000, None) for t in (-60, 12 * H)]
    + [OwnerSample((E0 + t) * 1000, ("team-b", "b")) for t in (18 * H, 24 * H)],
)
HISTORY = PeriodHistory([A, B, C], [GPU0, GPU1], {("team-b", "b"): "mistral"})
SPEC = UsageReportSpec.model_validate({"costProfileRef": "p", "namespaces": ["team-a", "team-b"]})


def test_one_day_in_two_twelve_hour_steps() -> None:
    entry = account_period(SPEC, PROFILE, DAY, HISTORY, timedelta(hours=12), None)
    # Step 1 (0 h, 12 h]: cost = 12 h x $1 + (1 + 1) kWh x $0.10 = 12.2. At 12 h GPU-0 is a's, GPU-1 nobody's.
    #   a: tokens in = (300-100) + 50 (reset) + (150-50) = 350, out = 60-10 = 50; pays 12.2 x 1/2 = 6.1
    #   idle = 6.1; gpuHours 2 x 12 = 24, active 12, idle 12; active share 1/2: 6 h, 1 kWh, $0.1
    # Step 2 (12 h, 24 h]: cost = 12 + (2 + 1) kWh x 0.10 = 12.3. At 24 h GPU-0 is a's, GPU-1 b's.
    #   a: in = 400-150 = 250, out = 100-60 = 40, pays 6.15; b (new): in = 1500 (1000 counts whole), pays 6.15
    #   gpuHours 24, all active; 12 h, 3 kWh, $0.3 active
    assert entry.source == "prometheus-backfill"
    assert (entry.period, entry.period_start, entry.period_end) == ("2026-11-10", DAY.start, DAY.end)
    rows = {(m.namespace, m.model): m for m in entry.by_model}
    assert sorted(rows) == [("team-a", "llama"), ("team-b", "mistral")]
    llama, mistral = rows[("team-a", "llama")], rows[("team-b", "mistral")]
    assert (llama.input_tokens, llama.output_tokens, llama.estimated_cost_usd) == (600, 90, D("12.25"))
    assert llama.gpu_hours == D(24)
    assert (mistral.input_tokens, mistral.output_tokens, mistral.estimated_cost_usd) == (1500, 0, D("6.15"))
    assert mistral.gpu_hours == D(12)
    assert (entry.input_tokens, entry.output_tokens) == (2100, 90)
    assert entry.idle_cost_usd == D("6.1")
    assert entry.estimated_cost_usd == D("24.5")  # 12.2 + 12.3
    assert entry.energy_kwh == D(5)
    assert (entry.gpu_hours, entry.active_gpu_hours, entry.idle_gpu_hours) == (D(48), D(36), D(12))
    assert entry.gpu_efficiency_ratio == D("0.75")
    assert (entry.total_hours_in_period, entry.active_hours_in_period) == (D(24), D(18))
    assert entry.utilization_percent == D(75)
    assert (entry.active_energy_kwh, entry.active_energy_cost_usd) == (D(4), D("0.4"))
    # 24.5 / 2,190 tokens x 1e6 = 11,187.2146118... ; 0.4 / 2,190 x 1e6 = 182.6484018...
    assert entry.cost_per_million_tokens == D("11187.214612")
    assert entry.marginal_cost_per_million_tokens == D("182.648402")
    assert [(n.namespace, n.estimated_cost_usd, n.token_count) for n in entry.by_namespace] == [
        ("team-a", D("12.25"), 690),
        ("team-b", D("6.15"), 1500),
    ]
    assert entry.estimated is False


def test_proportional_idle_is_spread_when_the_period_closes() -> None:
    spec = SPEC.model_copy(update={"idle_cost_policy": "Proportional"})
    entry = account_period(spec, PROFILE, DAY, HISTORY, timedelta(hours=12), None)
    # idle 6.1 = 6,100,000 micro-dollars by weighted tokens 690 : 1,500 (largest remainder)
    # 6,100,000 x 690 / 2,190 = 1,921,917.8 -> 1,921,918; 6,100,000 x 1,500 / 2,190 = 4,178,082.2 -> 4,178,082
    rows = {m.model: m for m in entry.by_model}
    assert rows["llama"].idle_cost_usd == D("1.921918")
    assert rows["mistral"].idle_cost_usd == D("4.178082")
    assert rows["llama"].estimated_cost_usd == D("14.171918")  # 12.25 + 1.921918
    assert entry.idle_cost_usd == 0
    assert entry.estimated_cost_usd == D("24.5")


def test_without_readings_it_falls_back_to_tdp_and_tokens() -> None:
    profile = PROFILE.model_copy(update={"hardware": PROFILE.hardware.model_copy(update={"tdp_watts": D(500)})})
    entry = account_period(SPEC, profile, DAY, PeriodHistory([A], []), timedelta(hours=24), None)
    # one 24 h step: 24 x $1 + TDP 500 W x 2 GPUs x 24 h = 24 kWh x 0.10 = 2.4 -> 26.4, all to llama (token mode)
    assert entry.energy_kwh == D(24)
    assert [(m.model, m.input_tokens, m.output_tokens, m.estimated_cost_usd) for m in entry.by_model] == [
        ("llama", 600, 90, D("26.4"))
    ]
    assert entry.idle_cost_usd == 0


def test_the_same_figures_as_reconcile_passes_at_every_step() -> None:
    """Monotone counters: the entry equals the history entry that advance() writes with a pass per step."""
    spec = UsageReportSpec.model_validate({"costProfileRef": "p"})
    # a sample at every pass instant, as a scrape every step would have stored
    hours = (0, 6, 12, 18, 24)
    tokens = dict(zip(hours, (0, 500, 500, 500, 800), strict=True))
    energy = dict(zip(hours, (0, KWH, KWH, KWH, 4 * KWH), strict=True))
    series = TokenSeries("team-a", "a", 'model_name="llama"', "llama", [T(h * H, tokens[h]) for h in hours], [])
    owners = [OwnerSample((E0 + h * H) * 1000, OWNED_A) for h in hours]
    gpu = GpuHistory("GPU-0", "n", [T(h * H, energy[h]) for h in hours], [], owners)
    entry = account_period(spec, PROFILE, DAY, PeriodHistory([series], [gpu]), timedelta(hours=6), None)

    status = UsageReportStatus()
    for hour in (*hours, 25):  # the pass at 25 h closes the day
        counter = {'model_name="llama"': TokenCounter("llama", tokens[min(hour, 24)], 0)}
        pod = PodObservation("uid-a", "team-a", "a", "llama", DAY.start - timedelta(days=1), 1, counter)
        gpus = [GpuEnergy("GPU-0", "n", energy[min(hour, 24)], None)]
        status = advance(spec, status, PROFILE, DAY.start + timedelta(hours=hour), [pod], gpus, None).status
    live = status.history[0]
    assert entry.model_dump(exclude={"source"}) == live.model_dump(exclude={"source"})
    assert live.source is None and entry.source == "prometheus-backfill"


def test_merge_history_keeps_everything_else() -> None:
    status = reconciled(history=[{"period": "2026-12-01", "periodStart": DEC, "estimatedCostUSD": "3"}])
    added = HistoryEntry(period="2026-11", period_start=NOV, period_end=DEC, source="prometheus-backfill")
    merged = merge_history(status, [added])
    assert [h.period for h in merged.history] == ["2026-12-01", "2026-11"]
    assert merged.model_dump(exclude={"history"}) == status.model_dump(exclude={"history"})
    assert status.history[0].period == "2026-12-01" and len(status.history) == 1  # the input is not changed


def test_series_present_when_prometheus_data_begins_are_only_baselined() -> None:
    """Prometheus' data begins at 6 h (its first scrape, or its retention edge): what a series held then is old."""
    old = TokenSeries("team-a", "a", "", "llama", [T(6 * H, 1_000_000), T(7 * H, 1_000_500)], [])
    # first scraped 2 minutes after Prometheus' first sample: still among the first scrape's series
    late_scrape = TokenSeries("team-a", "a2", "", "llama", [T(6 * H + 120, 70_000), T(7 * H, 70_100)], [])
    # first seen an hour later, while Prometheus was scraping: a new pod, its first sample counts whole
    new = TokenSeries("team-b", "b", "", "mistral", [T(7 * H, 300), T(8 * H, 400)], [])
    history = PeriodHistory([old, late_scrape, new], [], data_begins_ms=(E0 + 6 * H) * 1000)
    entry = account_period(SPEC, PROFILE, DAY, history, timedelta(hours=24), None)
    # a: 1,000,500 - 1,000,000 = 500; a2: 70,100 - 70,000 = 100; b: 300 + 100 = 400
    assert [(m.namespace, m.model, m.input_tokens) for m in entry.by_model] == [
        ("team-a", "llama", 600),
        ("team-b", "mistral", 400),
    ]

"""Advancing one UsageReport by one interval, every figure worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from kubectl_infercost.core.accounting import advance
from kubectl_infercost.core.cost import GpuEnergy
from kubectl_infercost.core.deltas import PodObservation, TokenCounter
from kubectl_infercost.errors import InvalidDataError
from kubectl_infercost.models import CostProfileSpec, UsageReportSpec, UsageReportStatus

T0 = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)

PROFILE = CostProfileSpec.model_validate(
    {
        "hardware": {
            "gpuModel": "NVIDIA H100",
            "gpuCount": 8,
            "purchasePriceUSD": 240000,
            "amortizationYears": 4,
            "maintenancePercentPerYear": "0.05",
            "tdpWatts": 700,
        },
        "electricity": {"ratePerKWh": "0.10", "pueFactor": "1.5"},
    }
)


def spec(**extra: object) -> UsageReportSpec:
    return UsageReportSpec.model_validate({"costProfileRef": "h100", **extra})


def pod(
    uid: str, ns: str, model: str, tokens: tuple[int, int] | None, gpus: int = 0, started: datetime | None = None
) -> PodObservation:
    series = None if tokens is None else {f'model_name="{model}"': TokenCounter(model, *tokens)}
    return PodObservation(uid, ns, f"pod-{uid}", model, started or T0 - timedelta(days=1), gpus, series)


def gpus(energy_mj: int, power: str | None = "500") -> list[GpuEnergy]:
    return [GpuEnergy(f"GPU-{i}", "node-1", energy_mj, None if power is None else D(power)) for i in range(8)]


def run(s: UsageReportSpec, steps: list[tuple[datetime, list[PodObservation], list[GpuEnergy]]]) -> UsageReportStatus:
    status = UsageReportStatus()
    for now, pods, g in steps:
        status = advance(s, status, PROFILE.model_copy(), now, pods, g, None).status
    return status


def check_invariants(st: UsageReportStatus) -> None:
    for p in [st, *st.history]:
        assert sum((m.estimated_cost_usd for m in p.by_model), D(0)) + p.idle_cost_usd == p.estimated_cost_usd
        assert sum((n.estimated_cost_usd for n in p.by_namespace), D(0)) + p.idle_cost_usd == p.estimated_cost_usd
        assert sum(m.input_tokens for m in p.by_model) == p.input_tokens
        assert sum(n.token_count for n in p.by_namespace) == p.input_tokens + p.output_tokens
        assert all(m.estimated_cost_usd >= 0 for m in p.by_model) and p.idle_cost_usd >= 0


def test_worked_example_token_mode() -> None:
    # amortization 240000/(4*8760) = 6.849315.../h; maintenance 240000*0.05/8760 = 1.369863.../h
    # energy: 8 GPUs x 1.8e9 mJ = 14.4e9 mJ = 4.0 kWh -> 4.0 * 1.5 * 0.10 = 0.60; C = 8.819178082...
    # A: 600,000 + 200,000 = 800,000 of 1,000,000 weighted tokens -> 7.055342; B 200,000 -> 1.763836
    st = run(
        spec(),
        [
            (
                T0,
                [pod("a", "team-a", "llama-3-8b", (1_000, 500)), pod("b", "team-b", "qwen2.5-7b", (0, 0))],
                gpus(10**10),
            ),
            (
                T1,
                [
                    pod("a", "team-a", "llama-3-8b", (601_000, 200_500)),
                    pod("b", "team-b", "qwen2.5-7b", (100_000, 100_000)),
                ],
                gpus(10**10 + 1_800_000_000),
            ),
        ],
    )
    rows = {(m.namespace, m.model): m for m in st.by_model}
    assert rows[("team-a", "llama-3-8b")].estimated_cost_usd == D("7.055342")
    assert rows[("team-b", "qwen2.5-7b")].estimated_cost_usd == D("1.763836")
    assert (rows[("team-a", "llama-3-8b")].input_tokens, rows[("team-a", "llama-3-8b")].output_tokens) == (
        600_000,
        200_000,
    )
    assert st.estimated_cost_usd == D("8.819178")
    assert st.idle_cost_usd == 0
    assert st.cost_per_million_tokens == D("8.819178")
    assert st.energy_kwh == D("4.000000")
    assert (st.input_tokens, st.output_tokens) == (700_000, 300_000)
    assert st.gpu_efficiency_ratio == D(1)
    assert st.accounting_since == T0 and st.period == "2026-04-20" and st.period_end == T1
    check_invariants(st)


def test_worked_example_ownership_mode() -> None:
    # A holds 4 of 8 GPUs: C/2 = 4.409589; B holds 2: C/4 = 2.204795; the 2 unowned GPUs: idle 2.204795
    st = run(
        spec(),
        [
            (T0, [pod("a", "team-a", "llama-3-8b", (0, 0), 4), pod("b", "team-b", "qwen2.5-7b", (0, 0), 2)], gpus(0)),
            (
                T1,
                [
                    pod("a", "team-a", "llama-3-8b", (600_000, 200_000), 4),
                    pod("b", "team-b", "qwen2.5-7b", (100_000, 100_000), 2),
                ],
                gpus(1_800_000_000),
            ),
        ],
    )
    rows = {m.namespace: m for m in st.by_model}
    assert rows["team-a"].estimated_cost_usd == D("4.409589")
    assert rows["team-b"].estimated_cost_usd == D("2.204795")
    assert st.idle_cost_usd == D("2.204795")
    assert st.estimated_cost_usd == D("8.819179")  # the sum of the rounded parts
    assert rows["team-a"].gpu_hours == D("4") and rows["team-b"].gpu_hours == D("2")
    assert st.idle_gpu_hours == D("2") and st.gpu_hours == D("8") and st.active_gpu_hours == D("6")
    assert st.gpu_efficiency_ratio == D("0.75")
    # The Go operator's figures: 6 of 8 GPUs active for the 1 h accounted
    # activeHours = 1 x 6/8 = 0.75 of totalHours 1 -> utilization 75 %; activeEnergy = 4 kWh x 0.75 = 3 kWh,
    # its electricity 0.60 x 0.75 = 0.45; marginal = 0.45 / 1,000,000 tokens x 1e6 = 0.45 $/MTok
    assert (st.total_hours_in_period, st.active_hours_in_period, st.utilization_percent) == (D(1), D("0.75"), D(75))
    assert (st.active_energy_kwh, st.active_energy_cost_usd) == (D(3), D("0.45"))
    assert st.marginal_cost_per_million_tokens == D("0.45")
    check_invariants(st)


def test_counter_reset_counts_the_current_value() -> None:
    # pod a restarted (same UID): 900 -> 250 means 250 new tokens, not -650
    st = run(
        spec(),
        [
            (T0, [pod("a", "ns", "m", (900, 90))], gpus(0)),
            (T1, [pod("a", "ns", "m", (250, 40))], gpus(1_800_000_000)),
        ],
    )
    assert (st.input_tokens, st.output_tokens) == (250, 40)
    assert st.estimated_cost_usd == D("8.819178")


def test_replaced_pod_counts_from_zero_and_gone_pod_drops() -> None:
    # old pod gone at T1; its replacement started at T0+30min: all 1,000 + 10 tokens are new
    replacement = pod("new", "ns", "m", (1_000, 10), started=T0 + timedelta(minutes=30))
    st = run(spec(), [(T0, [pod("old", "ns", "m", (5_000, 500))], gpus(0)), (T1, [replacement], gpus(1_800_000_000))])
    assert (st.input_tokens, st.output_tokens) == (1_000, 10)
    assert st.checkpoint is not None and [p.uid for p in st.checkpoint.pods] == ["new"]


def test_pod_that_existed_before_the_checkpoint_is_only_baselined() -> None:
    st = run(spec(), [(T0, [], gpus(0)), (T1, [pod("late", "ns", "m", (7_000, 700))], gpus(1_800_000_000))])
    assert st.input_tokens == 0 and st.idle_cost_usd == D("8.819178")


def test_failed_scrape_loses_nothing_when_it_recovers() -> None:
    t2 = T1 + timedelta(hours=1)
    st = run(
        spec(),
        [
            (T0, [pod("a", "ns", "m", (100, 10)), pod("b", "ns2", "m2", (0, 0))], gpus(0)),
            (T1, [pod("a", "ns", "m", None), pod("b", "ns2", "m2", (50, 0))], gpus(1_800_000_000)),
            (t2, [pod("a", "ns", "m", (1_100, 210)), pod("b", "ns2", "m2", (50, 0))], gpus(3_600_000_000)),
        ],
    )
    rows = {m.namespace: m for m in st.by_model}
    assert (rows["ns"].input_tokens, rows["ns"].output_tokens) == (1_000, 200)
    assert rows["ns2"].input_tokens == 50
    check_invariants(st)


def test_tdp_fallback_without_dcgm() -> None:
    # 700 W x 8 GPUs x 1 h = 5.6 kWh -> 5.6 * 1.5 * 0.10 = 0.84; C = 6.849315 + 1.369863 + 0.84 = 9.059178
    st = run(spec(), [(T0, [pod("a", "ns", "m", (0, 0))], []), (T1, [pod("a", "ns", "m", (10, 0))], [])])
    assert st.energy_kwh == D("5.600000")
    assert st.estimated_cost_usd == D("9.059178")


def test_dead_exporter_falls_back_to_power_then_tdp() -> None:
    # T0 had counters; at T1 the exporter is dead (no readings) -> TDP for that hour
    st = run(spec(), [(T0, [], gpus(0)), (T1, [], [])])
    assert st.energy_kwh == D("5.600000")
    # with power only (no counter at one end): trapezoid of 500 W and 300 W = 400 W x 8 x 1 h = 3.2 kWh
    st2 = run(
        spec(), [(T0, [], gpus(0, "500")), (T1, [], [GpuEnergy(f"GPU-{i}", "n", None, D(300)) for i in range(8)])]
    )
    assert st2.energy_kwh == D("3.200000")


def test_gap_across_midnight_in_new_york_is_split_and_estimated() -> None:
    # 2026-04-20 22:00 EDT (02:00Z on the 21st) to 2026-04-21 02:00 EDT (06:00Z): 4 h, 2 h either side
    start = datetime(2026, 4, 21, 2, 0, tzinfo=UTC)
    end = start + timedelta(hours=4)
    energy = 4 * 1_800_000_000
    st = run(
        spec(timeZone="America/New_York"),
        [(start, [pod("a", "ns", "m", (0, 0))], gpus(0)), (end, [pod("a", "ns", "m", (1_001, 3))], gpus(energy))],
    )
    # C(4 h) = 4 * (6.849315068 + 1.369863014) + 16 kWh * 0.15 = 32.876712329 + 2.4 = 35.276712329
    assert st.period == "2026-04-21" and st.period_start == datetime(2026, 4, 21, 4, 0, tzinfo=UTC)
    assert [h.period for h in st.history] == ["2026-04-20"]
    day1 = st.history[0]
    assert day1.period_end == datetime(2026, 4, 21, 4, 0, tzinfo=UTC)
    assert day1.estimated and st.estimated
    assert day1.estimated_cost_usd == D("17.638356") and st.estimated_cost_usd == D("17.638356")
    assert day1.input_tokens + st.input_tokens == 1_001 and day1.output_tokens + st.output_tokens == 3
    assert {day1.input_tokens, st.input_tokens} == {500, 501}
    check_invariants(st)


def test_history_limit_trims_oldest() -> None:
    steps: list[tuple[datetime, list[PodObservation], list[GpuEnergy]]] = [
        (T0 + timedelta(days=d), [], gpus(0)) for d in range(5)
    ]
    st = run(spec(historyLimit=2), steps)
    assert [h.period for h in st.history] == ["2026-04-23", "2026-04-22"]


def test_proportional_idle_is_spread_at_period_end() -> None:
    # day 1: A alone for 1 h in token mode... use ownership so idle exists: A holds 4 of 8 GPUs
    # C = 8.819178082; A 4.409589041 + idle 4.409589041; at the close idle goes to A (the only model)
    next_day = datetime(2026, 4, 21, 1, 0, tzinfo=UTC)
    st = run(
        spec(idleCostPolicy="Proportional"),
        [
            (T0, [pod("a", "ns", "m", (0, 0), 4)], gpus(0)),
            (T1, [pod("a", "ns", "m", (10, 0), 4)], gpus(1_800_000_000)),
            (next_day, [pod("a", "ns", "m", (10, 0), 4)], gpus(1_800_000_000)),
        ],
    )
    closed = st.history[0]
    assert closed.idle_cost_usd == 0
    assert closed.by_model[0].idle_cost_usd is not None and closed.by_model[0].idle_cost_usd > 0
    assert closed.by_model[0].estimated_cost_usd == closed.estimated_cost_usd
    check_invariants(st)


def test_now_before_checkpoint_is_refused() -> None:
    status = advance(spec(), UsageReportStatus(), PROFILE, T1, [], [], None).status
    with pytest.raises(InvalidDataError, match="before the report's checkpoint"):
        advance(spec(), status, PROFILE, T0, [], [], None)


def test_oversubscribed_pool_shares_by_claims_and_warns() -> None:
    # A claims 6 and B 4 of 8 GPUs: shares of 10. C = 8.819178082 -> A 6/10 = 5.291507, B 4/10 = 3.527671
    status = UsageReportStatus()
    steps = [
        (T0, [pod("a", "ns", "ma", (0, 0), 6), pod("b", "ns", "mb", (0, 0), 4)], gpus(0)),
        (T1, [pod("a", "ns", "ma", (10, 0), 6), pod("b", "ns", "mb", (10, 0), 4)], gpus(1_800_000_000)),
    ]
    outcome = None
    for now, pods, g in steps:
        outcome = advance(spec(), status, PROFILE, now, pods, g, None)
        status = outcome.status
    assert outcome is not None and outcome.oversubscribed
    assert {m.model: m.estimated_cost_usd for m in status.by_model} == {"ma": D("5.291507"), "mb": D("3.527671")}
    assert status.idle_cost_usd == 0

"""Token deltas: a counter's identity is its series (pod UID + its own labels), figures worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from kubectl_infercost.core.accounting import advance
from kubectl_infercost.core.cost import GpuEnergy
from kubectl_infercost.core.counters import CounterSample
from kubectl_infercost.core.deltas import PodObservation, TokenCounter, next_pod_checkpoints, token_deltas
from kubectl_infercost.models import (
    Checkpoint,
    CostProfileSpec,
    PodCheckpoint,
    SeriesCheckpoint,
    UsageReportSpec,
    UsageReportStatus,
)

T0 = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
BEFORE = T0 - timedelta(days=1)
SPEC = UsageReportSpec.model_validate({"costProfileRef": "p"})
PROFILE = CostProfileSpec.model_validate(
    {
        "hardware": {"gpuModel": "L4", "gpuCount": 1, "purchasePriceUSD": 8760, "amortizationYears": 1},
        "electricity": {"ratePerKWh": 0},
    }
)  # $1 per hour, no electricity: every interval below costs exactly $1.000000 per hour


def obs(model: str, series: dict[str, TokenCounter] | None, uid: str = "u1") -> PodObservation:
    return PodObservation(uid, "ns", "pod", model, BEFORE, 0, series)


def checkpoint_of(*series: SeriesCheckpoint, observed_at: datetime | None = None) -> Checkpoint:
    """The checkpoint at T0 of pod u1 (ns/pod, as :func:`obs` makes it) holding ``series``."""
    pod = PodCheckpoint(uid="u1", namespace="ns", name="pod", observed_at=observed_at, series=list(series))
    return Checkpoint(time=T0, pods=[pod])


def run(steps: list[tuple[list[PodObservation], set[str] | None]]) -> UsageReportStatus:
    status = UsageReportStatus()
    gpus = [GpuEnergy("GPU-1", "n", None, None)]
    for i, (pods, existing) in enumerate(steps):
        status = advance(SPEC, status, PROFILE, T0 + i * HOUR, pods, gpus, None, existing).status
    return status


def tokens(st: UsageReportStatus) -> dict[str, tuple[int, int]]:
    return {m.model: (m.input_tokens, m.output_tokens) for m in st.by_model}


def test_relabelled_pod_keeps_its_counter_and_moves_only_future_deltas() -> None:
    # llama.cpp, no labels: 1,000 (baseline) -> 2,500 as "old" -> relabelled "new" -> 4,000
    # old gets 2,500 - 1,000 = 1,500; new gets 4,000 - 2,500 = 1,500; 3,000 in all (not 1,000 + 4,000)
    st = run(
        [
            ([obs("old", {"": TokenCounter(None, 1_000, 100)})], None),
            ([obs("old", {"": TokenCounter(None, 2_500, 250)})], None),
            ([obs("new", {"": TokenCounter(None, 4_000, 400)})], None),
        ]
    )
    assert tokens(st) == {"new": (1_500, 150), "old": (1_500, 150)}
    assert (st.input_tokens, st.output_tokens) == (3_000, 300)
    # two hours at $1/h, token mode, split 1,650 : 1,650 weighted tokens -> $1 each
    assert [m.estimated_cost_usd for m in st.by_model] == [D("1.000000"), D("1.000000")]


def test_series_left_out_of_one_scrape_keeps_its_checkpoint() -> None:
    # two engine series of one model: a 1,000 and b 500; b missing at pass 2, back at pass 3 with 1,500
    # a: 1,000 -> 2,000 -> 2,500 = +1,500; b: 500 -> (kept 500) -> 1,500 = +1,000 (not 1,500)
    a, b = 'engine="0",model_name="m"', 'engine="1",model_name="m"'
    st = run(
        [
            ([obs("m", {a: TokenCounter("m", 1_000, 0), b: TokenCounter("m", 500, 0)})], None),
            ([obs("m", {a: TokenCounter("m", 2_000, 0)})], None),
            ([obs("m", {a: TokenCounter("m", 2_500, 0), b: TokenCounter("m", 1_500, 0)})], None),
        ]
    )
    assert tokens(st) == {"m": (2_500, 0)}
    assert st.checkpoint is not None
    assert [(s.labels, s.in_) for s in st.checkpoint.pods[0].series] == [(a, 2_500), (b, 1_500)]


def test_pod_not_running_for_a_pass_keeps_its_entry() -> None:
    # 1,000 at the baseline; next pass the pod is Unknown (not observed, UID still listed); then 4,000:
    # all 3,000 served in between count
    st = run(
        [
            ([obs("m", {"": TokenCounter(None, 1_000, 0)})], {"u1"}),
            ([], {"u1"}),
            ([obs("m", {"": TokenCounter(None, 4_000, 0)})], {"u1"}),
        ]
    )
    assert tokens(st) == {"m": (3_000, 0)}


def test_only_a_pod_whose_uid_is_gone_leaves_the_checkpoint() -> None:
    cp = Checkpoint(
        time=T0,
        pods=[
            PodCheckpoint(
                uid=uid, namespace="ns", name=uid, series=[SeriesCheckpoint(model="m", labels="", in_=5, out=0)]
            )
            for uid in ("gone", "pending", "failed-scrape")
        ],
    )
    pods = [PodObservation("failed-scrape", "ns", "failed-scrape", "m", BEFORE, 0, None)]
    kept = next_pod_checkpoints(cp, pods, {"pending", "failed-scrape"})
    assert [p.uid for p in kept] == ["failed-scrape", "pending"]
    assert all(p.series[0].in_ == 5 for p in kept)


def test_counter_reset_of_one_series_counts_its_current_value() -> None:
    cp = checkpoint_of(
        SeriesCheckpoint(model="m", labels="a", in_=900, out=90),
        SeriesCheckpoint(model="m", labels="b", in_=100, out=10),
    )
    # a restarted: 900 -> 250 is 250 new; b grew 100 -> 160 = 60; a brand-new series c counts whole (7)
    pod = obs("m", {"a": TokenCounter("m", 250, 40), "b": TokenCounter("m", 160, 10), "c": TokenCounter("m", 7, 0)})
    assert token_deltas(cp, [pod])[0].tokens == {"m": (250 + 60 + 7, 40)}


def test_checkpoint_of_an_older_version_is_compared_by_model_once() -> None:
    # entries without labels held per-model sums: 1,000 + 234 = 1,234 before; now 1,500 + 300 = 1,800
    cp = checkpoint_of(SeriesCheckpoint(model="m", in_=1_234, out=0))
    pod = obs("m", {'engine="0"': TokenCounter("m", 1_500, 0), 'engine="1"': TokenCounter("m", 300, 0)})
    assert token_deltas(cp, [pod])[0].tokens == {"m": (566, 0)}
    rewritten = next_pod_checkpoints(cp, [pod])[0].series
    assert [(s.labels, s.in_) for s in rewritten] == [('engine="0"', 1_500), ('engine="1"', 300)]


def test_sampled_series_count_increases_after_the_checkpoint_including_a_reset_between_passes() -> None:
    def at(seconds: int, value: int) -> CounterSample:
        return CounterSample(int((T0 + timedelta(seconds=seconds)).timestamp() * 1000), D(value))

    checkpoint = checkpoint_of(SeriesCheckpoint(model="m", labels="", in_=1_000, out=50))
    # input: a sample at the checkpoint instant (already counted), 1,300, reset to 200, 260
    #   -> 300 + 200 + 60 = 560, where the last value alone (260 < 1,000) would give 260
    # output: 80 -> 95 -> 20 (reset) -> (30 + 15 + 20) = 65
    samples = {"": ([at(0, 1_000), at(15, 1_300), at(30, 200), at(45, 260)], [at(15, 80), at(30, 95), at(45, 20)])}
    pod = PodObservation("u1", "ns", "pod", "m", BEFORE, 0, {"": TokenCounter(None, 260, 20)}, samples)
    (delta,) = token_deltas(checkpoint, [pod])
    assert delta.tokens == {"m": (560, 65)}
    # the checkpoint keeps the last sample's values: the next pass counts from 260 / 20
    (kept,) = next_pod_checkpoints(checkpoint, [pod])
    assert [(s.in_, s.out) for s in kept.series] == [(260, 20)]


def _read(at: int) -> tuple[datetime, datetime]:
    """A read window of one second starting ``at`` seconds into real time (any clock, as long as one)."""
    start = datetime(2026, 12, 2, 12, 0, tzinfo=UTC) + timedelta(seconds=at)
    return start, start + timedelta(seconds=1)


def read_obs(value: int, window: tuple[datetime, datetime]) -> PodObservation:
    return PodObservation("u1", "ns", "pod", "m", BEFORE, 0, {"": TokenCounter(None, value, 0)}, None, window)


def test_a_reading_older_than_the_checkpoints_adds_nothing_and_keeps_the_checkpoint() -> None:
    # Two reconcilers overlap. Checkpoint 900 (read at 0-1 s). Reconciler A reads 1,000 at 10-11 s, then
    # the server restarts; reconciler B reads 50 at 12-13 s and writes first: +50 (a drop: a restart).
    # A's write conflicts; on the re-read checkpoint (50, read until 13 s) A's reading began at 10 s,
    # before that: it is not used (else 1,000 - 50 = 950 would be counted again).
    # Truth: 100 (900 -> 1,000 before the restart, seen by A only) is unknowable to B; B saw 50. A's
    # next pass reads 80 at 20-21 s: +30. Recorded 50 + 30 = 80 (the 100 A saw is lost with A's pass,
    # never counted twice).
    st = run(
        [
            ([read_obs(900, _read(0))], None),
            ([read_obs(50, _read(12))], None),
            ([read_obs(1_000, _read(10))], None),
            ([read_obs(80, _read(20))], None),
        ]
    )
    assert tokens(st) == {"m": (80, 0)}
    [pod] = st.checkpoint.pods if st.checkpoint else []
    assert (pod.series[0].in_, pod.observed_at) == (80, _read(20)[1])


def test_a_stale_reading_keeps_the_checkpoint_entry_as_it_was() -> None:
    checkpoint = checkpoint_of(SeriesCheckpoint(model="m", labels="", in_=50, out=0), observed_at=_read(12)[1])
    stale = read_obs(1_000, _read(10))
    assert token_deltas(checkpoint, [stale])[0].tokens == {}
    assert next_pod_checkpoints(checkpoint, [stale]) == checkpoint.pods
    fresh = read_obs(70, _read(13))  # began as the checkpoint's reading ended: used
    assert token_deltas(checkpoint, [fresh])[0].tokens == {"m": (20, 0)}
    assert next_pod_checkpoints(checkpoint, [fresh])[0].observed_at == _read(13)[1]


def test_checkpoints_without_a_read_time_and_observations_without_a_window_are_never_stale() -> None:
    # Older checkpoints (no observedAt) and callers that do not say when they read: compared as before.
    # 100 (baseline, no read time) -> 250 read at 0-1 s: +150 -> 300 with no window: +50.
    st = run(
        [
            ([obs("m", {"": TokenCounter(None, 100, 0)})], None),
            ([read_obs(250, _read(0))], None),
            ([obs("m", {"": TokenCounter(None, 300, 0)})], None),
        ]
    )
    assert tokens(st) == {"m": (200, 0)}


def test_a_stale_energy_reading_puts_no_energy_into_two_intervals() -> None:
    # The GPU's energy counter: 0 (read at 0 s), 2 kWh (read at 12 s, by reconciler B), then reconciler A's
    # older reading of 1 kWh (began at 10 s) writes, then 3 kWh (read at 20 s). The counter went 0 -> 3 kWh:
    # 3 kWh in all (2 + 0 + 1). Taking A's reading would put 1 -> 2 kWh twice: 2 + 0 + 2 = 4 kWh.
    kwh_mj = 3_600_000_000  # millijoules per kWh
    readings = [(0, 0), (2 * kwh_mj, 12), (1 * kwh_mj, 10), (3 * kwh_mj, 20)]
    status = UsageReportStatus()
    for i, (energy, at) in enumerate(readings):
        gpu = GpuEnergy("GPU-1", "n", energy, None, _read(at))
        status = advance(SPEC, status, PROFILE, T0 + i * HOUR, [], [gpu], None, None).status
    assert status.energy_kwh == D(3)
    [entry] = status.checkpoint.gpus if status.checkpoint else []
    assert (entry.energy_mj, entry.observed_at) == (3 * kwh_mj, _read(20)[1])


STARTED_A = datetime(2026, 4, 20, 9, 0, 0, 287601, tzinfo=UTC)
STARTED_B = datetime(2026, 4, 20, 10, 30, tzinfo=UTC)


def test_a_counter_that_restarted_and_outgrew_its_old_value_is_told_by_its_start_time() -> None:
    # 1,000 / 100 (baseline, started A) -> 3,000 / 300 (+2,000 / +200) -> restarted at B and already at
    # 5,000 / 500: all new (not +2,000 / +200) -> 6,000 / 600 still started B: +1,000 / +100
    # = 8,000 / 800; a value-only comparison would have given 5,000 / 500
    key = 'engine="0",model_name="m"'
    st = run(
        [
            ([obs("m", {key: TokenCounter("m", 1_000, 100, STARTED_A)})], None),
            ([obs("m", {key: TokenCounter("m", 3_000, 300, STARTED_A)})], None),
            ([obs("m", {key: TokenCounter("m", 5_000, 500, STARTED_B)})], None),
            ([obs("m", {key: TokenCounter("m", 6_000, 600, STARTED_B)})], None),
        ]
    )
    assert tokens(st) == {"m": (8_000, 800)}
    assert st.checkpoint is not None
    assert [s.started_at for s in st.checkpoint.pods[0].series] == [STARTED_B]


def test_without_a_start_time_on_either_side_only_a_drop_is_a_restart() -> None:
    # the checkpoint's 3,000 has no start (an older version wrote it), the server now gives one:
    # 5,000 is +2,000; then the start is known on both sides and equal: +1,000 -> 3,000 / 300 in all
    key = 'model_name="m"'
    status = UsageReportStatus(checkpoint=checkpoint_of(SeriesCheckpoint(model="m", labels=key, in_=3_000, out=300)))
    gpus = [GpuEnergy("GPU-1", "n", None, None)]
    for i, value in enumerate((5_000, 6_000), start=1):
        pod = obs("m", {key: TokenCounter("m", value, value // 10, STARTED_A)})
        status = advance(SPEC, status, PROFILE, T0 + i * HOUR, [pod], gpus, None, None).status
    assert tokens(status) == {"m": (3_000, 300)}

"""Exact counter growth from raw samples: resets, gaps, the boundary sample, marks."""

from __future__ import annotations

from decimal import Decimal

from kubectl_infercost.core.counters import CounterSample, SeriesGrowth, growth, growth_by_series


def s(t: int, v: int | str) -> CounterSample:
    return CounterSample(t, Decimal(v))


def test_steady_counter_grows_by_last_minus_mark() -> None:
    # mark 100 at t=0; samples 130, 180, 250 -> 30 + 50 + 70 = 150
    got = growth([s(15_000, 130), s(30_000, 180), s(45_000, 250)], s(0, 100), new_from_zero=False)
    assert got == SeriesGrowth(Decimal(150), 0, s(45_000, 250))


def test_reset_counts_the_post_reset_value() -> None:
    # mark 1000; 1200 (+200); drop to 40 = reset (+40); 90 (+50); 20 = reset again (+20) -> 310
    samples = [s(1, 1200), s(2, 40), s(3, 90), s(4, 20)]
    got = growth(samples, s(0, 1000), new_from_zero=False)
    assert got.increase == Decimal(310)
    assert got.resets == 2
    assert got.mark == s(4, 20)


def test_reset_right_after_the_mark() -> None:
    # mark 500; the first new sample 30 is below it: the server restarted and served 30 -> 30 + (75-30) = 75
    assert growth([s(10, 30), s(20, 75)], s(0, 500), new_from_zero=False).increase == Decimal(75)


def test_gap_sums_across_missing_samples_without_extrapolation() -> None:
    # samples every 15 s, then nothing for 10 minutes, then again: 100 -> 110 -> (gap) -> 410 -> 420
    # growth = 10 + 300 + 10 = 320, whatever the gap's length; increase() would scale by the window instead
    samples = [s(15_000, 110), s(615_000, 410), s(630_000, 420)]
    assert growth(samples, s(0, 100), new_from_zero=False).increase == Decimal(320)


def test_sample_exactly_at_the_mark_counts_once() -> None:
    # Pass 1 ends with its last sample at t=60 000 (value 600). Pass 2's range selector returns that
    # sample again, then 650 and 700: only +50 +50 = 100 is new.
    first = growth([s(30_000, 550), s(60_000, 600)], s(0, 500), new_from_zero=False)
    assert first.increase == Decimal(100)  # 50 + 50
    second = growth([s(60_000, 600), s(75_000, 650), s(90_000, 700)], first.mark, new_from_zero=False)
    assert second.increase == Decimal(100)
    assert second.mark == s(90_000, 700)


def test_samples_before_the_mark_are_ignored_even_after_a_reset_there() -> None:
    # Old samples (t <= 50) include a reset already counted; only 80 -> 95 after the mark is new: 15
    samples = [s(10, 900), s(30, 5), s(50, 80), s(60, 95)]
    assert growth(samples, s(50, 80), new_from_zero=False).increase == Decimal(15)


def test_out_of_order_input_is_sorted_by_timestamp() -> None:
    # 10 -> 40 -> 70 from mark 0 = 70, however the samples arrive
    assert growth([s(3, 70), s(1, 10), s(2, 40)], s(0, 0), new_from_zero=False).increase == Decimal(70)


def test_new_series_from_zero_or_only_baselined() -> None:
    samples = [s(1, 25), s(2, 60)]
    # began after the previous pass: its first sample is all new -> 25 + 35 = 60
    assert growth(samples, None, new_from_zero=True).increase == Decimal(60)
    # existed before accounting started: 25 is its baseline -> only 35
    baselined = growth(samples, None, new_from_zero=False)
    assert baselined.increase == Decimal(35)
    assert baselined.mark == s(2, 60)


def test_no_new_samples_keeps_the_mark() -> None:
    mark = s(100, 42)
    assert growth([s(100, 42)], mark, new_from_zero=False) == SeriesGrowth(Decimal(0), 0, mark)
    assert growth([], None, new_from_zero=True) == SeriesGrowth(Decimal(0), 0, None)


def test_fractional_values_stay_exact() -> None:
    # energy in mJ may be exported as float text: 0.1 + 0.2 must be 0.3 exactly
    got = growth([CounterSample(1, Decimal("0.1")), CounterSample(2, Decimal("0.3"))], s(0, 0), new_from_zero=False)
    assert got.increase == Decimal("0.3")


def test_by_series_keeps_marks_of_absent_series() -> None:
    marks = {'a="1"': s(10, 100), 'a="2"': s(10, 7)}
    got = growth_by_series({'a="1"': [s(20, 150)], 'a="3"': [s(20, 9)]}, marks, new_from_zero=True)
    assert got['a="1"'].increase == Decimal(50)  # 150 - 100
    assert got['a="2"'] == SeriesGrowth(Decimal(0), 0, s(10, 7))  # not returned now: kept, nothing counted
    assert got['a="3"'].increase == Decimal(9)  # new series, from zero

"""Objects written at once report as if written one after the other."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from kubectl_infercost.reconcile.options import PassSummary
from kubectl_infercost.reconcile.writes import each_object


def test_results_and_summaries_come_in_the_objects_order_whichever_finishes_first() -> None:
    summary = PassSummary()
    summary.results.append("before")
    running: set[int] = set()
    overlapped = threading.Event()

    def work(i: int, part: PassSummary) -> int:
        running.add(i)
        if len(running) > 1:
            overlapped.set()
        time.sleep(0.02 * (5 - i))  # the first objects finish last
        running.discard(i)
        part.results.append(f"object {i}")
        part.problems.append(f"problem {i}")
        part.accrued_usd += Decimal("0.000001") * i
        part.tokens += i
        return i * 10

    assert each_object(list(range(5)), work, summary) == [0, 10, 20, 30, 40]
    assert overlapped.is_set()
    assert summary.results == ["before"] + [f"object {i}" for i in range(5)]
    assert summary.problems == [f"problem {i}" for i in range(5)]
    assert summary.accrued_usd == Decimal("0.000010") and summary.tokens == 10


def test_the_first_failure_in_order_is_raised_after_the_begun_objects_end() -> None:
    ended: list[int] = []

    def work(i: int, _: PassSummary) -> None:
        time.sleep(0.01)
        ended.append(i)
        if i in (1, 2):
            raise RuntimeError(f"object {i}")

    with pytest.raises(RuntimeError, match="object 1"):
        each_object(list(range(20)), work, PassSummary(), concurrency=2)
    assert set(ended) >= {0, 1} and len(ended) < 20


def test_one_at_a_time_writes_into_the_summary_itself() -> None:
    summary = PassSummary()
    each_object([1, 2], lambda i, part: part.results.append(str(i)), summary, concurrency=1)
    assert summary.results == ["1", "2"]

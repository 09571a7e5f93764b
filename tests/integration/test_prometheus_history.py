"""The Prometheus adapter against a real Prometheus serving hand-written history (promtool TSDB blocks).

Each pass is an instant query of raw samples at the pass instant; growth is worked out by
hand from the samples below, with a reset, a gap and a sample exactly at a pass instant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kubectl_infercost.core.counters import CounterSample, growth
from kubectl_infercost.prometheus import (
    PrometheusClient,
    PrometheusError,
    PrometheusOptions,
    RangeSeries,
    query_families,
)
from kubectl_infercost.prometheus.families import range_query
from testenv.promhistory import HistoryPrometheus

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
E0 = int(T0.timestamp())
A = 'namespace="team-a",pod="vllm-a",model_name="llama",cluster="prod"'
B = 'namespace="team-b",pod="vllm-b",cluster="prod"'


def _lines(name: str, labels: str, points: list[tuple[int, int]]) -> list[str]:
    return [f"{name}{{{labels}}} {value} {E0 + t}" for t, value in points]


HISTORY = "\n".join(
    [
        "# TYPE vllm:prompt_tokens counter",
        # pod a: 100 at t=0, reset at 45 s, a gap from 60 s to 240 s
        *_lines(
            "vllm:prompt_tokens_total", A, [(0, 100), (15, 130), (30, 180), (45, 20), (60, 70), (240, 120), (255, 150)]
        ),
        *_lines("vllm:prompt_tokens_total", B, [(0, 0), (30, 500), (60, 900)]),
        # another cluster's series of the same pod name: --prometheus-selector cluster="prod" leaves it out
        *_lines("vllm:prompt_tokens_total", A.replace("prod", "dev"), [(0, 5), (30, 999_999)]),
        "# TYPE sglang:prompt_tokens counter",
        # 40 samples in the first pass's window: more than --query.max-samples=25 allows
        *_lines(
            "sglang:prompt_tokens_total", 'namespace="team-c",pod="sg",cluster="prod"', [(t, t) for t in range(40)]
        ),
        "# EOF",
        "",
    ]
)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryPrometheus]:
    prom = HistoryPrometheus(tmp_path_factory.mktemp("prom-history"), extra_args=["--query.max-samples=25"])
    prom.start(HISTORY)
    yield prom
    prom.stop()


def _client(prom: HistoryPrometheus) -> PrometheusClient:
    return PrometheusClient(PrometheusOptions(prom.url, headers={"X-Scope-OrgID": "prod"}, selector='cluster="prod"'))


def _by_pod(series: list[RangeSeries]) -> dict[str, list[CounterSample]]:
    return {s.labels["pod"]: s.samples for s in series}


def test_passes_count_every_token_once_through_a_reset_and_a_gap(history: HistoryPrometheus) -> None:
    client = _client(history)
    marks = {"vllm-a": CounterSample(E0 * 1000, Decimal(100)), "vllm-b": CounterSample(E0 * 1000, Decimal(0))}

    def run_pass(at: datetime) -> dict[str, Decimal]:
        result = query_families(client, ["vllm:prompt_tokens_total"], at, window_seconds=120)
        assert result.failures == {}
        got = {}
        for pod, samples in _by_pod(result.series["vllm:prompt_tokens_total"]).items():
            grown = growth(samples, marks.get(pod), new_from_zero=False)
            got[pod] = grown.increase
            assert grown.mark is not None
            marks[pod] = grown.mark
        return got

    # pass 1 at t=60: a = (130-100) + (180-130) + 20 (reset) + (70-20) = 150; b = 500 + 400 = 900
    assert run_pass(T0 + timedelta(seconds=60)) == {"vllm-a": Decimal(150), "vllm-b": Decimal(900)}
    # pass 2 at t=250, after the gap: a = 120 - 70 = 50; b has no sample after t=60 in the window
    assert run_pass(T0 + timedelta(seconds=250)) == {"vllm-a": Decimal(50)}
    # pass 3 at t=255, exactly the last sample's instant: a = 150 - 120 = 30
    assert run_pass(T0 + timedelta(seconds=255)) == {"vllm-a": Decimal(30)}
    # pass 4 at t=255 again: the boundary sample is not counted twice
    assert run_pass(T0 + timedelta(seconds=255)) == {"vllm-a": Decimal(0)}
    # in all, a grew 150 + 50 + 30 = 230 from its mark of 100, though its last value is only 150
    assert marks["vllm-a"] == CounterSample((E0 + 255) * 1000, Decimal(150))


def test_one_family_failing_does_not_stop_the_others(history: HistoryPrometheus) -> None:
    result = query_families(
        _client(history), ["sglang:prompt_tokens_total", "vllm:prompt_tokens_total"], T0 + timedelta(seconds=60), 120
    )
    assert sorted(result.series) == ["vllm:prompt_tokens_total"]
    assert list(result.failures) == ["sglang:prompt_tokens_total"]
    assert "query processing would load too many samples" in result.failures["sglang:prompt_tokens_total"]
    assert result.failure_lines()[0].startswith("prometheus sglang:prompt_tokens_total: query failed: ")


@pytest.mark.usefixtures("tmp_path")
def test_unreachable_prometheus_is_a_clear_error() -> None:
    client = PrometheusClient(PrometheusOptions("http://127.0.0.1:9", timeout=2))
    with pytest.raises(PrometheusError, match=r"cannot reach Prometheus at http://127.0.0.1:9"):
        client.query(range_query("vllm:prompt_tokens_total", "", 60), T0)

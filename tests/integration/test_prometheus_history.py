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
    PrometheusTooLarge,
    RangeSeries,
    query_families,
)
from kubectl_infercost.prometheus.families import range_query
from testenv.promhistory import HistoryPrometheus

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
E0 = int(T0.timestamp())
A = 'namespace="team-a",pod="vllm-a",model_name="llama",cluster="prod"'
B = 'namespace="team-b",pod="vllm-b",cluster="prod"'
DENSE = 'namespace="team-d",pod="dense",cluster="prod"'


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
        # 40 samples in the first pass's window: more than --query.max-samples=25 allows in one query
        *_lines(
            "sglang:prompt_tokens_total", 'namespace="team-c",pod="sg",cluster="prod"', [(t, t) for t in range(40)]
        ),
        "# TYPE llamacpp:prompt_tokens counter",
        # 30 samples 10 ms apart (t = 20.100 ... 20.390 s): no query of a second or more holds fewer than 25
        *[f"llamacpp:prompt_tokens_total{{{DENSE}}} {i} {E0 + 20}.{100 + 10 * i}" for i in range(30)],
        *_lines("llamacpp:prompt_tokens_total", 'namespace="team-d",pod="calm",cluster="prod"', [(0, 7), (30, 9)]),
        *_lines("llamacpp:prompt_tokens_total", 'namespace="team-e",pod="far",cluster="prod"', [(0, 1), (45, 4)]),
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


def test_a_family_too_large_for_one_query_is_answered_in_chunks(history: HistoryPrometheus) -> None:
    result = query_families(
        _client(history), {"sglang:prompt_tokens_total": {("team-c", "sg")}}, T0 + timedelta(seconds=60), 120
    )
    assert result.failures == {}
    # 10 queries: the whole family (refused: 40 > 25 samples); pod sg of team-c over [-60 s, 60 s] (refused),
    # then [-60 s, 0 s] (1 sample), [0 s, 60 s] (40, refused), [0 s, 30 s] (31, refused), [0 s, 15 s] (16),
    # [15 s, 30 s] (16), [30 s, 60 s] (10); the rest of team-c (none) and the other namespaces (none)
    assert result.queries["sglang:prompt_tokens_total"] == 10
    [series] = result.series["sglang:prompt_tokens_total"]
    # all 40 samples t = 0 ... 39 s with value t, each once, in order, though the chunks met at t = 0, 15 and 30 s
    assert series.samples == [CounterSample((E0 + t) * 1000, Decimal(t)) for t in range(40)]
    assert growth(series.samples, None, new_from_zero=True).increase == Decimal(39)


def test_a_chunk_that_still_fails_fails_only_its_pods(history: HistoryPrometheus) -> None:
    wanted = {
        "llamacpp:prompt_tokens_total": {("team-d", "dense"), ("team-d", "calm"), ("team-e", "far")},
        "vllm:prompt_tokens_total": {("team-a", "vllm-a")},
    }
    result = query_families(_client(history), wanted, T0 + timedelta(seconds=60), 120)
    assert list(result.failures) == ["llamacpp:prompt_tokens_total"]
    [failed] = result.failures["llamacpp:prompt_tokens_total"]
    assert "query processing would load too many samples" in failed.error
    assert failed.covers(("team-d", "dense"))
    assert not failed.covers(("team-d", "calm")) and not failed.covers(("team-e", "far"))
    assert result.failure_for("llamacpp:prompt_tokens_total", ("team-d", "calm"), found=True) is None
    [line] = result.failure_lines()
    assert line.startswith('prometheus llamacpp:prompt_tokens_total{namespace=~"team-d",pod=~"dense"}: query failed: ')
    got = {s.labels["pod"]: [x.value for x in s.samples] for s in result.series["llamacpp:prompt_tokens_total"]}
    assert got["calm"] == [Decimal(7), Decimal(9)] and got["far"] == [Decimal(1), Decimal(4)]
    # the other family is not touched by it: a's samples at t = 0 ... 60 s
    [a] = [s for s in result.series["vllm:prompt_tokens_total"] if s.labels["pod"] == "vllm-a"]
    assert [x.value for x in a.samples] == [Decimal(v) for v in (100, 130, 180, 20, 70)]


def test_an_answer_over_the_byte_cap_is_chunked_like_a_refusal(history: HistoryPrometheus) -> None:
    # the whole answer is 461 bytes of JSON, team-a's 291 and team-b's 232: a cap of 400 refuses the first only
    opts = PrometheusOptions(history.url, selector='cluster="prod"', max_bytes=400)
    client = PrometheusClient(opts)
    with pytest.raises(PrometheusTooLarge, match="answer larger than 400 bytes"):
        client.query(range_query("vllm:prompt_tokens_total", opts.selector, 120), T0 + timedelta(seconds=60))
    wanted = {"vllm:prompt_tokens_total": {("team-a", "vllm-a"), ("team-b", "vllm-b")}}
    chunked = query_families(client, wanted, T0 + timedelta(seconds=60), 120)
    whole = query_families(_client(history), wanted, T0 + timedelta(seconds=60), 120)
    # the whole, then team-a, team-b and the rest
    assert chunked.failures == {} and chunked.queries["vllm:prompt_tokens_total"] == 4
    key = "vllm:prompt_tokens_total"
    assert sorted((s.labels["pod"], s.samples) for s in chunked.series[key]) == sorted(
        (s.labels["pod"], s.samples) for s in whole.series[key]
    )


@pytest.mark.usefixtures("tmp_path")
def test_unreachable_prometheus_is_a_clear_error() -> None:
    client = PrometheusClient(PrometheusOptions("http://127.0.0.1:9", timeout=2))
    with pytest.raises(PrometheusError, match=r"cannot reach Prometheus at http://127.0.0.1:9"):
        client.query(range_query("vllm:prompt_tokens_total", "", 60), T0)

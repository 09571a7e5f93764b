"""A family refused as too large is asked again in chunks that partition it exactly.

The server here is a small in-memory evaluator of the bare range selectors the adapter sends
(label matchers, ``[window]`` at a time, both ends included as in Prometheus 2), refusing a
query that would load more than ``max_samples`` samples, as ``--query.max-samples`` does.
The real Prometheus does the same in tests/integration/test_prometheus_history.py.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kubectl_infercost.core.counters import CounterSample, growth
from kubectl_infercost.prometheus import (
    PrometheusClient,
    PrometheusError,
    PrometheusOptions,
    RangeSeries,
    query_families,
)
from kubectl_infercost.prometheus.client import PrometheusTooLarge, parse_matrix, reduce_samples, too_large
from kubectl_infercost.prometheus.families import Chunk, chunk_query, merge, split

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
END = int(T.timestamp() * 1000)
_SELECTOR = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\[(\d+)(ms|s)\]$")
_MATCHER = re.compile(r'([a-zA-Z_]+)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class FakePrometheus(PrometheusClient):
    def __init__(self, series: dict[str, list[tuple[dict[str, str], list[tuple[int, int]]]]], max_samples: int):
        super().__init__(PrometheusOptions("http://prometheus.invalid"))
        self.series = series
        self.max_samples = max_samples
        self.queries: list[str] = []

    def fetch(self, promql: str, at_ms: int) -> bytes:
        self.queries.append(promql)
        m = _SELECTOR.match(promql)
        assert m, promql
        family, matchers, amount, unit = m.groups()
        window = int(amount) * (1 if unit == "ms" else 1000)
        tests = [(label, op, _unquote(value)) for label, op, value in _MATCHER.findall(matchers or "")]
        result: list[dict[str, object]] = []
        loaded = 0
        for labels, points in self.series.get(family, []):
            if all(_matches(labels.get(label, ""), op, value) for label, op, value in tests):
                values = [[t / 1000, str(v)] for t, v in points if at_ms - window <= t <= at_ms]
                loaded += len(values)
                if values:
                    result.append({"metric": {"__name__": family, **labels}, "values": values})
        if loaded > self.max_samples:
            error = "query processing would load too many samples into memory in query execution"
            return json.dumps({"status": "error", "errorType": "execution", "error": error}).encode()
        return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()


def _matches(actual: str, op: str, value: str) -> bool:
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


def _points(start_s: int, count: int, step_s: int = 15, base: int = 0) -> list[tuple[int, int]]:
    return [(END - (start_s - i * step_s) * 1000, base + 10 * i) for i in range(count)]


def _world() -> dict[str, list[tuple[dict[str, str], list[tuple[int, int]]]]]:
    # 3 namespaces x 4 pods, 20 samples each (240 in all); one series renamed to exported_* labels,
    # one with no namespace at all, another cluster's copy of a pod
    series = [
        ({"namespace": f"ns-{n}", "pod": f"vllm-{n}.{p}"}, _points(300, 20, base=n * 1000 + p))
        for n in range(3)
        for p in range(4)
    ]
    series.append(({"exported_namespace": "ns-9", "exported_pod": "far"}, _points(300, 20)))
    series.append(({"Hostname": "node-1"}, _points(300, 20)))
    return {"vllm:prompt_tokens_total": series}


def _keys() -> dict[str, set[tuple[str, str]]]:
    return {"vllm:prompt_tokens_total": {(f"ns-{n}", f"vllm-{n}.{p}") for n in range(3) for p in range(4)}}


def _canonical(series: list[RangeSeries]) -> list[tuple[tuple[tuple[str, str], ...], list[CounterSample]]]:
    return sorted((tuple(sorted(s.labels.items())), s.samples) for s in series)


def test_a_refused_family_is_answered_in_chunks_with_exactly_the_whole_answer() -> None:
    whole = query_families(FakePrometheus(_world(), max_samples=10**6), _keys(), T, 600)
    small = FakePrometheus(_world(), max_samples=25)
    chunked = query_families(small, _keys(), T, 600)
    assert whole.queries == {"vllm:prompt_tokens_total": 1}
    assert chunked.failures == {}
    # 14 series x 20 samples = 280 samples, one series at most per chunk of 25 samples -> >= 14 answered chunks
    assert chunked.queries["vllm:prompt_tokens_total"] > 14
    family = "vllm:prompt_tokens_total"
    assert _canonical(chunked.series[family]) == _canonical(whole.series[family])
    assert len(chunked.series["vllm:prompt_tokens_total"]) == 14


def test_a_series_split_in_time_keeps_each_sample_once() -> None:
    # one pod, 40 samples 15 s apart over 600 s: only halving the time range can make it fit in 25
    world = {"sglang:prompt_tokens_total": [({"namespace": "a", "pod": "sg"}, _points(585, 40))]}
    keys = {"sglang:prompt_tokens_total": {("a", "sg")}}
    result = query_families(FakePrometheus(world, max_samples=25), keys, T, 600)
    assert result.failures == {}
    [series] = result.series["sglang:prompt_tokens_total"]
    # values 0, 10, ..., 390 at END - 585 s ... END: all 40, in order, none twice
    assert [s.value for s in series.samples] == [Decimal(10 * i) for i in range(40)]
    assert series.samples == sorted(series.samples)


def test_a_chunk_that_still_fails_fails_only_the_pods_it_covers() -> None:
    world = _world()
    # 30 samples 10 ms apart: no chunk of a second or more holds fewer than 25
    dense = [(END - 5000 + 10 * i, i) for i in range(30)]
    world["vllm:prompt_tokens_total"].append(({"namespace": "ns-1", "pod": "dense"}, dense))
    keys = _keys()
    keys["vllm:prompt_tokens_total"].add(("ns-1", "dense"))
    result = query_families(FakePrometheus(world, max_samples=25), keys, T, 600)
    [failed] = result.failures["vllm:prompt_tokens_total"]
    assert failed.covers(("ns-1", "dense"))
    assert not failed.covers(("ns-1", "vllm-1.0")) and not failed.covers(("ns-0", "vllm-0.0"))
    assert "too many samples" in failed.error
    assert result.failure_for("vllm:prompt_tokens_total", ("ns-1", "dense"), found=False) == failed.error
    assert result.failure_for("vllm:prompt_tokens_total", ("ns-1", "vllm-1.0"), found=True) is None
    # every other series answered: 14 of them
    assert len(result.series["vllm:prompt_tokens_total"]) == 14
    [line] = result.failure_lines()
    assert line.startswith('prometheus vllm:prompt_tokens_total{namespace=~"ns-1",pod=~"dense"}: query failed: ')


def test_split_partitions_namespaces_then_pods_then_time() -> None:
    keys = {("a", "p1"), ("a", "p2"), ("b", "q")}
    whole = Chunk(end_ms=END, window_ms=600_000)
    first = split(whole, keys)
    assert [c.matchers() for c in first] == [['namespace=~"a"'], ['namespace=~"b"'], ['namespace!~"a|b"']]
    assert [c.matchers() for c in split(first[0], keys)] == [
        ['namespace=~"a"', 'pod=~"p1"'],
        ['namespace=~"a"', 'pod=~"p2"'],
        ['namespace=~"a"', 'pod!~"p1|p2"'],
    ]
    one_pod = split(first[0], keys)[0]
    early, late = split(one_pod, keys)
    # [END - 600 s, END - 300 s] and [END - 300 s, END]
    assert (early.end_ms, early.window_ms, late.end_ms, late.window_ms) == (END - 300_000, 300_000, END, 300_000)
    assert chunk_query("vllm:prompt_tokens_total", 'cluster="prod"', early) == (
        'vllm:prompt_tokens_total{cluster="prod",namespace=~"a",pod=~"p1"}[300s]'
    )
    assert split(Chunk(end_ms=END, window_ms=1500, namespaces=frozenset({"a"}), pods=frozenset({"p1"})), keys) == []
    # a pod name's dot is a literal in the regular expression, escaped once more inside the PromQL string
    dotted = Chunk(end_ms=END, window_ms=1001, pods=frozenset({"vllm-0.1"}))
    assert chunk_query("x", "", dotted) == 'x{pod=~"vllm-0\\\\.1"}[1001ms]'


def test_merge_orders_samples_and_drops_the_seam_duplicate() -> None:
    labels = {"pod": "p"}
    early = RangeSeries(labels, [CounterSample(1000, Decimal(1)), CounterSample(2000, Decimal(2))])
    late = RangeSeries(dict(labels), [CounterSample(2000, Decimal(2)), CounterSample(3000, Decimal(0))])
    [merged] = merge([[late], [early]])
    assert merged.samples == [
        CounterSample(1000, Decimal(1)),
        CounterSample(2000, Decimal(2)),
        CounterSample(3000, Decimal(0)),
    ]


@pytest.mark.parametrize(
    ("message", "large"),
    [
        ("query processing would load too many samples into memory in query execution", True),
        ("exceeded series limit: 1000", True),
        ("the query exceeded the maximum number of chunks (limit: 2000000 chunks)", True),
        ("the query hit the max number of chunks limit", True),
        ("parse error at char 3: unexpected character", False),
        ("query timed out in expression evaluation", False),
    ],
)
def test_too_large_refusals_are_recognised(message: str, large: bool) -> None:
    assert too_large(message) is large


def test_an_error_answer_that_is_too_large_is_its_own_kind() -> None:
    body = b'{"status":"error","errorType":"execution","error":"query processing would load too many samples"}'
    with pytest.raises(PrometheusTooLarge):
        parse_matrix(body)


def test_reduced_samples_give_the_same_growth_from_every_cut() -> None:
    """Random counters with resets, flat runs and a NaN-free mix of texts: counting from any cut (after it,
    or from a pod start at it) over the reduced samples gives exactly the growth over all of them."""
    rng = random.Random(12)
    for _ in range(400):
        n = rng.randint(0, 40)
        t, v = 1_764_000_000.0, 0
        values: list[list[Any]] = []
        for _ in range(n):
            t += rng.choice([15, 15, 30, 0.5, 0.001])
            v = rng.randint(0, 3) if rng.random() < 0.1 else v + rng.choice([0, 0, 1, 7, 1000])
            values.append([round(t, 3), str(v) if rng.random() < 0.9 else f"{v}.0"])
        times = [round(x * 1000) for x, _ in values]
        cuts = sorted([*rng.sample(times, min(3, len(times))), rng.randint(1_764_000_000_000, 1_764_000_900_000)])
        kept = reduce_samples(values, cuts)
        assert kept[:1] == values[:1] and kept[-1:] == values[-1:]

        def samples(vals: list[list[Any]]) -> list[CounterSample]:
            return [CounterSample(round(float(str(a)) * 1000), Decimal(str(b))) for a, b in vals]

        full, small = samples(values), samples(kept)
        for cut in cuts:
            for before in (Decimal(0), Decimal(5), Decimal(10**9)):
                mark = CounterSample(cut, before)
                assert growth(small, mark, new_from_zero=True) == growth(full, mark, new_from_zero=True)
            started = [s for s in full if s.timestamp_ms >= cut]
            assert growth([s for s in small if s.timestamp_ms >= cut], None, new_from_zero=True) == growth(
                started, None, new_from_zero=True
            )


def test_last_only_keeps_the_last_sample_and_still_checks_every_value() -> None:
    body = (
        b'{"status":"success","data":{"resultType":"matrix","result":['
        b'{"metric":{"UUID":"GPU-1"},"values":[[1764583200,"10"],[1764583230,"450.5"]]}]}}'
    )
    [series] = parse_matrix(body, last_only=True)
    assert series.samples == [CounterSample(1764583230000, Decimal("450.5"))]
    with pytest.raises(PrometheusError, match="not a number"):
        parse_matrix(body.replace(b'"10"', b'"x"'), last_only=True)
    with pytest.raises(PrometheusError, match="not a number"):
        parse_matrix(body.replace(b'"10"', b'"x"'), cuts_ms=[])

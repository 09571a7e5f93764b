"""Range-vector answers decoded exactly; the query text is a bare range selector."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kubectl_infercost.core.counters import CounterSample
from kubectl_infercost.prometheus import PrometheusError
from kubectl_infercost.prometheus.client import parse_matrix
from kubectl_infercost.prometheus.families import range_query


def test_range_query_adds_the_selector_and_rounds_the_window_up() -> None:
    assert (
        range_query("vllm:prompt_tokens_total", 'cluster="prod"', 90.2)
        == 'vllm:prompt_tokens_total{cluster="prod"}[91s]'
    )
    assert range_query("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "", 0) == "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION[1s]"
    with pytest.raises(ValueError, match="not a metric name"):
        range_query('x"}', "", 60)


def test_matrix_values_and_timestamps_stay_exact() -> None:
    # 2**53 + 1 = 9007199254740993 would become ...992 through a float; 1764583200.123 s is 1764583200123 ms
    body = (
        b'{"status":"success","data":{"resultType":"matrix","result":['
        b'{"metric":{"pod":"p"},"values":[[1764583200.123,"9007199254740993"],[1764583215,"0.1"]]}]}}'
    )
    (series,) = parse_matrix(body)
    assert series.labels == {"pod": "p"}
    assert series.samples == [
        CounterSample(1764583200123, Decimal("9007199254740993")),
        CounterSample(1764583215000, Decimal("0.1")),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"status":"error","errorType":"bad_data","error":"parse error at char 3"}', "query failed: parse error"),
        (b'{"status":"success","data":{"resultType":"vector","result":[]}}', "expected a range vector"),
        (b"<html>", "not JSON"),
        (
            b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"x"]]}]}}',
            "not a number",
        ),
    ],
)
def test_unusable_answers_are_errors(body: bytes, message: str) -> None:
    with pytest.raises(PrometheusError, match=message):
        parse_matrix(body)


def test_series_decoded_one_at_a_time_match_the_whole_document() -> None:
    series = [
        '{"metric":{"pod":"a","note":"]},{"},"values":[[1764583200,"1"],[1764583215.5,"3"]]}',
        '{"metric":{"pod":"b"},"values":[[1764583200,"7"]]}',
    ]
    compact = '{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(series) + "]}}"
    spaced = '{ "status": "success", "data": { "resultType": "matrix", "result": [ ' + " , ".join(series) + " ] } }"
    tail = compact[:-1] + ',"warnings":["partial answer"]}'
    # keys in another order: decoded as one document
    reordered = '{"data":{"resultType":"matrix","result":[' + ",".join(series) + ']},"status":"success"}'
    whole = [(s.labels, s.samples) for s in parse_matrix(reordered.encode())]
    assert [(s.labels, s.samples) for s in parse_matrix(compact.encode())] == whole
    assert [(s.labels, s.samples) for s in parse_matrix(spaced.encode())] == whole
    assert [(s.labels, s.samples) for s in parse_matrix(tail.encode())] == whole
    assert whole[0] == (
        {"pod": "a", "note": "]},{"},
        [CounterSample(1764583200000, Decimal(1)), CounterSample(1764583215500, Decimal(3))],
    )
    empty = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
    assert parse_matrix(empty) == []
    with pytest.raises(PrometheusError, match="not JSON"):
        parse_matrix(compact[:-2].encode())
    with pytest.raises(PrometheusError, match="not JSON"):
        parse_matrix(compact.replace("]]},{", "]]}{", 1).encode())

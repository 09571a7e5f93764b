"""Backfill's reading of Prometheus series: pods by target labels, GPUs by UUID, owners by pod mapping."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from kubectl_infercost.cli.backfill import parse_bound
from kubectl_infercost.core.counters import CounterSample
from kubectl_infercost.errors import UsageError
from kubectl_infercost.prometheus import RangeSeries
from kubectl_infercost.reconcile.backfill import FAMILIES, TOKEN_SETS, period_history
from kubectl_infercost.reconcile.promsource import TARGET_LABELS

IGNORED = TARGET_LABELS | {"cluster"}


def s(labels: dict[str, str], *points: tuple[int, str]) -> RangeSeries:
    return RangeSeries(labels, [CounterSample(t, D(v)) for t, v in points])


def test_token_series_by_pod_and_identity() -> None:
    series = {
        "vllm:prompt_tokens_total": [
            s(
                {"namespace": "a", "pod": "p", "model_name": "llama", "cluster": "x", "job": "j"},
                (1, "10"),
                (2, "12.6"),
            ),
            # the server's own namespace/pod labels renamed by Prometheus
            s({"exported_namespace": "b", "exported_pod": "q", "engine": "0"}, (1, "5")),
            s({"model_name": "orphan"}, (1, "1")),  # no pod labels: nobody's
        ],
        "vllm:generation_tokens_total": [s({"namespace": "a", "pod": "p", "model_name": "llama"}, (2, "3"))],
        # a pod with vLLM series is read from vLLM's families only, as the live source does
        "sglang:prompt_tokens_total": [s({"namespace": "a", "pod": "p"}, (1, "99"))],
    }
    got = period_history(series, IGNORED, None, {})
    assert [(t.namespace, t.pod, t.identity, t.model) for t in got.tokens] == [
        ("a", "p", 'model_name="llama"', "llama"),
        ("b", "q", 'engine="0"', None),
    ]
    llama = got.tokens[0]
    # counts are whole tokens (12.6 rounds to 13, as the live parser rounds)
    assert [x.value for x in llama.input] == [D(10), D(13)]
    assert [x.value for x in llama.output] == [D(3)]


def test_gpus_by_uuid_on_the_profile_nodes_with_owners_per_sample() -> None:
    exporter = {"namespace": "gpu-operator", "pod": "dcgm-x", "Hostname": "n1"}
    energy = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
    series = {
        energy: [
            s({**exporter, "UUID": "GPU-1"}, (1, "100")),
            # the owner changed: a new series of the same GPU
            s({**exporter, "UUID": "GPU-1", "exported_namespace": "a", "exported_pod": "p"}, (2, "150")),
            # the same GPU through a second exporter pod (a DaemonSet surge): each sample once
            s(
                {**exporter, "pod": "dcgm-y", "UUID": "GPU-1", "exported_namespace": "a", "exported_pod": "p"},
                (2, "150"),
            ),
            s({"Hostname": "n2", "UUID": "GPU-2"}, (1, "7")),  # another node: not the profile's
        ],
        "DCGM_FI_DEV_POWER_USAGE": [s({**exporter, "UUID": "GPU-1"}, (1, "350.5"))],
    }
    got = period_history(series, IGNORED, {"n1"}, {})
    (gpu,) = got.gpus
    assert (gpu.uuid, gpu.node) == ("GPU-1", "n1")
    assert [(x.timestamp_ms, x.value) for x in gpu.energy] == [(1, D(100)), (2, D(150))]
    assert [(x.timestamp_ms, x.value) for x in gpu.power] == [(1, D("350.5"))]
    assert sorted((o.timestamp_ms, o.owner) for o in gpu.owners if o.owner) == [(2, ("a", "p")), (2, ("a", "p"))]
    # without a nodeSelector every GPU counts
    assert [g.uuid for g in period_history(series, IGNORED, None, {}).gpus] == ["GPU-1", "GPU-2"]


def test_every_backend_family_is_queried() -> None:
    assert TOKEN_SETS[0] == ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")
    assert "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" in FAMILIES and "tgi_request_input_length_sum" in FAMILIES
    assert len(FAMILIES) == len(set(FAMILIES))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", date(2026, 11, 1)),
        ("2026-11-01T04:00:00Z", datetime.fromisoformat("2026-11-01T04:00:00+00:00")),
        ("2026-11-01T00:00:00-04:00", datetime.fromisoformat("2026-11-01T04:00:00+00:00")),
    ],
)
def test_parse_bound(text: str, expected: date) -> None:
    assert parse_bound(text, "--since") == expected


@pytest.mark.parametrize("text", ["2026-13-01", "November", "2026-11-01T00:00:00"])
def test_parse_bound_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_bound(text, "--since")

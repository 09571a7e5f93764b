"""A whole reconcile pass over the fake API (kube/ and reconcile.py without a cluster), figures by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from kubectl_infercost.reconcile import PassOptions, run_pass
from testenv import metricsgen

from .fakeapi import FakeApi

T0 = datetime(2026, 4, 20, 10, tzinfo=UTC)
T1 = datetime(2026, 4, 20, 11, tzinfo=UTC)


def _world() -> FakeApi:
    api = FakeApi()
    api.node("gpu-1", {"pool": "a"})
    api.pod("team-a", "vllm-0", "gpu-1", "192.0.2.10", {"infercost.ai/model": "llama-3-8b"})
    api.create(
        "costprofiles",
        "infercost",
        "h100",
        {
            "hardware": {
                "gpuModel": "NVIDIA H100 80GB HBM3",
                "gpuCount": 8,
                "purchasePriceUSD": 240000,
                "amortizationYears": 4,
                "maintenancePercentPerYear": 0.05,
                "tdpWatts": 700,
            },
            "electricity": {"ratePerKWh": 0.10, "pueFactor": 1.5},
            "nodeSelector": {"pool": "a"},
        },
    )
    api.create("usagereports", "infercost", "daily", {"costProfileRef": "h100", "namespaces": ["team-a"]})
    return api


def _serve(api: FakeApi, prompt: int, generation: int) -> None:
    api.metrics[("team-a", "vllm-0", 8000)] = metricsgen.vllm("llama-3-8b", prompt, generation)


def test_baseline_then_one_hour_on_the_tdp_fallback() -> None:
    api = _world()
    _serve(api, 1_000_000, 400_000)
    with api.client() as client:
        first = run_pass(client, PassOptions(now=T0, namespace=None, catalog=None))
        assert (first.reports, first.tokens, first.failed_endpoints) == (1, 0, [])
        _serve(api, 1_600_000, 600_000)
        second = run_pass(client, PassOptions(now=T1, namespace=None, catalog=None))
    status = api.status("usagereports", "infercost", "daily")
    # No exporter: TDP fallback 8 x 700 W = 5.6 kWh x PUE 1.5 x $0.10 = $0.84; amortization
    # 240,000 / (4 x 8,760) = 6.849315; maintenance 240,000 x 0.05 / 8,760 = 1.369863; total 9.059178.
    assert D(str(status["estimatedCostUSD"])) == D("9.059178")
    assert (status["inputTokens"], status["outputTokens"]) == (600_000, 200_000)
    assert second.tokens == 800_000
    profile = api.status("costprofiles", "infercost", "h100")
    assert profile["powerSource"] == "TDPFallback"


def test_a_status_write_that_conflicts_is_recomputed_and_counted_once() -> None:
    api = _world()
    _serve(api, 1_000_000, 400_000)
    with api.client() as client:
        run_pass(client, PassOptions(now=T0, namespace=None, catalog=None))
        _serve(api, 1_600_000, 600_000)
        api.conflicts = 1  # the first status write of the pass loses to another writer's (unchanged) status
        run_pass(client, PassOptions(now=T1, namespace=None, catalog=None))
    status = api.status("usagereports", "infercost", "daily")
    assert (status["inputTokens"], status["outputTokens"]) == (600_000, 200_000)


def test_a_dead_endpoint_is_listed_and_the_pass_goes_on() -> None:
    api = _world()
    with api.client() as client:
        summary = run_pass(client, PassOptions(now=T0, namespace=None, catalog=None))
    assert summary.failed_endpoints == ["team-a/vllm-0:8000: HTTP 404: 404 page not found"]
    assert "accountingSince" in api.status("usagereports", "infercost", "daily")

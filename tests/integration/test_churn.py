"""Real-cluster churn counted exactly once (issue table rows 1-4), with one and with two reconcilers.

Every scenario runs its passes through the real CLI; with two writers both reconcile each instant at
once, and the totals must be the same as with one.
"""

from __future__ import annotations

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .conftest import NewIp, Sim
from .world import create, new_world, reconcile_together, status_of

WRITERS = pytest.mark.parametrize("writers", [1, 2])


def at(hour: int) -> str:
    return f"2026-04-20T{hour:02d}:00:00Z"


def _setup(kube: KubeClient, sim: Sim, namespace: str) -> None:
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})


def _tokens(kube: KubeClient, namespace: str) -> dict[str, tuple[int, int]]:
    st = status_of(kube, "usagereports", namespace, "daily")
    return {m["model"]: (m["inputTokens"], m["outputTokens"]) for m in st.get("byModel", [])}


def _vllm_two_models(a: int, b: int | None) -> str:
    """A vLLM server with two models (e.g. a LoRA adapter); ``b=None`` leaves b's series out."""
    lines = [
        "# TYPE vllm:prompt_tokens_total counter",
        f'vllm:prompt_tokens_total{{engine="0",model_name="a"}} {a}.0',
        f'vllm:generation_tokens_total{{engine="0",model_name="a"}} {a // 10}.0',
    ]
    if b is not None:
        lines += [
            f'vllm:prompt_tokens_total{{engine="0",model_name="b"}} {b}.0',
            f'vllm:generation_tokens_total{{engine="0",model_name="b"}} {b // 10}.0',
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.usefixtures("installed")
@WRITERS
def test_scrape_listing_each_series_twice_is_rejected(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, writers: int
) -> None:
    _setup(kube, sim, namespace)
    ip = new_ip()
    new_world(kube, sim, namespace).inference_pod("vllm", namespace, ip, "llama")
    for step, count in enumerate([1_000, 2_000, 3_000, 4_000, 5_000]):
        text = metricsgen.vllm("llama", count, count // 10)
        if step == 2:  # this scrape lists both token series twice
            text += "".join(
                line + "\n" for line in text.splitlines() if line.startswith("vllm:") and "tokens_total{" in line
            )
        sim.write(ip, 8000, text)
        outs = reconcile_together(namespace, at(10 + step), writers)
        if step == 2:
            assert any("1 failed" in o for o in outs)
            assert any("duplicate series vllm:prompt_tokens_total" in o for o in outs)
    # 1,000 -> 5,000 after the baseline: 4,000 in, 400 out (not 8,000 / 800)
    assert _tokens(kube, namespace) == {"llama": (4_000, 400)}
    st = status_of(kube, "usagereports", namespace, "daily")
    scrape = next(c for c in st["conditions"] if c["type"] == "ScrapeHealthy")
    assert scrape["status"] == "True"


@pytest.mark.usefixtures("installed")
@WRITERS
def test_relabelled_llamacpp_pod_counts_its_growth_once(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, writers: int
) -> None:
    _setup(kube, sim, namespace)
    ip = new_ip()
    new_world(kube, sim, namespace).inference_pod("llama", namespace, ip, "old-name", backend="llamacpp")
    sim.write(ip, 8080, metricsgen.llamacpp(1_000, 0))
    reconcile_together(namespace, at(10), writers)
    sim.write(ip, 8080, metricsgen.llamacpp(2_000, 0))
    reconcile_together(namespace, at(11), writers)
    kube.merge_patch(
        f"/api/v1/namespaces/{namespace}/pods/llama", {"metadata": {"labels": {"infercost.ai/model": "new-name"}}}
    )
    sim.write(ip, 8080, metricsgen.llamacpp(4_000, 0))
    reconcile_together(namespace, at(12), writers)
    # 1,000 -> 2,000 under the old label, 2,000 -> 4,000 under the new one: 3,000 in all (not 1,000 + 4,000)
    assert _tokens(kube, namespace) == {"new-name": (2_000, 0), "old-name": (1_000, 0)}


@pytest.mark.usefixtures("installed")
@WRITERS
def test_series_left_out_of_one_scrape_counts_only_its_growth(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, writers: int
) -> None:
    _setup(kube, sim, namespace)
    ip = new_ip()
    new_world(kube, sim, namespace).inference_pod("vllm", namespace, ip, "a")
    for step, (a, b) in enumerate([(1_000, 1_000), (2_000, None), (3_000, 3_000)]):
        sim.write(ip, 8000, _vllm_two_models(a, b))
        reconcile_together(namespace, at(10 + step), writers)
    # a: 1,000 -> 3,000 = 2,000; b: 1,000 -> (kept) -> 3,000 = 2,000 (not 3,000)
    assert _tokens(kube, namespace) == {"a": (2_000, 200), "b": (2_000, 200)}


@pytest.mark.usefixtures("installed")
@WRITERS
def test_pod_unknown_for_one_pass_loses_nothing(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, writers: int
) -> None:
    _setup(kube, sim, namespace)
    ip = new_ip()
    new_world(kube, sim, namespace).inference_pod("vllm", namespace, ip, "llama")
    status = f"/api/v1/namespaces/{namespace}/pods/vllm/status"
    sim.write(ip, 8000, metricsgen.vllm("llama", 1_000, 0))
    reconcile_together(namespace, at(10), writers)
    kube.merge_patch(status, {"status": {"phase": "Unknown"}})  # its node went NotReady
    sim.write(ip, 8000, metricsgen.vllm("llama", 2_000, 0))
    reconcile_together(namespace, at(11), writers)
    kube.merge_patch(status, {"status": {"phase": "Running"}})
    sim.write(ip, 8000, metricsgen.vllm("llama", 4_000, 0))
    reconcile_together(namespace, at(12), writers)
    # served 1,000 -> 4,000 in all: 3,000 (not the 1,000 of the last hour only)
    assert _tokens(kube, namespace) == {"llama": (3_000, 0)}

"""One pass's view: endpoints parsed once, GPUs unique by UUID, namespaceSelector scope."""

from __future__ import annotations

from datetime import UTC, datetime

from kubectl_infercost.kube.discovery import Endpoint, ExporterPod, InferencePod, in_scope
from kubectl_infercost.kube.scrape import ScrapeResult
from kubectl_infercost.reconcile.observe import dcgm_outcome, parse_all
from testenv import metricsgen


def exporter(name: str, ip_node: str = "gpu-1") -> ExporterPod:
    return ExporterPod("dcgm", name, ip_node, Endpoint("dcgm", name, 9400, "/metrics"))


def inference(name: str, ns: str = "team") -> InferencePod:
    return InferencePod(
        f"uid-{name}",
        ns,
        name,
        "gpu-1",
        "llama",
        "auto",
        Endpoint(ns, name, 8000, "/metrics"),
        datetime(2026, 4, 19, tzinfo=UTC),
        0,
    )


def test_surge_exporters_serving_the_same_gpus_count_each_once() -> None:
    gpus = [
        metricsgen.Gpu(i, f"GPU-{i}", 500.0, 1_000, "vllm" if i < 2 else None, "team" if i < 2 else None)
        for i in range(4)
    ]
    text = metricsgen.dcgm("gpu-1", "H100", gpus)
    exporters = [exporter("dcgm-a"), exporter("dcgm-b")]
    scraped = {e.endpoint: ScrapeResult(e.endpoint, text, None) for e in exporters}
    outcome = dcgm_outcome(exporters, ["gpu-1"], parse_all([], exporters, scraped))
    assert sorted(g.uuid for g in outcome.gpus) == ["GPU-0", "GPU-1", "GPU-2", "GPU-3"]  # 4, not 8
    assert outcome.owners == {("team", "vllm"): 2}  # 2 of 4, not 4


def test_every_failure_is_listed_once_whatever_its_kind() -> None:
    pods = [inference(n) for n in ("ok", "http", "nan", "empty", "dup")]
    bodies: dict[str, tuple[str | None, str | None]] = {
        "ok": (metricsgen.vllm("llama", 5, 1), None),
        "http": (None, "HTTP 503: simulated status 503"),
        "nan": ('vllm:prompt_tokens_total{model_name="m"} NaN\n', None),
        "empty": ("", None),
        "dup": ('vllm:prompt_tokens_total{model_name="m"} 1\n' * 2, None),
    }
    scraped = {p.endpoint: ScrapeResult(p.endpoint, *bodies[p.name]) for p in pods}
    parsed = parse_all(pods + pods, [], scraped)  # a pod in two reports' scopes is parsed once
    lines = parsed.failure_lines(p.endpoint for p in pods)
    assert [line.split(":")[0] for line in lines] == ["team/dup", "team/empty", "team/http", "team/nan"]
    assert lines[2] == "team/http:8000: HTTP 503: simulated status 503"
    assert "is NaN" in lines[3] and "duplicate series" in lines[0] and "no known inference-server" in lines[1]
    assert set(parsed.tokens) == {pods[0].endpoint}


def test_namespace_selector_keeps_pods_of_matching_namespaces_only() -> None:
    pods = [inference("a", "prod"), inference("b", "dev"), inference("c", "unlabelled")]
    labels = {"prod": {"infercost.ai/billed": "true"}, "dev": {"infercost.ai/billed": "false"}}
    scoped = in_scope(pods, [], None, {"infercost.ai/billed": "true"}, labels)
    assert [p.name for p in scoped] == ["a"]
    assert [p.name for p in in_scope(pods, ["dev", "prod"], None, {}, labels)] == ["a", "b"]  # no selector: all
    assert in_scope(pods, ["dev"], None, {"infercost.ai/billed": "true"}, labels) == []  # narrows, never widens

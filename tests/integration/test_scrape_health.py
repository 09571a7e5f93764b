"""--scrape-timeout is a total deadline; the summary counts every failed endpoint as ScrapeHealthy lists them."""

from __future__ import annotations

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen

from .conftest import NewIp, Sim
from .world import create, new_world, reconcile, status_of


@pytest.mark.usefixtures("installed")
def test_every_failed_endpoint_counted_once_and_trickling_server_cut_off(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp
) -> None:
    w = new_world(kube, sim, namespace)
    w.pool_profile()
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "h100", "namespaces": [namespace]})
    bodies = {
        "healthy": metricsgen.vllm("m", 10, 0),
        "http503": metricsgen.vllm("m", 10, 0),
        "trickle": metricsgen.vllm("m", 10, 0),
        "nan": 'vllm:prompt_tokens_total{model_name="m"} NaN\nvllm:generation_tokens_total{model_name="m"} 1\n',
        "negative": 'vllm:prompt_tokens_total{model_name="m"} -4\nvllm:generation_tokens_total{model_name="m"} 1\n',
        "malformed": 'vllm:prompt_tokens_total{model_name="m" 12\n',
        "empty": "",
    }
    ips = {}
    for name, body in bodies.items():
        ips[name] = new_ip()
        w.inference_pod(name, namespace, ips[name], "m")
        sim.write(ips[name], 8000, body)
    sim.set_status(ips["http503"], 8000, 503)
    sim.set_trickle(ips["trickle"], 8000, 0.5)  # ~100 KB at 2 bytes/s: hours without a total deadline
    out = reconcile(namespace, "2026-04-20T10:00:00Z", "--scrape-timeout", "1s")["stdout"]
    failed = sorted(set(bodies) - {"healthy"})
    assert "endpoints: 7 scraped, 6 failed" in out, out
    listed = [line.split("failed: ", 1)[1] for line in out.splitlines() if line.startswith("  failed: ")]
    assert [entry.split("/")[1].split(":")[0] for entry in listed] == failed
    assert f"{namespace}/trickle:8000: timed out after 1s" in listed
    assert any("is NaN" in line for line in listed) and any("is negative" in line for line in listed)
    scrape = next(
        c for c in status_of(kube, "usagereports", namespace, "daily")["conditions"] if c["type"] == "ScrapeHealthy"
    )
    assert scrape["message"].startswith("6 endpoint(s) failed: ")
    assert scrape["message"].removeprefix("6 endpoint(s) failed: ").split("; ") == listed

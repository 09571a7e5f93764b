"""Benchmark: one reconcile pass over 1,000 vLLM pods and 125 dcgm-exporters through the real API server.

Run inside scripts/with-cluster (``make bench`` does). The floor is the same GETs through the pod
proxy by a bare concurrent HTTP client (16 threads, no parsing, nothing written). The simulator gives
the pods 200 addresses (192.0.2.0/24 has too few for 1,000): five pods share each address, so every
scrape is still its own GET through the proxy.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from testenv import metricsgen
from testenv.simpod import apply_file, create

PODS, EXPORTERS, NODES = 1000, 125, 125
NS = "bench"


def build_world(client: KubeClient, sim_root: Path) -> list[str]:
    items: list[dict[str, object]] = []
    for n in range(NODES):
        items.append({"kind": "node", "name": f"bench-node-{n:03d}", "labels": {"pool": "bench"}, "gpus": 8})
    paths = []
    for e in range(EXPORTERS):
        ip = f"192.0.2.{210 + e % 40}"
        items.append(
            {
                "kind": "pod",
                "name": f"dcgm-{e:03d}",
                "namespace": "gpu-ops",
                "ip": ip,
                "node": f"bench-node-{e:03d}",
                "labels": {"app": "nvidia-dcgm-exporter"},
                "started": "2026-04-19T00:00:00Z",
            }
        )
        paths.append(f"/api/v1/namespaces/gpu-ops/pods/dcgm-{e:03d}:9400/proxy/metrics")
    for p in range(PODS):
        ip = f"192.0.2.{10 + p % 200}"
        items.append(
            {
                "kind": "pod",
                "name": f"vllm-{p:04d}",
                "namespace": NS,
                "ip": ip,
                "node": f"bench-node-{p % NODES:03d}",
                "labels": {"infercost.ai/model": f"model-{p % 7}"},
                "gpus": 1,
                "started": "2026-04-19T00:00:00Z",
            }
        )
        paths.append(f"/api/v1/namespaces/{NS}/pods/vllm-{p:04d}:8000/proxy/metrics")
    for i in range(200):
        target = sim_root / f"192.0.2.{10 + i}" / "8000" / "metrics"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(metricsgen.vllm(f"model-{i % 7}", 1_000_000 + i, 500_000 + i))
    for i in range(40):
        target = sim_root / f"192.0.2.{210 + i}" / "9400" / "metrics"
        target.parent.mkdir(parents=True, exist_ok=True)
        gpus = [metricsgen.Gpu(g, f"GPU-{i}-{g}", 400.0 + g, 10**10 + g) for g in range(8)]
        target.write_text(metricsgen.dcgm(f"bench-node-{i:03d}", "NVIDIA H100 80GB HBM3", gpus))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(items, fh)
    started = time.monotonic()
    apply_file(client, fh.name)
    print(f"world: {NODES} nodes, {EXPORTERS} exporters, {PODS} pods created in {time.monotonic() - started:.1f} s")
    hardware = {"gpuModel": "H100", "gpuCount": 1000, "purchasePriceUSD": 30000000, "tdpWatts": 700}
    profile = {"hardware": hardware, "electricity": {"ratePerKWh": 0.1}, "nodeSelector": {"pool": "bench"}}
    create(client, "costprofiles", NS, "pool", profile)
    create(client, "usagereports", NS, "all", {"costProfileRef": "pool", "namespaces": [NS]})
    return paths


def floor(paths_file: str, library: str) -> float:
    """A bare concurrent HTTP client in its own process (start-up included, like the plugin's)."""
    started = time.monotonic()
    script = str(Path(__file__).with_name("floor_client.py"))
    subprocess.run([sys.executable, script, paths_file, library], check=True)
    return time.monotonic() - started


def one_pass(now: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    out = subprocess.run(
        ["kubectl-infercost", "reconcile", "-n", NS, "--now", now, "-q"], capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    if out.returncode != 0:
        sys.exit(f"reconcile failed: {out.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    subprocess.run(["kubectl-infercost", "install"], check=True, capture_output=True)
    client = KubeClient(load_config(os.environ["KUBECONFIG"]), max_connections=32)
    paths = build_world(client, Path(os.environ["INFERCOST_SIM_ROOT"]))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(paths, fh)
    floors: dict[str, list[float]] = {"urllib3": [], "httpx": []}
    passes, rss = [], 0.0
    for i in range(5):
        for library, runs in floors.items():
            runs.append(floor(fh.name, library))
        elapsed, peak = one_pass(f"2026-04-20T{10 + i:02d}:00:00Z")
        passes.append(elapsed)
        rss = max(rss, peak)
    p = statistics.median(passes)
    for library, runs in floors.items():
        print(
            f"floor, bare {library} client process ({len(paths)} GETs through the pod proxy): "
            f"median {statistics.median(runs):.2f} s of {[round(x, 2) for x in runs]}"
        )
    print(
        f"reconcile pass process (1,000 pods + 125 exporters: list, scrape, parse, account, write): "
        f"median {p:.2f} s of {[round(x, 2) for x in passes]}"
    )
    for library, runs in floors.items():
        print(f"ratio {p / statistics.median(runs):.2f}x the {library} floor (target <= 1.3x)")
    print(f"peak RSS of the reconcile process {rss:.0f} MB (target <= 250)")


if __name__ == "__main__":
    main()

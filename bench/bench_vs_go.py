"""Benchmark: ``export focus --columns infercost-v1`` against the Go InferCost CLI, paired, same API server.

Run inside scripts/with-cluster (``make bench`` does). The peer is built outside the repository by
``hack/build-peer-infercost`` (cached). For 200 and then 2,000 UsageReports (3 models each, one
CostProfile, in one namespace) both CLIs export the namespace to a file on tmpfs, alternately (Go,
ours, Go, ours, ...), so each of our runs has a neighbour of theirs under the same machine load. Wall
time includes process start-up, as a user sees it; peak RSS is each process's own (``wait4``).

Prints medians and ratios (target: ours <= 1.0x the Go wall time and <= 1.5x its peak RSS);
asserts nothing. Usage: python bench/bench_vs_go.py [--runs N] [--sizes 200,2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from testenv.simpod import create, ensure_namespace

REPO = Path(__file__).resolve().parents[1]
GROUP = "/apis/finops.infercost.ai/v1alpha1"
# What any export built on the design's libraries pays before its first request: the interpreter and
# the imports of click, urllib3/ssl, pydantic and the kubernetes package's kubeconfig loader.
FLOOR = [sys.executable, "-c", "import click, ssl, urllib3, pydantic, kubernetes.config.kube_config"]


def peer_binary() -> str:
    out = subprocess.run([str(REPO / "hack" / "build-peer-infercost")], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"cannot build the Go peer:\n{out.stderr[-2000:]}")
    return out.stdout.strip()


def build_world(client: KubeClient, namespace: str, reports: int) -> None:
    ensure_namespace(client, namespace)
    hardware = {"gpuModel": "NVIDIA H100 80GB HBM3", "gpuCount": 8, "purchasePriceUSD": 240000}
    electricity = {"ratePerKWh": 0.1, "pueFactor": 1.4}
    create(client, "costprofiles", namespace, "pool", {"hardware": hardware, "electricity": electricity})
    started = time.monotonic()
    for i in range(reports):
        name = f"r{i:05d}"
        create(client, "usagereports", namespace, name, {"costProfileRef": "pool", "schedule": "monthly"})
        models: list[dict[str, Any]] = [
            {"model": f"model-{m}", "namespace": namespace, "inputTokens": 1_000_000 + i + m,
             "outputTokens": 250_000 + m, "estimatedCostUSD": Decimal(f"{1 + m}.{i % 1000:03d}123")}
            for m in range(3)
        ]  # fmt: skip
        status = {
            "period": "2026-11", "periodStart": "2026-11-01T00:00:00Z", "periodEnd": "2026-11-30T12:00:00Z",
            "inputTokens": sum(m["inputTokens"] for m in models),
            "outputTokens": sum(m["outputTokens"] for m in models),
            "estimatedCostUSD": sum((m["estimatedCostUSD"] for m in models), Decimal(0)),
            "gpuHours": Decimal(5664), "byModel": models,
        }  # fmt: skip
        client.merge_patch(f"{GROUP}/namespaces/{namespace}/usagereports/{name}/status", {"status": status})
    print(f"  world: {reports} UsageReports x 3 models in {time.monotonic() - started:.1f} s", flush=True)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one process."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {stderr[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7, help="paired runs per size")
    parser.add_argument("--sizes", default="200,2000", help="UsageReport counts")
    args = parser.parse_args()
    go = peer_binary()
    subprocess.run(["kubectl-infercost", "install"], check=True, capture_output=True)
    client = KubeClient(load_config(os.environ["KUBECONFIG"]), max_connections=16)
    env = dict(os.environ)
    peer = Path(go).parent.parent.name
    print(f"FOCUS export vs the Go InferCost CLI ({peer}), paired runs, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            namespace = f"bench-go-{size}"
            print(f"{size} UsageReports", flush=True)
            build_world(client, namespace, size)
            theirs = [go, "export", "focus", "-n", namespace, "--out", f"{tmp}/go.csv"]
            ours = ["kubectl-infercost", "export", "focus", "-n", namespace, "--columns", "infercost-v1",
                    "--out", f"{tmp}/ours.csv"]  # fmt: skip
            timed(theirs, env), timed(ours, env)  # warm both (page cache, API server watch caches)
            pairs = [(timed(theirs, env), timed(ours, env)) for _ in range(args.runs)]
            floor = statistics.median(timed(FLOOR, env)[0] for _ in range(args.runs))
            go_t = statistics.median(p[0][0] for p in pairs)
            our_t = statistics.median(p[1][0] for p in pairs)
            ratios = sorted(p[1][0] / p[0][0] for p in pairs)
            go_m, our_m = max(p[0][1] for p in pairs), max(p[1][1] for p in pairs)
            print(f"  Go CLI:  median {go_t:.3f} s of {[round(p[0][0], 3) for p in pairs]}; peak RSS {go_m:.0f} MB")
            print(f"  ours:    median {our_t:.3f} s of {[round(p[1][0], 3) for p in pairs]}; peak RSS {our_m:.0f} MB")
            print(f"  floor:   median {floor:.3f} s: python3 importing only the libraries the export is built on")
            print(
                f"  ratio ours/Go: wall {our_t / go_t:.2f}x (paired: median {statistics.median(ratios):.2f}x, "
                f"range {ratios[0]:.2f}-{ratios[-1]:.2f}x; target <= 1.0x), peak RSS {our_m / go_m:.2f}x "
                "(target <= 1.5x)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

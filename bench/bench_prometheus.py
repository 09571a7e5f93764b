"""Benchmark: one reconcile pass over 10,000 inference pods and 1,250 dcgm-exporters via Prometheus.

Run inside scripts/with-cluster (``make bench`` does). The Pods, Nodes, CostProfiles and UsageReports
are in the local API server (Pods are not running anything: their status is set through the status
subresource, as the simulator's pods are). The series (two vLLM token counters per pod, DCGM energy and
power per GPU, 8 GPUs per exporter, one sample every 30 s as kube-prometheus scrapes) are written as
OpenMetrics, made into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics`` and served by
Debian's Prometheus with no scrape targets.

A baseline pass writes the checkpoints; then each timed pass is ``kubectl-infercost reconcile -A --now T
--metrics-source prometheus`` one interval after the previous one (process start, LISTs, the queries,
decoding, accounting of 10 reports of 1,000 pods, status writes). Its floor is the same queries issued
bare, in the same run right after it: Prometheus' query log gives exactly the requests the pass made,
and they are sent again one after the other with urllib3 (the pass's own HTTP library), reading each
body and decoding nothing. Peak RSS is the pass process's own (wait4).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import urllib3

from kubectl_infercost.errors import ConflictError
from kubectl_infercost.kube.client import KubeClient, dumps
from kubectl_infercost.kube.config import load_config
from testenv.certs import kubeconfig_files
from testenv.promhistory import HistoryPrometheus
from testenv.simpod import create, ensure_namespace, make_node

PODS, EXPORTERS, NAMESPACES, GPUS = 10_000, 1_250, 10, 8
SCRAPE = 30  # seconds between samples
T1 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # the baseline pass
LOOKBACK = 300  # the reconciler's default: samples read before the oldest checkpoint
PORT = 19290
GROUP = "/apis/finops.infercost.ai/v1alpha1"


def _ns(k: int) -> str:
    return f"bench-p{k}"


def _node(n: int) -> str:
    return f"bench-node-{n:04d}"


def _parallel(what: str, items: list[Any], work: Callable[[Any], None], threads: int = 16) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(work, items):
            pass
    print(f"  {len(items)} {what} in {time.monotonic() - started:.1f} s", flush=True)


def _pod(client: KubeClient, name: str, namespace: str, ip: str, node: str, labels: dict[str, str], gpus: int) -> None:
    container: dict[str, Any] = {"name": "server", "image": "simulated.invalid/inference:1"}
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [container], "nodeName": node},
    }
    base = f"/api/v1/namespaces/{namespace}/pods"
    with contextlib.suppress(ConflictError):
        client.request("POST", base, body=body)
    status = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": "2026-04-19T00:00:00Z"}
    client.merge_patch(f"{base}/{name}/status", {"status": status})


def build_world(client: KubeClient) -> None:
    """1,250 Nodes of 8 GPUs in 10 pools; per pool a namespace of 1,000 vLLM pods, a CostProfile and a report."""
    print("world:", flush=True)
    for k in range(NAMESPACES):
        ensure_namespace(client, _ns(k))
    ensure_namespace(client, "gpu-ops")
    per_pool = EXPORTERS // NAMESPACES
    _parallel(
        "nodes",
        list(range(EXPORTERS)),
        lambda n: make_node(client, _node(n), {"pool": _ns(n // per_pool)}, GPUS),
    )
    _parallel(
        "exporter pods",
        list(range(EXPORTERS)),
        lambda e: _pod(
            client, f"dcgm-{e:04d}", "gpu-ops", _exporter_ip(e), _node(e), {"app": "nvidia-dcgm-exporter"}, 0
        ),
    )
    per_ns = PODS // NAMESPACES

    def inference(p: int) -> None:
        k, i = divmod(p, per_ns)
        node = _node(k * per_pool + i % per_pool)
        labels = {"infercost.ai/model": f"model-{p % 7}"}
        _pod(client, f"vllm-{p:05d}", _ns(k), _pod_ip(p), node, labels, 1)

    _parallel("inference pods", list(range(PODS)), inference)
    hardware = {"gpuModel": "H100", "gpuCount": per_pool * GPUS, "purchasePriceUSD": 30000000, "tdpWatts": 700}
    for k in range(NAMESPACES):
        profile = {"hardware": hardware, "electricity": {"ratePerKWh": 0.1}, "nodeSelector": {"pool": _ns(k)}}
        report = {"costProfileRef": "pool", "namespaces": [_ns(k)]}
        for plural, name, spec in (("costprofiles", "pool", profile), ("usagereports", "all", report)):
            with contextlib.suppress(ConflictError):
                create(client, plural, _ns(k), name, spec)


def _pod_ip(p: int) -> str:
    return f"10.{1 + p // 65025}.{p // 255 % 255}.{1 + p % 255}"


def _exporter_ip(e: int) -> str:
    return f"10.200.{e // 255}.{1 + e % 255}"


def write_history(path: Path, until: datetime) -> int:
    """Samples every 30 s from LOOKBACK + 30 s before T1 to ``until``; returns how many."""
    e1 = int(T1.timestamp())
    ticks = list(range(e1 - LOOKBACK - SCRAPE, int(until.timestamp()) + 1, SCRAPE))
    count = 0
    per_ns = PODS // NAMESPACES
    with path.open("w") as out:
        for family, slope in (("vllm:prompt_tokens", 1500), ("vllm:generation_tokens", 500)):
            out.write(f"# TYPE {family} counter\n")
            for p in range(PODS):
                k = p // per_ns
                labels = (
                    f'container="vllm",endpoint="http",instance="{_pod_ip(p)}:8000",job="{_ns(k)}/vllm",'
                    f'model_name="model-{p % 7}",namespace="{_ns(k)}",pod="vllm-{p:05d}",service="vllm"'
                )
                restart = ticks[len(ticks) // 2] if p % 100 == 0 else None  # 1 % of the servers restart once
                lines = []
                for t in ticks:
                    value = (t - e1 + 10**6 + p) * slope // 30 if restart is None or t < restart else (t - restart) * 7
                    lines.append(f"{family}_total{{{labels}}} {value} {t}\n")
                out.writelines(lines)
                count += len(lines)
        gpu_labels = []
        for e in range(EXPORTERS):
            for g in range(GPUS):
                gpu_labels.append(
                    f'DCGM_FI_DRIVER_VERSION="580.105.08",Hostname="{_node(e)}",UUID="GPU-{e:04d}-{g}",'
                    f'container="exporter",device="nvidia{g}",endpoint="metrics",gpu="{g}",'
                    f'instance="{_exporter_ip(e)}:9400",job="gpu-ops/dcgm-exporter",'
                    f'modelName="NVIDIA H100 80GB HBM3",namespace="gpu-ops",pci_bus_id="00000000:{0x18 + g:02X}:00.0",'
                    f'pod="dcgm-{e:04d}",service="dcgm-exporter"'
                )
        out.write("# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n")
        for labels in gpu_labels:
            out.writelines(
                f"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{{labels}}} {(t - e1) * 450_000 + 10**12} {t}\n" for t in ticks
            )
            count += len(ticks)
        out.write("# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n")
        for labels in gpu_labels:
            out.writelines(f"DCGM_FI_DEV_POWER_USAGE{{{labels}}} 450.5 {t}\n" for t in ticks)
            count += len(ticks)
        out.write("# EOF\n")
    return count


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def one_pass(at: datetime, url: str, profile: str | None = None) -> tuple[float, float, str]:
    """One pass process: wall seconds, its own peak RSS in MB (wait4), its stdout."""
    command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "kubectl_infercost"] if profile else []
    argv = [
        *(command or ["kubectl-infercost"]),
        "reconcile",
        "-A",
        "--now",
        _stamp(at),
        "--metrics-source",
        "prometheus",
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen([*argv, "--prometheus-url", url], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"reconcile failed: {err.read().decode()}")
        return elapsed, usage.ru_maxrss / 1024, out.read().decode()


def bare_queries(url: str, entries: list[dict[str, Any]]) -> tuple[float, int, int]:
    """The logged queries again, one after the other, bodies read and not decoded: (seconds, queries, bytes)."""
    pool = urllib3.PoolManager()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    bodies = []
    for entry in entries:
        params = entry["params"]
        at = datetime.fromisoformat(params["end"].replace("Z", "+00:00"))
        millis = round(at.timestamp() * 1000)
        bodies.append(urlencode({"query": params["query"], "time": f"{millis // 1000}.{millis % 1000:03d}"}))
    size = 0
    started = time.monotonic()
    for body in bodies:
        response = pool.request("POST", f"{url}/api/v1/query", body=body, headers=headers)
        size += len(response.data)
    return time.monotonic() - started, len(bodies), size


_CONTINUE = re.compile(rb'"continue":"([^"]+)"')


def status_bodies(client: KubeClient) -> list[tuple[str, bytes]]:
    """Each CostProfile's and UsageReport's status path and body as the pass left it, ``lastUpdated`` a
    second later (an unchanged body is not stored again by the API server; the pass's bodies are)."""
    bodies = []
    for plural in ("costprofiles", "usagereports"):
        for obj in client.list_items(f"{GROUP}/{plural}", page_size=None):
            meta, status = obj["metadata"], obj.get("status") or {}
            written = str(status.get("lastUpdated", "2026-01-01T00:00:00Z"))
            stamp = datetime.fromisoformat(written.replace("Z", "+00:00"))
            obj["status"] = {**status, "lastUpdated": _stamp(stamp + timedelta(seconds=1))}
            bodies.append((f"{GROUP}/namespaces/{meta['namespace']}/{plural}/{meta['name']}/status", dumps(obj)))
    return bodies


def bare_api_calls(bodies: list[tuple[str, bytes]]) -> tuple[float, int, int]:
    """The pass's API calls again, bare: the Node and Pod LISTs in pages of 500 and the lists of our kinds,
    one after the other, then ``bodies`` PUT four at a time as the pass writes them, answers read and not
    decoded (a page's continue token found in its head): (seconds, requests, bytes)."""
    lists = [("/api/v1/nodes", 500), ("/api/v1/pods", 500)]
    lists += [(f"{GROUP}/{plural}", 0) for plural in ("costprofiles", "usagereports", "tokenbudgets")]
    with kubeconfig_files() as (server, ca, cert, key):
        pool = urllib3.PoolManager(
            maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=str(ca), cert_file=str(cert), key_file=str(key)
        )
        requests = size = 0
        started = time.monotonic()
        for path, limit in lists:
            token = None
            while True:
                query = {"limit": str(limit), **({"continue": token} if token else {})} if limit else {}
                data = pool.request("GET", f"{server}{path}" + (f"?{urlencode(query)}" if query else "")).data
                requests, size = requests + 1, size + len(data)
                found = _CONTINUE.search(data, 0, 8192) if limit else None
                if found is None:
                    break
                token = found.group(1).decode()

        def put(item: tuple[str, bytes]) -> int:
            path, body = item
            answer = pool.request("PUT", server + path, body=body, headers={"Content-Type": "application/json"})
            if answer.status != 200:
                raise SystemExit(f"PUT {path}: {answer.status} {answer.data[:200]!r}")
            return len(answer.data)

        with ThreadPoolExecutor(4) as threads:
            size += sum(threads.map(put, bodies))
        return time.monotonic() - started, requests + len(bodies), size


def main() -> None:
    global PODS, EXPORTERS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=int, default=900, help="seconds between passes (default 900)")
    parser.add_argument("--runs", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--profile", metavar="FILE", help="one more pass, untimed, under cProfile: stats to FILE")
    parser.add_argument("--pods", type=int, default=10_000, help="inference pods, one exporter per 8 (default 10000)")
    args = parser.parse_args()
    PODS, EXPORTERS = args.pods, args.pods // 8
    load = os.getloadavg()
    print(f"Prometheus source, python {sys.version.split()[0]}, load {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}")
    subprocess.run(["kubectl-infercost", "install"], check=True, capture_output=True)
    client = KubeClient(load_config(os.environ["KUBECONFIG"]), max_connections=32)
    build_world(client)
    last = T1 + timedelta(seconds=args.interval * (args.runs + 1 + bool(args.profile)))
    with tempfile.TemporaryDirectory(prefix="bench-prom-") as tmp:
        work = Path(tmp)
        history = work / "history.om"
        started = time.monotonic()
        samples = write_history(history, last)
        print(f"  {samples:,} samples of {4 * PODS:,} series written in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        prom = HistoryPrometheus(work / "prom", port=PORT)
        prom.start(history, timeout=1800)
        history.unlink()
        print(f"  blocks made and Prometheus ready in {time.monotonic() - started:.1f} s", flush=True)
        try:
            elapsed, rss, _ = one_pass(T1, prom.url)
            print(f"baseline pass at {_stamp(T1)}: {elapsed:.2f} s, peak RSS {rss:.0f} MB")
            passes, floors, api_floors, peaks = [], [], [], []
            for run in range(1, args.runs + 1):
                at = T1 + timedelta(seconds=args.interval * run)
                offset = prom.query_log.stat().st_size if prom.query_log.exists() else 0
                elapsed, rss, out = one_pass(at, prom.url)
                entries = prom.query_log_entries(offset)
                floor, queries, size = bare_queries(prom.url, entries)
                api, calls, api_size = bare_api_calls(status_bodies(client))
                passes.append(elapsed)
                floors.append(floor)
                api_floors.append(api)
                peaks.append(rss)
                summary = next((line for line in out.splitlines() if line.startswith("profiles:")), "")
                print(
                    f"pass at {_stamp(at)}: {elapsed:.2f} s, peak RSS {rss:.0f} MB; its {queries} queries bare "
                    f"{floor:.2f} s ({size / 1e6:.1f} MB of answers), its {calls} API calls bare {api:.2f} s "
                    f"({api_size / 1e6:.1f} MB); {summary.strip()}",
                    flush=True,
                )
            if args.profile:
                at = T1 + timedelta(seconds=args.interval * (args.runs + 1))
                elapsed, rss, _ = one_pass(at, prom.url, args.profile)
                print(f"profiled pass at {_stamp(at)}: {elapsed:.2f} s under cProfile, stats in {args.profile}")
        finally:
            prom.stop()
    p, f = statistics.median(passes), statistics.median(floors)
    window = args.interval + LOOKBACK
    print(
        f"reconcile pass process ({PODS:,} pods, {EXPORTERS:,} exporters, {window} s of samples every {SCRAPE} s): "
        f"median {p:.2f} s of {[round(x, 2) for x in passes]}"
    )
    print(f"bare queries of the same pass: median {f:.2f} s of {[round(x, 2) for x in floors]}")
    print(f"ratio {p / f:.2f}x the bare queries (target <= 2x)")
    both = [q + a for q, a in zip(floors, api_floors, strict=True)]
    print(
        f"bare API calls of the same pass (LISTs, status PUTs): median {statistics.median(api_floors):.2f} s; "
        f"with the queries {statistics.median(both):.2f} s: ratio {p / statistics.median(both):.2f}x"
    )
    print(f"peak RSS of the reconcile process {max(peaks):.0f} MB (target <= 300)")


if __name__ == "__main__":
    main()

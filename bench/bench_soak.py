"""Soak: ``reconcile --watch --interval 1s`` for 10 minutes over 200 simulated pods with random restarts,
failures and relabels (run inside scripts/with-cluster; ``make bench`` does).

Two watch loops run at once (as two replicas would), so status writes conflict. A driver serves the
pods' counters and keeps the truth itself: every token it adds after the baseline. A counter is reset
(a container restart) only once a written checkpoint holds its last value, so no served token is
unobservable. A restarted vLLM pod serves new ``_created`` samples and process start and grows at
once, past its old value too; a restarted llama.cpp pod, whose page says nothing of when it started,
grows again once a checkpoint holds its post-restart value (a counter below its old one: the only
restart a value-only page shows). Endpoints fail for a few seconds (500, 503, garbage, a slow answer)
while their counters keep growing; llama.cpp pods are relabelled to another model.

The money truth needs none of the code under test: the CostProfile costs $31,536 over 1 year of 8,760
hours = $3.60/h = $0.001 a second, electricity $0; passes run on whole seconds; each of the 200 pods
holds one of the 200 GPUs, so its share of a second is $0.000005, exact. The report must hold exactly
$0.001 per second between its baseline and its checkpoint.

Prints passes completed, status conflicts (409 answers of kube-apiserver to status PUTs, from its own
/metrics), token and dollar errors (both must be 0) and the watch processes' RSS (peak in the first
minute and after it: it must not grow).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from kubectl_infercost.errors import ApiError
from kubectl_infercost.kube.client import KubeClient
from kubectl_infercost.kube.config import load_config
from testenv import metricsgen
from testenv.simpod import apply_file, create

NS = "soak"
PODS, NODES = 200, 25
GROUP = "/apis/finops.infercost.ai/v1alpha1"
PER_SECOND = Decimal("0.001")
REPORT = f"{GROUP}/namespaces/{NS}/usagereports/soak"


@dataclass
class Pod:
    index: int
    ip: str
    llamacpp: bool
    model: str
    tin: int = 0  # the counters it serves
    tout: int = 0
    truth_in: int = 0  # tokens added after the baseline (the truth)
    truth_out: int = 0
    failing_until: float = 0.0
    restarting: bool = False
    started: float | None = None  # a vLLM process start after a restart (None: the scrape's own)
    reset_unseen: bool = False  # a restarted llama.cpp pod whose post-restart value no checkpoint holds yet

    @property
    def name(self) -> str:
        return f"{'llama' if self.llamacpp else 'vllm'}-{self.index:03d}"

    @property
    def port(self) -> int:
        return 8080 if self.llamacpp else 8000

    def page(self) -> str:
        if self.llamacpp:
            return metricsgen.llamacpp(self.tin, self.tout)
        return metricsgen.vllm(self.model, self.tin, self.tout, started=self.started)


class Sim:
    def __init__(self, root: Path) -> None:
        self.root = root

    def target(self, pod: Pod) -> Path:
        return self.root / pod.ip / str(pod.port) / "metrics"

    def serve(self, pod: Pod) -> None:
        target = self.target(pod)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name("metrics.tmp")
        tmp.write_text(pod.page())
        tmp.replace(target)

    def fail(self, pod: Pod, how: str) -> None:
        target = self.target(pod)
        if how in ("500", "503"):
            target.with_name("metrics.status").write_text(how + "\n")
        elif how == "slow":
            target.with_name("metrics.delay").write_text("1\n")
        else:  # garbage: the page is replaced until healed
            tmp = target.with_name("metrics.tmp")
            tmp.write_text("<html>502 Bad Gateway</html>\n")
            tmp.replace(target)

    def heal(self, pod: Pod) -> None:
        for side in ("metrics.status", "metrics.delay"):
            self.target(pod).with_name(side).unlink(missing_ok=True)
        self.serve(pod)


def duration(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 10m)")
    return float(m.group(1)) * (60 if m.group(2) == "m" else 1)


def build_world(client: KubeClient, sim: Sim) -> list[Pod]:
    items: list[dict[str, Any]] = [
        {"kind": "node", "name": f"soak-node-{n:02d}", "labels": {"pool": "soak"}, "gpus": 8} for n in range(NODES)
    ]
    pods = []
    for i in range(PODS):
        llamacpp = i % 2 == 1
        pod = Pod(i, f"192.0.2.{10 + i}", llamacpp, f"llama-{i % 3}" if llamacpp else f"model-{i % 5}")
        pod.tin, pod.tout = 1_000 + i, 100 + i
        pods.append(pod)
        sim.heal(pod)
        items.append(
            {
                "kind": "pod",
                "name": pod.name,
                "namespace": NS,
                "ip": pod.ip,
                "node": f"soak-node-{i % NODES:02d}",
                "labels": {"infercost.ai/model": pod.model},
                "annotations": {"infercost.ai/backend": "llamacpp" if llamacpp else "vllm"},
                "gpus": 1,
                "started": "2026-04-19T00:00:00Z",
            }
        )
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(items, fh)
    apply_file(client, fh.name)
    hardware = {"gpuModel": "NVIDIA L4", "gpuCount": PODS, "purchasePriceUSD": 31536, "amortizationYears": 1}
    profile = {"hardware": hardware, "electricity": {"ratePerKWh": 0}, "nodeSelector": {"pool": "soak"}}
    create(client, "costprofiles", NS, "flat", profile)
    create(client, "usagereports", NS, "soak", {"costProfileRef": "flat", "namespaces": [NS]})
    return pods


def checkpointed(status: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Pod name -> the (in, out) counter sums the written checkpoint holds."""
    out = {}
    for entry in (status.get("checkpoint") or {}).get("pods", []):
        series = entry.get("series") or []
        out[entry["name"]] = (sum(int(s["in"]) for s in series), sum(int(s["out"]) for s in series))
    return out


def conflicts() -> int:
    """kube-apiserver's own count of 409 answers to PUTs of our status subresources."""
    text = subprocess.run(["kubectl", "get", "--raw", "/metrics"], capture_output=True, text=True, check=True).stdout
    total = 0
    for line in text.splitlines():
        ours = 'group="finops.infercost.ai"' in line and 'subresource="status"' in line and 'verb="PUT"' in line
        if line.startswith("apiserver_request_total{") and 'code="409"' in line and ours:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_line(samples: list[tuple[float, float]]) -> str:
    """Peak RSS in the first minute, after it, in the last minute, and the trend after the first minute."""
    first = max((r for t, r in samples if t < 60), default=0.0)
    later = [(t, r) for t, r in samples if t >= 60]
    if len(later) < 2:
        return f"peak RSS of the watch processes: first minute {first:.1f} MB (soak too short for a trend)"
    end = later[-1][0]
    last = max(r for t, r in later if t >= end - 60)
    n = len(later)
    mean_t, mean_r = sum(t for t, _ in later) / n, sum(r for _, r in later) / n
    var = sum((t - mean_t) ** 2 for t, _ in later)
    slope = sum((t - mean_t) * (r - mean_r) for t, r in later) / var * 60 if var else 0.0
    spans = range(int(end // 60) + 1)
    minutes = [max((r for t, r in samples if m * 60 <= t < (m + 1) * 60), default=0.0) for m in spans]
    return (
        f"peak RSS of the watch processes: first minute {first:.1f} MB, after it {max(r for _, r in later):.1f} MB, "
        f"last minute {last:.1f} MB; trend after the first minute {slope:+.3f} MB/min\n"
        f"peak RSS minute by minute (MB): {', '.join(f'{r:.1f}' for r in minutes)}"
    )


def stamp_of(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Driver:
    def __init__(self, client: KubeClient, sim: Sim, pods: list[Pod], rng: random.Random) -> None:
        self.client, self.sim, self.pods, self.rng = client, sim, pods, rng
        self.restarts = self.failures = self.relabels = 0

    def status(self) -> dict[str, Any]:
        for _ in range(20):
            try:
                return dict(self.client.get(REPORT).get("status") or {})
            except ApiError:
                time.sleep(0.5)
        raise SystemExit("cannot read the soak report")

    def tick(self, now: float, growing: bool) -> None:
        waiting = any(p.restarting or p.reset_unseen for p in self.pods)
        seen = checkpointed(self.status()) if waiting else {}
        for pod in self.pods:
            if pod.restarting:
                if seen.get(pod.name) == (pod.tin, pod.tout) and pod.failing_until <= now:
                    self.restart(pod)
                continue
            if pod.reset_unseen:
                if seen.get(pod.name) != (pod.tin, pod.tout):
                    continue
                pod.reset_unseen = False
            if pod.failing_until and pod.failing_until <= now:
                pod.failing_until = 0.0
                self.sim.heal(pod)
            if growing:
                self.grow(pod, now)

    def grow(self, pod: Pod, now: float) -> None:
        """Maybe add tokens, then maybe restart, fail or relabel the pod."""
        changed = False
        if self.rng.random() < 0.5:
            add_in, add_out = self.rng.randint(1, 500), self.rng.randint(0, 200)
            pod.tin += add_in
            pod.tout += add_out
            pod.truth_in += add_in
            pod.truth_out += add_out
            changed = True
        roll = self.rng.random()
        if roll < 0.0008 and not pod.failing_until and pod.tin > 0:
            pod.restarting = True  # frozen until a checkpoint holds these values
            self.restarts += 1
        elif roll < 0.0016 and not pod.failing_until:
            pod.failing_until = now + self.rng.uniform(2, 6)
            self.sim.fail(pod, self.rng.choice(["500", "503", "garbage", "slow"]))
            self.failures += 1
            return
        elif roll < 0.0024 and pod.llamacpp:
            pod.model = f"llama-{self.rng.randint(0, 9)}"
            patch = {"metadata": {"labels": {"infercost.ai/model": pod.model}}}
            self.client.merge_patch(f"/api/v1/namespaces/{NS}/pods/{pod.name}", patch)
            self.relabels += 1
        if changed and not pod.failing_until:  # a failing pod serves its grown counter once healed
            self.sim.serve(pod)

    def restart(self, pod: Pod) -> None:
        """The checkpoint holds its last values: restart it, its counters start again low."""
        new_in = self.rng.randint(0, min(pod.tin - 1, 50))
        new_out = self.rng.randint(0, min(pod.tout - 1, 20)) if pod.tout else 0
        pod.tin, pod.tout = new_in, new_out
        pod.truth_in += new_in
        pod.truth_out += new_out
        pod.restarting = False
        if pod.llamacpp:
            pod.reset_unseen = True
        else:
            pod.started = time.time()
        self.sim.serve(pod)

    def settle(self, deadline: float) -> dict[str, Any]:
        """Heal everything, finish restarts, wait until a checkpoint holds every pod's final counters."""
        while True:
            now = time.monotonic()
            for pod in self.pods:
                if pod.failing_until:
                    pod.failing_until = 0.0
                    self.sim.heal(pod)
            self.tick(now, growing=False)
            st = self.status()
            seen = checkpointed(st)
            if not any(p.restarting for p in self.pods) and all(seen.get(p.name) == (p.tin, p.tout) for p in self.pods):
                return st
            if now > deadline:
                missing = [p.name for p in self.pods if seen.get(p.name) != (p.tin, p.tout)]
                raise SystemExit(f"the checkpoint never caught up with: {missing[:10]}")
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=duration, default=600.0, help="how long to soak (default 10m)")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    subprocess.run(["kubectl-infercost", "install"], check=True, capture_output=True)
    client = KubeClient(load_config(os.environ["KUBECONFIG"]), max_connections=8)
    subprocess.run(["kubectl", "create", "namespace", NS], check=True, capture_output=True)
    sim = Sim(Path(os.environ["INFERCOST_SIM_ROOT"]))
    pods = build_world(client, sim)
    driver = Driver(client, sim, pods, random.Random(args.seed))
    conflicts_before = conflicts()
    logs = Path(tempfile.mkdtemp(prefix="soak-"))
    loops = []
    for n in range(2):
        out, err = (logs / f"watch-{n}.out").open("w"), (logs / f"watch-{n}.err").open("w")
        cmd = ["kubectl-infercost", "reconcile", "-n", NS, "--watch", "--interval", "1s"]
        loops.append(subprocess.Popen(cmd, stdout=out, stderr=err, text=True))
    started = time.monotonic()
    try:
        # the baseline: a checkpoint holding every pod's first counters, before any token is added
        while checkpointed(driver.status()) != {p.name: (p.tin, p.tout) for p in pods}:
            if time.monotonic() - started > 120:
                raise SystemExit("no baseline after 120 s")
            time.sleep(0.2)
        soak_start = time.monotonic()
        rss: list[tuple[float, float]] = []  # (seconds into the soak, the larger watch process's RSS)
        next_sample = 0.0
        while (now := time.monotonic()) - soak_start < args.duration:
            driver.tick(now, growing=True)
            if now >= next_sample:
                sample = [r for r in (rss_mb(p.pid) for p in loops) if r is not None]
                if sample:
                    rss.append((now - soak_start, max(sample)))
                next_sample = now + 1.0
            for p in loops:
                if p.poll() is not None:
                    raise SystemExit(f"a watch loop exited with {p.returncode}; see {logs}")
            time.sleep(0.25)
        driver.settle(time.monotonic() + 120)
    finally:
        for p in loops:
            p.send_signal(signal.SIGTERM)
        for p in loops:
            p.wait(timeout=60)
    final = driver.status()
    periods = [final, *final.get("history", [])]
    got_tokens = sum(int(p.get("inputTokens", 0)) + int(p.get("outputTokens", 0)) for p in periods)
    truth_tokens = sum(p.truth_in + p.truth_out for p in pods)
    got_usd = sum((Decimal(str(p.get("estimatedCostUSD", 0))) for p in periods), Decimal(0))
    seconds = int((stamp_of(final["checkpoint"]["time"]) - stamp_of(final["accountingSince"])).total_seconds())
    truth_usd = PER_SECOND * seconds
    outs = [(logs / f"watch-{n}.out").read_text() for n in range(2)]
    errs = [(logs / f"watch-{n}.err").read_text() for n in range(2)]
    passes = sum(1 for o in outs for line in o.splitlines() if " reports " in line and " endpoints " in line)
    failed_passes = sum(e.count("error: pass failed") for e in errs)
    soaked = time.monotonic() - soak_start
    print(
        f"soak: {soaked:.0f} s of 2 x `reconcile --watch --interval 1s` over {PODS} pods; "
        f"{driver.restarts} restarts, {driver.failures} endpoint failures, {driver.relabels} relabels"
    )
    print(f"passes completed {passes} (failed {failed_passes}); status conflicts {conflicts() - conflicts_before}")
    print(f"tokens: truth {truth_tokens:,}, status {got_tokens:,}; token error {got_tokens - truth_tokens}")
    usd_error = got_usd - truth_usd
    print(
        f"dollars: truth ${truth_usd} ({seconds} s x $0.001), status ${got_usd}; "
        f"dollar error {0 if usd_error == 0 else usd_error}"
    )
    print(rss_line(rss))
    ok = got_tokens == truth_tokens and got_usd == truth_usd
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

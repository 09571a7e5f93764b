"""Benchmark: our selective metrics parser against prometheus_client's text parser.

Times, per scrape, what the reconcile needs from it:
- the vLLM fixture: the two token counters (parse only, and extract_tokens with
  backend auto-detection), against a full prometheus_client parse picking the
  same samples;
- a generated 80-GPU dcgm-exporter scrape (the families of the real L4
  fixture, repeated per GPU): extract_gpus, against prometheus_client picking
  power and energy per UUID.
Values must agree (asserted); the figures are printed, not asserted.

Run from the repository root: ``python bench/bench_parser.py [--fixtures DIR]``.
"""

from __future__ import annotations

import argparse
import re
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
try:
    import kubectl_infercost  # noqa: F401
except ImportError:  # not installed: run from a checkout
    sys.path.insert(0, str(REPO))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from kubectl_infercost.metrics import extract_gpus, extract_tokens, parse_samples  # noqa: E402

DEFAULT_FIXTURES = REPO / "tests" / "fixtures" / "metrics"
VLLM_FIXTURE = "vllm-v1-kops-2026-03.prom"
DCGM_FIXTURE = "dcgm-exporter-4.x-l4-kops-2026-03.prom"
VLLM_TOKENS = ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")
POWER = "DCGM_FI_DEV_POWER_USAGE"
ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
TARGET = 10.0


def per_call_ms(fn: Callable[[], object], budget_s: float = 1.0) -> tuple[float, int]:
    """Best of 5 runs, each sized to take about budget_s / 5; returns (ms per call, calls per run)."""
    number = 1
    while True:
        elapsed = timeit.timeit(fn, number=number)
        if elapsed >= 0.02:
            break
        number *= 4
    number = max(1, int(number * (budget_s / 5) / elapsed))
    best = min(timeit.repeat(fn, number=number, repeat=5))
    return best / number * 1000, number


def reference_tokens(text: str) -> tuple[float, float]:
    totals = dict.fromkeys(VLLM_TOKENS, 0.0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in totals:
                totals[sample.name] += float(sample.value)
    return totals[VLLM_TOKENS[0]], totals[VLLM_TOKENS[1]]


def reference_gpus(text: str) -> dict[str, tuple[float | None, int | None]]:
    gpus: dict[str, tuple[float | None, int | None]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            uuid = sample.labels.get("UUID")
            if uuid is None:
                continue
            power, energy = gpus.get(uuid, (None, None))
            if sample.name == POWER:
                power = float(sample.value)
            elif sample.name.removesuffix("_total") == ENERGY:  # it renames un-suffixed counters
                energy = int(sample.value)
            gpus[uuid] = (power, energy)
    return gpus


def synthetic_dcgm(template: str, gpus: int = 80) -> str:
    """The L4 fixture's families, each with one sample per GPU (realistic label sets)."""
    out: list[str] = []
    for line in template.splitlines():
        if line.startswith("# source:"):
            continue
        if line.startswith("#"):
            out.append(line)
            continue
        name, rest = line.split("{", 1)
        labels, value = rest.rsplit("} ", 1)
        for gpu in range(gpus):
            uuid = f"GPU-{gpu:08x}-7953-256e-8f33-1343419b1a1c"
            node = f"gpu-node-{gpu // 8}"
            text = re.sub(r'gpu="0"', f'gpu="{gpu % 8}"', labels)
            text = re.sub(r'UUID="[^"]*"', f'UUID="{uuid}"', text)
            text = re.sub(r'Hostname="[^"]*"', f'Hostname="{node}"', text)
            text = re.sub(r'device="nvidia0"', f'device="nvidia{gpu % 8}"', text)
            if gpu % 2 == 0:  # half the GPUs are allocated to a pod
                text += f',container="main",namespace="team-{gpu % 5}",pod="llm-{gpu}",pod_uid=""'
            sample_value = value
            if name == POWER:
                sample_value = f"{60 + gpu * 1.25:.6f}"
            elif name == ENERGY:
                sample_value = str(4742776 + gpu * 1_000_003)
            out.append(f"{name}{{{text}}} {sample_value}")
    return "\n".join(out) + "\n"


def report(label: str, ours_ms: float, ours_n: int, ref_ms: float, ref_n: int) -> float:
    ratio = ref_ms / ours_ms
    print(
        f"  {label:<44} {ours_ms:9.4f} ms/parse ({ours_n} calls/run)"
        f"  vs prometheus_client {ref_ms:8.3f} ms/parse ({ref_n} calls/run)  -> {ratio:6.1f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--gpus", type=int, default=80)
    args = parser.parse_args()

    vllm = (args.fixtures / VLLM_FIXTURE).read_text(encoding="utf-8")
    dcgm = synthetic_dcgm((args.fixtures / DCGM_FIXTURE).read_text(encoding="utf-8"), args.gpus)

    # Same values first.
    expected = reference_tokens(vllm)
    samples = parse_samples(vllm, VLLM_TOKENS)
    got = tuple(sum(s.value for s in samples if s.name == n) for n in VLLM_TOKENS)
    assert got == expected, (got, expected)
    series = extract_tokens(vllm, default_model="unused").series
    assert (sum(v[0] for v in series.values()), sum(v[1] for v in series.values())) == expected
    readings = extract_gpus(dcgm)
    assert {g.uuid: (g.power_watts, g.energy_mj) for g in readings} == reference_gpus(dcgm)
    assert len(readings) == args.gpus

    print(f"Python {sys.version.split()[0]}; values match prometheus_client")
    n_vllm = len(parse_samples(vllm))
    n_dcgm = len(parse_samples(dcgm))
    print(f"vLLM fixture: {len(vllm.encode()) / 1024:.1f} KiB, {n_vllm} samples (without _created)")
    ref_ms, ref_n = per_call_ms(lambda: reference_tokens(vllm))
    parse_ratio = report(
        "parse_samples(token counters)", *per_call_ms(lambda: parse_samples(vllm, VLLM_TOKENS)), ref_ms, ref_n
    )
    report(
        "extract_tokens(backend=auto)",
        *per_call_ms(lambda: extract_tokens(vllm, default_model="m")),
        ref_ms,
        ref_n,
    )
    report("parse_samples(everything)", *per_call_ms(lambda: parse_samples(vllm)), ref_ms, ref_n)

    print(f"synthetic dcgm-exporter, {args.gpus} GPUs: {len(dcgm.encode()) / 1024:.1f} KiB, {n_dcgm} samples")
    ref_ms, ref_n = per_call_ms(lambda: reference_gpus(dcgm))
    report("extract_gpus", *per_call_ms(lambda: extract_gpus(dcgm)), ref_ms, ref_n)
    report(
        "parse_samples(power + energy)",
        *per_call_ms(lambda: parse_samples(dcgm, (POWER, ENERGY))),
        ref_ms,
        ref_n,
    )

    verdict = "met" if parse_ratio >= TARGET else "NOT met"
    print(f"target >= {TARGET:.0f}x prometheus_client on the vLLM fixture: {verdict} ({parse_ratio:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

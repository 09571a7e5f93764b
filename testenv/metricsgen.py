"""Metric text for the simulator, built from the real scrapes in tests/fixtures/metrics.

vLLM pods serve the real kOps vLLM V1 scrape with its two token counters (and model
name) set; DCGM exporters serve the real dcgm-exporter families, one set of lines per GPU.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Copies of the real scrapes, kept unchanged in the repository.
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "metrics"

_VLLM_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"


@cache
def _vllm_template() -> str:
    return (FIXTURES / "vllm-v1-kops-2026-03.prom").read_text()


def vllm(model: str, prompt_tokens: int, generation_tokens: int, started: float | None = None) -> str:
    """The real vLLM V1 scrape, serving ``model`` with the given counter values.

    ``started`` (seconds since the epoch) replaces the process start and every ``_created`` sample, as a
    restarted vLLM process gives new ones; without it they stay the scrape's own.
    """
    text = _vllm_template().replace(f'model_name="{_VLLM_MODEL}"', f'model_name="{model}"')
    if started is not None:
        starts = r"^((?:process_start_time_seconds|\S+_created\{[^}]*\})) \S+$"
        text = re.sub(starts, rf"\g<1> {started!r}", text, flags=re.M)
    text = re.sub(r"^(vllm:prompt_tokens_total\{[^}]*\}) \S+$", rf"\g<1> {prompt_tokens}.0", text, flags=re.M)
    return re.sub(r"^(vllm:generation_tokens_total\{[^}]*\}) \S+$", rf"\g<1> {generation_tokens}.0", text, flags=re.M)


def llamacpp(prompt_tokens: int, predicted_tokens: int) -> str:
    """A llama-server /metrics page (synthetic: no complete real scrape exists; names per llama.cpp)."""
    return (
        "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n"
        "# TYPE llamacpp:prompt_tokens_total counter\n"
        f"llamacpp:prompt_tokens_total {prompt_tokens}\n"
        "# HELP llamacpp:prompt_seconds_total Prompt process time\n"
        "# TYPE llamacpp:prompt_seconds_total counter\n"
        "llamacpp:prompt_seconds_total 12.5\n"
        "# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.\n"
        "# TYPE llamacpp:tokens_predicted_total counter\n"
        f"llamacpp:tokens_predicted_total {predicted_tokens}\n"
        "# HELP llamacpp:tokens_predicted_seconds_total Predict process time\n"
        "# TYPE llamacpp:tokens_predicted_seconds_total counter\n"
        "llamacpp:tokens_predicted_seconds_total 40.25\n"
        "# HELP llamacpp:requests_processing Number of requests processing.\n"
        "# TYPE llamacpp:requests_processing gauge\n"
        "llamacpp:requests_processing 0\n"
    )


@dataclass(frozen=True)
class Gpu:
    index: int
    uuid: str
    power_w: float
    energy_mj: int | None
    pod: str | None = None
    namespace: str | None = None


def dcgm(host: str, model_name: str, gpus: list[Gpu]) -> str:
    """dcgm-exporter default-counter families for several GPUs, in the real exporter's format."""
    families: list[tuple[str, str, str, Callable[[Gpu], str | None]]] = [
        ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", lambda _: "41"),
        ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", lambda g: f"{g.power_w:.6f}"),
        (
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "counter",
            "Total energy consumption since boot (in mJ).",
            lambda g: None if g.energy_mj is None else str(g.energy_mj),
        ),
        ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", lambda _: "87"),
    ]
    lines = []
    for name, kind, help_text, value in families:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for g in gpus:
            v = value(g)
            if v is None:
                continue
            labels = (
                f'gpu="{g.index}",UUID="{g.uuid}",pci_bus_id="00000000:{0x18 + g.index:02X}:00.0",'
                f'device="nvidia{g.index}",modelName="{model_name}",Hostname="{host}",'
                f'DCGM_FI_DRIVER_VERSION="580.105.08"'
            )
            if g.pod:
                labels += f',container="server",namespace="{g.namespace}",pod="{g.pod}",pod_uid=""'
            lines.append(f"{name}{{{labels}}} {v}")
    return "\n".join(lines) + "\n"

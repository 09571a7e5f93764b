"""Per-backend extractors: token counters from inference servers, GPU readings from dcgm-exporter.

Pure functions over scrape text; metric names follow the reference notes on
vLLM, SGLang, llama.cpp, TGI, Triton, NIM and dcgm-exporter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from kubectl_infercost.metrics.textparse import (
    MetricsParseError,
    Sample,
    decimal_value,
    first_line_prefix,
    parse_samples,
    round_count,
)

__all__ = [
    "BACKENDS",
    "DCGM_ENERGY",
    "DCGM_POWER",
    "GpuReading",
    "SeriesCounter",
    "TokenScrape",
    "detect_backend",
    "extract_gpus",
    "extract_tokens",
    "series_identity",
    "token_families",
]

BACKENDS: tuple[str, ...] = ("vllm", "sglang", "llamacpp", "tgi", "triton", "nim")

# (input-token sample, output-token sample) per backend.
_TOKEN_NAMES: dict[str, tuple[str, str]] = {
    "vllm": ("vllm:prompt_tokens_total", "vllm:generation_tokens_total"),
    "sglang": ("sglang:prompt_tokens_total", "sglang:generation_tokens_total"),
    "llamacpp": ("llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total"),
    # TGI has no token totals; the request-length histogram sums are totals.
    "tgi": ("tgi_request_input_length_sum", "tgi_request_generated_tokens_sum"),
    "nim": ("prompt_tokens_total", "generation_tokens_total"),
}
# Triton's TensorRT-LLM backend (next to its nv_trt_llm_* gauges) reports token
# lengths as histograms; their sums are the cumulative token counts.
_TRTLLM_NAMES = ("nv_llm_input_token_len_sum", "nv_llm_output_token_len_sum")

_TRITON_PREFIX = "nv_inference_"
_PREFIX_BACKENDS: dict[str, str] = {
    "vllm:": "vllm",
    "sglang:": "sglang",
    "llamacpp:": "llamacpp",
    "tgi_": "tgi",
}
_MODEL_LABEL = "model_name"

_DCGM_PREFIX = "DCGM_FI_"
_DCGM_POWER = DCGM_POWER = "DCGM_FI_DEV_POWER_USAGE"
_DCGM_ENERGY = DCGM_ENERGY = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
# Current label first, then the --use-old-namespace spelling.
_POD_LABELS = ("pod", "pod_name")
_NAMESPACE_LABELS = ("namespace", "pod_namespace")
_CONTAINER_LABELS = ("container", "container_name")
# "Hostname" up to dcgm-exporter 4.8.x, "hostname" after.
_HOST_LABELS = ("Hostname", "hostname")


@dataclass(frozen=True, slots=True)
class SeriesCounter:
    """One series' cumulative (input, output) tokens; ``model`` is its model_name label, if any.

    ``started`` is when the counter began (seconds since the epoch): its ``_created`` sample, else
    the page's ``process_start_time_seconds``; None when the server exposes neither. A counter whose
    start moved restarted, even if it has since grown past its old value.
    """

    model: str | None
    input: int
    output: int
    started: float | None = None


@dataclass(frozen=True, slots=True)
class TokenScrape:
    """Cumulative token counters of one scrape, keyed by series identity (its own labels, canonical)."""

    backend: str
    counters: Mapping[str, SeriesCounter]
    default_model: str

    @property
    def series(self) -> dict[str, tuple[int, int]]:
        """Sums per model (unlabelled series count for ``default_model``)."""
        sums: dict[str, tuple[int, int]] = {}
        for c in self.counters.values():
            model = c.model or self.default_model
            i, o = sums.get(model, (0, 0))
            sums[model] = (i + c.input, o + c.output)
        return sums


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One GPU (by UUID) in a dcgm-exporter scrape; ``None`` where the scrape says nothing."""

    uuid: str
    index: int | None
    model_name: str | None
    host: str | None
    power_watts: float | None
    energy_mj: int | None
    pod: str | None
    namespace: str | None
    container: str | None
    pod_uid: str | None


def token_families(backend: str) -> tuple[tuple[str, str], ...]:
    """The (input, output) counter names a backend's tokens come from, in the order they are tried."""
    if backend == "triton":
        return (_TOKEN_NAMES["vllm"], _TRTLLM_NAMES)
    if backend == "auto":
        return (*_TOKEN_NAMES.values(), _TRTLLM_NAMES)
    return (_TOKEN_NAMES[backend],)


def _has_nim_tokens(text: str) -> bool:
    return any(_MODEL_LABEL in s.labels for s in parse_samples(text, _TOKEN_NAMES["nim"]))


def detect_backend(source: str | Iterable[Sample]) -> str | None:
    """Name the inference server from its metric names, or ``None`` if none is known."""
    if isinstance(source, str):
        # Two scans: Triton first (it may carry vllm: series too), then the
        # first line of any other prefixed server; they never mix otherwise.
        if first_line_prefix(source, (_TRITON_PREFIX,)) is not None:
            return "triton"
        prefix = first_line_prefix(source, _PREFIX_BACKENDS)
        if prefix is not None:
            return _PREFIX_BACKENDS[prefix]
        return "nim" if _has_nim_tokens(source) else None
    samples = list(source)
    if any(s.name.startswith(_TRITON_PREFIX) for s in samples):
        return "triton"
    for sample in samples:  # first known prefix wins, as in the text scan
        for prefix, backend in _PREFIX_BACKENDS.items():
            if sample.name.startswith(prefix):
                return backend
    nim_names = _TOKEN_NAMES["nim"]
    if any(s.name in nim_names and _MODEL_LABEL in s.labels for s in samples):
        return "nim"
    return None


def series_identity(labels: Mapping[str, str]) -> str:
    """A series' identity across scrapes: its labels in canonical order (``""`` when it has none)."""
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


_PROCESS_START = "process_start_time_seconds"


def _created_name(counter: str) -> str:
    """prometheus_client's creation-time sample of a counter (``x_total``) or histogram (``x_sum``)."""
    for suffix in ("_total", "_sum"):
        if counter.endswith(suffix):
            return counter[: -len(suffix)] + "_created"
    return counter + "_created"


def _start_time(sample: Sample) -> float | None:
    # A timestamp, not a count: an unusable one only means the restart signal is unknown.
    value = sample.value
    return value if math.isfinite(value) and value > 0 else None


def _starts(text: str, created_names: frozenset[str]) -> tuple[dict[str, float], float | None]:
    """Creation time per series identity (the earliest of its counters) and the process start, if given.

    A malformed line among these loses the restart signal, never the scrape: the counters still count.
    """
    created: dict[str, float] = {}
    process: float | None = None
    try:
        samples = parse_samples(text, (*created_names, _PROCESS_START))
    except MetricsParseError:
        return created, process
    for sample in samples:
        started = _start_time(sample)
        if started is None:
            continue
        if sample.name == _PROCESS_START:
            process = started
        elif sample.name in created_names:
            identity = series_identity(sample.labels)
            created[identity] = min(started, created.get(identity, started))
    return created, process


def _counters(text: str, names: tuple[str, str]) -> dict[str, SeriesCounter] | None:
    """Each series' counters, keyed by its own labels; a series listed twice rejects the scrape."""
    samples = parse_samples(text, names)
    if not samples:
        return None
    created, process_start = _starts(text, frozenset(_created_name(n) for n in names))
    input_name = names[0]
    values: dict[str, list[Decimal | None]] = {}
    models: dict[str, str | None] = {}
    for sample in samples:
        identity = series_identity(sample.labels)
        pair = values.setdefault(identity, [None, None])
        slot = 0 if sample.name == input_name else 1
        if pair[slot] is not None:
            # Prometheus rejects such a scrape too: which of the two values would be the counter?
            raise MetricsParseError(f"duplicate series {sample.name}{{{identity}}}: the scrape is rejected")
        pair[slot] = decimal_value(sample, "token count")
        models[identity] = sample.labels.get(_MODEL_LABEL) or None
    return {
        identity: SeriesCounter(
            models[identity],
            round_count(i or Decimal(0)),
            round_count(o or Decimal(0)),
            created.get(identity, process_start),
        )
        for identity, (i, o) in values.items()
    }


def extract_tokens(text: str, backend: str = "auto", *, default_model: str) -> TokenScrape:
    """Per-model cumulative (input, output) tokens from one inference-server scrape.

    ``backend`` is one of :data:`BACKENDS` or ``"auto"`` (detect from metric
    names).  Series without a ``model_name`` label count for ``default_model``
    (the pod's model label).  A Triton server without LLM token metrics yields
    no series; every other backend without its token counters is an error.
    """
    if backend == "auto":
        detected = detect_backend(text)
        if detected is None:
            raise MetricsParseError(
                "no known inference-server metrics (vllm:, sglang:, llamacpp:, tgi_, "
                "nv_inference_, NIM prompt_tokens_total) found in scrape"
            )
        backend = detected
    elif backend not in BACKENDS:
        raise MetricsParseError(f"unknown backend {backend!r}; expected auto or one of {', '.join(BACKENDS)}")

    if backend == "triton":
        counters = _counters(text, _TOKEN_NAMES["vllm"])
        if counters is None:
            counters = _counters(text, _TRTLLM_NAMES)
        return TokenScrape(backend, counters or {}, default_model)

    names = _TOKEN_NAMES[backend]
    counters = _counters(text, names)
    if counters is None:
        raise MetricsParseError(f"{backend} scrape has no token counters ({names[0]}, {names[1]})")
    return TokenScrape(backend, counters, default_model)


def _first(labels: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = labels.get(key)
        if value:
            return value
    return None


def _power(sample: Sample) -> float | None:
    # A gauge: an unusable reading is unknown, not an error for the whole node.
    value = sample.value
    return value if math.isfinite(value) and value >= 0 else None


def _energy(sample: Sample) -> int | None:
    try:
        return round_count(decimal_value(sample, "energy counter"))
    except MetricsParseError:
        return None


class _Gpu:
    __slots__ = ("energy", "labels", "pod_labels", "power")

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.pod_labels: dict[str, str] | None = None
        self.power: float | None = None
        self.energy: int | None = None


def extract_gpus(text: str) -> list[GpuReading]:
    """GPUs of one dcgm-exporter scrape, keyed by ``UUID``, ordered by GPU index.

    Every ``DCGM_FI_*`` family contributes GPUs, so a GPU without power or
    energy series still appears (with ``None`` there).  Pod mapping comes from
    the first series of that GPU that carries a pod label.
    """
    samples = parse_samples(text, prefixes=(_DCGM_PREFIX,))
    if not samples:
        raise MetricsParseError("no dcgm-exporter metrics (DCGM_FI_*) found in scrape")
    gpus: dict[str, _Gpu] = {}
    seen: set[tuple[str, str]] = set()
    for sample in samples:
        labels = sample.labels
        uuid = labels.get("UUID")
        if not uuid:
            continue
        if sample.name in (_DCGM_POWER, _DCGM_ENERGY):
            key = (sample.name, series_identity(labels))
            if key in seen:
                raise MetricsParseError(f"duplicate series {sample.name}{{{key[1]}}}: the scrape is rejected")
            seen.add(key)
        gpu = gpus.get(uuid)
        if gpu is None:
            gpu = gpus[uuid] = _Gpu(labels)
        if gpu.pod_labels is None and _first(labels, _POD_LABELS):
            gpu.pod_labels = labels
        if sample.name == _DCGM_POWER and gpu.power is None:
            gpu.power = _power(sample)
        elif sample.name == _DCGM_ENERGY and gpu.energy is None:
            gpu.energy = _energy(sample)
    if not gpus:
        raise MetricsParseError("dcgm-exporter metrics found but none carries a UUID label")

    readings = [_reading(uuid, gpu) for uuid, gpu in gpus.items()]
    readings.sort(key=lambda r: (r.index is None, r.index or 0, r.uuid))
    return readings


def _reading(uuid: str, gpu: _Gpu) -> GpuReading:
    labels = gpu.labels
    pod_labels = gpu.pod_labels or {}
    index = labels.get("gpu", "")
    return GpuReading(
        uuid=uuid,
        index=int(index) if index.isascii() and index.isdigit() else None,
        model_name=labels.get("modelName") or None,
        host=_first(labels, _HOST_LABELS),
        power_watts=gpu.power,
        energy_mj=gpu.energy,
        pod=_first(pod_labels, _POD_LABELS),
        namespace=_first(pod_labels, _NAMESPACE_LABELS),
        container=_first(pod_labels, _CONTAINER_LABELS),
        pod_uid=pod_labels.get("pod_uid") or None,
    )

"""Backend detection, token extraction and dcgm-exporter GPU readings."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kubectl_infercost.metrics import (
    GpuReading,
    MetricsParseError,
    SeriesCounter,
    TokenScrape,
    detect_backend,
    extract_gpus,
    extract_tokens,
    parse_samples,
)
from tests.conftest import DCGM_H100, DCGM_L4, LLAMACPP, SGLANG, VLLM, metrics_text

H100 = "NVIDIA H100 80GB HBM3"


def sums(scrape: TokenScrape) -> tuple[str, dict[str, tuple[int, int]]]:
    """The backend and the per-model sums (what attribution sees)."""
    return scrape.backend, scrape.series


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "backend"),
    [(VLLM, "vllm"), (SGLANG, "sglang"), (LLAMACPP, "llamacpp"), (DCGM_L4, None), (DCGM_H100, None)],
)
def test_detect_fixtures(name: str, backend: str | None) -> None:
    text = metrics_text(name)
    assert detect_backend(text) == backend
    assert detect_backend(parse_samples(text)) == backend


@pytest.mark.parametrize(
    ("text", "backend"),
    [
        ('vllm:num_requests_running{model_name="m"} 0\n', "vllm"),
        ("tgi_queue_size 0\n", "tgi"),
        ('nv_inference_count{model="m",version="1"} 3\n', "triton"),
        # Triton's vLLM backend: Triton wins even when vllm: comes first.
        ('vllm:prompt_tokens_total{model="m",version="1"} 5\nnv_inference_count{model="m"} 1\n', "triton"),
        ('prompt_tokens_total{model_name="meta/llama3-8b"} 5\n', "nim"),
        ("prompt_tokens_total 5\n", None),
        ("# HELP vllm:prompt_tokens_total only a comment\n", None),
        ("python_gc_objects_collected_total 1\n", None),
        ("", None),
        ("<html><body>502 Bad Gateway</body></html>", None),
    ],
)
def test_detect_synthetic(text: str, backend: str | None) -> None:
    assert detect_backend(text) == backend


def test_detect_from_samples() -> None:
    text = 'nv_inference_count{model="m"} 1\nvllm:prompt_tokens_total{model="m"} 5\n'
    assert detect_backend(parse_samples(text)) == "triton"
    assert detect_backend(parse_samples('prompt_tokens_total{model_name="x"} 1\n')) == "nim"
    assert detect_backend([]) is None


# --- tokens from the real fixtures ------------------------------------------------------------


def test_vllm_fixture_tokens() -> None:
    # vllm:prompt_tokens_total{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 0.0 (same for generation)
    scrape = extract_tokens(metrics_text(VLLM), default_model="pod-model")
    assert sums(scrape) == ("vllm", {"Qwen/Qwen2.5-0.5B-Instruct": (0, 0)})
    assert extract_tokens(metrics_text(VLLM), "vllm", default_model="pod-model") == scrape


def test_sglang_fixture_tokens() -> None:
    # 8.128902e+06 and 7.557572e+06 in the file
    scrape = extract_tokens(metrics_text(SGLANG), default_model="pod-model")
    assert scrape.backend == "sglang"
    assert scrape.series == {"meta-llama/Llama-3.1-8B-Instruct": (8_128_902, 7_557_572)}


def test_llamacpp_fragment_has_no_token_counters() -> None:
    message = r"llamacpp scrape has no token counters.*prompt_tokens_total"
    with pytest.raises(MetricsParseError, match=message):
        extract_tokens(metrics_text(LLAMACPP), default_model="m")


@pytest.mark.parametrize("name", [DCGM_L4, DCGM_H100])
def test_dcgm_scrape_is_not_an_inference_server(name: str) -> None:
    with pytest.raises(MetricsParseError, match="no known inference-server metrics"):
        extract_tokens(metrics_text(name), default_model="m")


def test_explicit_backend_that_does_not_match() -> None:
    with pytest.raises(MetricsParseError, match="vllm scrape has no token counters"):
        extract_tokens(metrics_text(SGLANG), "vllm", default_model="m")
    with pytest.raises(MetricsParseError, match="unknown backend 'ollama'"):
        extract_tokens(metrics_text(VLLM), "ollama", default_model="m")


@pytest.mark.parametrize(
    "text",
    ["", "<html><body>502 Bad Gateway</body></html>\n", "\x00\x01\x02binary", "{}\n[1, 2, 3]\n"],
)
def test_garbage_raises(text: str) -> None:
    with pytest.raises(MetricsParseError, match="no known inference-server metrics"):
        extract_tokens(text, default_model="m")


def test_malformed_token_line_raises() -> None:
    text = 'vllm:num_requests_running{model_name="m"} 0\nvllm:prompt_tokens_total{model_name="m" 5\n'
    with pytest.raises(MetricsParseError, match="line 2: malformed sample"):
        extract_tokens(text, default_model="m")


@pytest.mark.parametrize(("raw", "reason"), [("-3", "negative"), ("NaN", "NaN"), ("+Inf", "infinite")])
def test_unusable_counter_raises(raw: str, reason: str) -> None:
    text = f'vllm:prompt_tokens_total{{model_name="m"}} {raw}\nvllm:generation_tokens_total{{model_name="m"}} 1\n'
    with pytest.raises(MetricsParseError, match=rf"vllm:prompt_tokens_total.*{reason}"):
        extract_tokens(text, default_model="m")


def test_vllm_fixture_counters_start_at_their_created_sample() -> None:
    # vllm:prompt_tokens_created ... 1.7740114612876017e+09, vllm:generation_tokens_created ... 1.7740114612876709e+09:
    # the earlier of the two; SGLang's page has neither _created nor process_start_time_seconds
    (counter,) = extract_tokens(metrics_text(VLLM), default_model="pod-model").counters.values()
    assert counter.started == 1.7740114612876017e09
    (sglang,) = extract_tokens(metrics_text(SGLANG), default_model="pod-model").counters.values()
    assert sglang.started is None


@pytest.mark.parametrize(
    ("extra", "started"),
    [
        ("process_start_time_seconds 1.7e+09\n", 1.7e9),  # no _created: the process start
        ('vllm:prompt_tokens_created{model_name="m"} 1.8e+09\nprocess_start_time_seconds 1.7e+09\n', 1.8e9),
        ('vllm:prompt_tokens_created{model_name="other"} 1.8e+09\n', None),  # another series' start
        ('vllm:prompt_tokens_created{model_name="m"} NaN\n', None),
        ("process_start_time_seconds -5\n", None),
        ('vllm:prompt_tokens_created{model_name="m" 1.8e+09\n', None),  # malformed: the signal is lost, not the page
    ],
)
def test_counter_start_from_created_else_process_start(extra: str, started: float | None) -> None:
    text = 'vllm:prompt_tokens_total{model_name="m"} 10\nvllm:generation_tokens_total{model_name="m"} 2\n' + extra
    (counter,) = extract_tokens(text, default_model="x").counters.values()
    assert (counter.input, counter.output, counter.started) == (10, 2, started)


# --- tokens from hand-written scrapes -----------------------------------------------------------


def test_vllm_v1_sums_engines_and_ignores_created() -> None:
    text = (
        "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n"
        "# TYPE vllm:prompt_tokens_total counter\n"
        'vllm:prompt_tokens_total{engine="0",model_name="llama"} 1000.0\n'
        'vllm:prompt_tokens_total{engine="1",model_name="llama"} 234.0\n'
        'vllm:prompt_tokens_created{engine="0",model_name="llama"} 1.774011461e+09\n'
        'vllm:generation_tokens_total{engine="0",model_name="llama"} 50.0\n'
        'vllm:generation_tokens_total{engine="1",model_name="llama"} 7.0\n'
        'vllm:generation_tokens_created{engine="1",model_name="llama"} 1.774011461e+09\n'
        'vllm:prompt_tokens_cached_total{engine="0",model_name="llama"} 999.0\n'
    )
    assert sums(extract_tokens(text, default_model="x")) == ("vllm", {"llama": (1234, 57)})


def test_vllm_v0_model_name_only_several_models() -> None:
    text = (
        'vllm:prompt_tokens_total{model_name="a"} 10.0\n'
        'vllm:generation_tokens_total{model_name="a"} 20.0\n'
        'vllm:prompt_tokens_total{model_name="b"} 1.5e+07\n'
        'vllm:generation_tokens_total{model_name="b"} 3e+06\n'
        'vllm:gpu_cache_usage_perc{model_name="a"} 0.5\n'
    )
    scrape = extract_tokens(text, default_model="x")
    assert scrape.series == {"a": (10, 20), "b": (15_000_000, 3_000_000)}


def test_vllm_without_model_name_uses_default_model() -> None:
    text = "vllm:prompt_tokens_total 5\nvllm:generation_tokens_total 6\n"
    assert extract_tokens(text, default_model="pod-model").series == {"pod-model": (5, 6)}


def test_only_one_family_present_counts_zero_for_the_other() -> None:
    text = 'vllm:prompt_tokens_total{model_name="m"} 5\n'
    assert extract_tokens(text, default_model="x").series == {"m": (5, 0)}


def test_each_series_is_keyed_by_its_own_labels() -> None:
    text = (
        'vllm:prompt_tokens_total{engine="0",model_name="llama"} 1000.0\n'
        'vllm:prompt_tokens_total{engine="1",model_name="llama"} 234.0\n'
        'vllm:generation_tokens_total{engine="0",model_name="llama"} 50.0\n'
        'vllm:generation_tokens_total{engine="1",model_name="llama"} 7.0\n'
    )
    assert extract_tokens(text, default_model="x").counters == {
        'engine="0",model_name="llama"': SeriesCounter("llama", 1000, 50),
        'engine="1",model_name="llama"': SeriesCounter("llama", 234, 7),
    }


def test_unlabelled_series_has_no_model_of_its_own() -> None:
    scrape = extract_tokens(LLAMACPP_FULL, default_model="llama-3.2-1b")
    assert scrape.counters == {"": SeriesCounter(None, 4096, 512)}


@pytest.mark.parametrize(
    "text",
    [
        'vllm:prompt_tokens_total{model_name="m"} 1\nvllm:prompt_tokens_total{model_name="m"} 1\n'
        'vllm:generation_tokens_total{model_name="m"} 1\n',
        # the same labels in another order are the same series
        'vllm:prompt_tokens_total{a="1",model_name="m"} 1\nvllm:prompt_tokens_total{model_name="m",a="1"} 2\n',
    ],
)
def test_duplicate_series_rejects_the_scrape(text: str) -> None:
    with pytest.raises(MetricsParseError, match=r"duplicate series vllm:prompt_tokens_total\{.*model_name=\"m\"\}"):
        extract_tokens(text, default_model="x")


def test_duplicate_dcgm_series_rejects_the_scrape() -> None:
    line = 'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-a"} 300\n'
    with pytest.raises(MetricsParseError, match="duplicate series DCGM_FI_DEV_POWER_USAGE"):
        extract_gpus(line + line)


def test_sglang_sums_ranks() -> None:
    text = (
        'sglang:prompt_tokens_total{model_name="qwen",tp_rank="0",dp_rank="0",priority="0"} 100.0\n'
        'sglang:prompt_tokens_total{model_name="qwen",tp_rank="0",dp_rank="1",priority="0"} 200.0\n'
        'sglang:generation_tokens_total{model_name="qwen",tp_rank="0",dp_rank="0",priority="0"} 30.0\n'
        'sglang:generation_tokens_total{model_name="qwen",tp_rank="0",dp_rank="1",priority="0"} 40.0\n'
        'sglang:cached_tokens_total{model_name="qwen",cache_source="device"} 500.0\n'
        'sglang:token_usage{model_name="qwen",tp_rank="0"} 0.3\n'
    )
    assert sums(extract_tokens(text, default_model="x")) == ("sglang", {"qwen": (300, 70)})


LLAMACPP_FULL = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 4096
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 1.25
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 512
# HELP llamacpp:tokens_predicted_seconds_total Predict process time
# TYPE llamacpp:tokens_predicted_seconds_total counter
llamacpp:tokens_predicted_seconds_total 9.5
# HELP llamacpp:n_decode_total Total number of llama_decode() calls
# TYPE llamacpp:n_decode_total counter
llamacpp:n_decode_total 600
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 1
"""


def test_llamacpp_full_counters_go_to_default_model() -> None:
    scrape = extract_tokens(LLAMACPP_FULL, default_model="llama-3.2-1b")
    assert sums(scrape) == ("llamacpp", {"llama-3.2-1b": (4096, 512)})


TGI = """\
# TYPE tgi_request_input_length histogram
tgi_request_input_length_bucket{le="10"} 1
tgi_request_input_length_bucket{le="+Inf"} 3
tgi_request_input_length_sum 12345
tgi_request_input_length_count 3
# TYPE tgi_request_generated_tokens histogram
tgi_request_generated_tokens_bucket{le="+Inf"} 3
tgi_request_generated_tokens_sum 678
tgi_request_generated_tokens_count 3
# TYPE tgi_request_count counter
tgi_request_count 3
# TYPE tgi_queue_size gauge
tgi_queue_size 0
"""


def test_tgi_uses_histogram_sums() -> None:
    assert sums(extract_tokens(TGI, default_model="mistral-7b")) == ("tgi", {"mistral-7b": (12345, 678)})


def test_triton_with_vllm_backend() -> None:
    text = (
        'nv_inference_request_success{model="vllm_model",version="1"} 4\n'
        'vllm:prompt_tokens_total{model="vllm_model",version="1"} 40\n'
        'vllm:generation_tokens_total{model="vllm_model",version="1"} 80\n'
    )
    assert sums(extract_tokens(text, default_model="llama")) == ("triton", {"llama": (40, 80)})


def test_triton_with_tensorrt_llm_backend() -> None:
    text = (
        'nv_inference_request_success{model="ensemble",version="1"} 2\n'
        'nv_trt_llm_request_metrics{model="tensorrt_llm",request_type="active",version="1"} 0\n'
        'nv_llm_input_token_len_sum{model="tensorrt_llm",response_metric_type="total_input_tokens",'
        'version="1"} 150\n'
        'nv_llm_output_token_len_sum{model="tensorrt_llm",response_metric_type="total_output_tokens",'
        'version="1"} 90\n'
    )
    assert sums(extract_tokens(text, default_model="llama")) == ("triton", {"llama": (150, 90)})


def test_triton_without_llm_tokens_has_no_series() -> None:
    text = 'nv_inference_request_success{model="resnet",version="1"} 2\nnv_gpu_power_usage{gpu_uuid="GPU-1"} 70\n'
    assert sums(extract_tokens(text, default_model="x")) == ("triton", {})


def test_nim_unprefixed_counters() -> None:
    text = (
        "# TYPE prompt_tokens_total counter\n"
        'prompt_tokens_total{model_name="meta/llama-3.1-8b-instruct"} 321\n'
        'generation_tokens_total{model_name="meta/llama-3.1-8b-instruct"} 123\n'
        'gpu_cache_usage_perc{model_name="meta/llama-3.1-8b-instruct"} 0.1\n'
    )
    scrape = extract_tokens(text, default_model="x")
    assert sums(scrape) == ("nim", {"meta/llama-3.1-8b-instruct": (321, 123)})


# --- dcgm-exporter --------------------------------------------------------------------------


def test_dcgm_l4_fixture() -> None:
    assert extract_gpus(metrics_text(DCGM_L4)) == [
        GpuReading(
            uuid="GPU-c2f76b33-7953-256e-8f33-1343419b1a1c",
            index=0,
            model_name="NVIDIA L4",
            host="i-030791dc5a37cd257",
            power_watts=16.365,
            energy_mj=4_742_776,
            pod=None,
            namespace=None,
            container=None,
            pod_uid=None,
        )
    ]


H100_GPUS = [
    # (index, UUID, DCGM_FI_DEV_POWER_USAGE) as written in the file
    (0, "GPU-c4529c8d-69c4-b61d-e0bc-7b2460096005", 113.611),
    (1, "GPU-bc5610b9-79c8-fedd-8899-07539c7f868a", 68.347),
    (2, "GPU-fbc2c554-4d37-8938-0032-f923bad0f716", 65.709),
    (3, "GPU-a65a773d-52bb-bcc1-a8ee-f78c3faa2e2d", 67.316),
    (4, "GPU-82e45d1b-1618-559f-144c-eab51545030b", 68.717),
    (5, "GPU-39e28159-8c62-ee71-64db-b748edd61e15", 65.742),
    (6, "GPU-e64d69ca-b4b3-59b2-e78c-94f26c4db365", 67.328),
    (7, "GPU-04d228d3-3b5a-3534-f5cf-969706647d56", 66.997),
]


def test_dcgm_h100_fixture() -> None:
    gpus = extract_gpus(metrics_text(DCGM_H100))
    assert [(g.index, g.uuid, g.power_watts) for g in gpus] == H100_GPUS
    assert all(g.energy_mj is None for g in gpus)  # sampled without the energy counter
    assert {g.model_name for g in gpus} == {H100}
    assert {g.host for g in gpus} == {"gpu-node-1"}
    first = gpus[0]
    assert (first.pod, first.namespace, first.container, first.pod_uid) == (
        "vllm-agg-0-vllmdecodeworker-s65j5",
        "dynamo-workload",
        "main",
        None,  # pod_uid="" in the file
    )
    assert all(g.pod is None and g.namespace is None and g.container is None for g in gpus[1:])


@pytest.mark.parametrize("name", [VLLM, SGLANG, LLAMACPP])
def test_non_dcgm_fixtures_raise(name: str) -> None:
    with pytest.raises(MetricsParseError, match=r"no dcgm-exporter metrics \(DCGM_FI_\*\)"):
        extract_gpus(metrics_text(name))


@pytest.mark.parametrize("text", ["", "<html>oops</html>", "garbage {{{ 1 2 3\n"])
def test_dcgm_garbage_raises(text: str) -> None:
    with pytest.raises(MetricsParseError):
        extract_gpus(text)


def _line(family: str, value: str, **labels: str) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{family}{{{inner}}} {value}\n"


def test_dcgm_gpu_only_in_other_families_and_lowercase_hostname() -> None:
    base = {"gpu": "1", "UUID": "GPU-b", "modelName": "NVIDIA A100", "hostname": "node-b"}
    text = (
        _line("DCGM_FI_DEV_POWER_USAGE", "250.5", gpu="0", UUID="GPU-a", modelName="NVIDIA A100")
        + _line("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "1.234567e+10", gpu="0", UUID="GPU-a")
        + _line("DCGM_FI_DEV_GPU_TEMP", "41", **base)
        + _line("DCGM_FI_DEV_GPU_UTIL", "0", **base)
    )
    a, b = extract_gpus(text)
    assert (a.uuid, a.index, a.power_watts, a.energy_mj, a.host) == ("GPU-a", 0, 250.5, 12_345_670_000, None)
    assert (b.uuid, b.index, b.power_watts, b.energy_mj) == ("GPU-b", 1, None, None)
    assert (b.host, b.model_name) == ("node-b", "NVIDIA A100")


def test_dcgm_hostname_both_spellings() -> None:
    old = _line("DCGM_FI_DEV_POWER_USAGE", "1", gpu="0", UUID="GPU-a", Hostname="old-node")
    new = _line("DCGM_FI_DEV_POWER_USAGE", "1", gpu="0", UUID="GPU-a", hostname="new-node")
    assert extract_gpus(old)[0].host == "old-node"
    assert extract_gpus(new)[0].host == "new-node"


def test_dcgm_old_namespace_labels_and_pod_uid() -> None:
    text = _line(
        "DCGM_FI_DEV_POWER_USAGE",
        "70",
        gpu="3",
        UUID="GPU-x",
        pod_name="llm-0",
        pod_namespace="serving",
        container_name="vllm",
        pod_uid="6f1c2a9e-0000-4000-8000-000000000001",
    )
    gpu = extract_gpus(text)[0]
    assert (gpu.index, gpu.pod, gpu.namespace, gpu.container, gpu.pod_uid) == (
        3,
        "llm-0",
        "serving",
        "vllm",
        "6f1c2a9e-0000-4000-8000-000000000001",
    )


def test_dcgm_pod_mapping_from_any_family() -> None:
    text = _line("DCGM_FI_DEV_POWER_USAGE", "70", gpu="0", UUID="GPU-x") + _line(
        "DCGM_FI_DEV_GPU_UTIL", "5", gpu="0", UUID="GPU-x", pod="p", namespace="ns", container="c"
    )
    gpu = extract_gpus(text)[0]
    assert (gpu.pod, gpu.namespace, gpu.container, gpu.pod_uid) == ("p", "ns", "c", None)


def test_dcgm_exact_large_energy_and_unusable_values() -> None:
    text = (
        _line("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "98765432109876543210", gpu="0", UUID="GPU-a")
        + _line("DCGM_FI_DEV_POWER_USAGE", "NaN", gpu="1", UUID="GPU-b")
        + _line("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "-5", gpu="1", UUID="GPU-b")
    )
    a, b = extract_gpus(text)
    assert a.energy_mj == 98_765_432_109_876_543_210
    assert (b.power_watts, b.energy_mj) == (None, None)


def test_dcgm_series_without_uuid() -> None:
    no_uuid = 'DCGM_FI_DEV_POWER_USAGE{gpu="0"} 5\n'
    with pytest.raises(MetricsParseError, match="UUID"):
        extract_gpus(no_uuid)
    with_uuid = no_uuid + _line("DCGM_FI_DEV_GPU_TEMP", "3", UUID="GPU-z")
    assert [g.uuid for g in extract_gpus(with_uuid)] == ["GPU-z"]


def test_dcgm_values_match_prometheus_client() -> None:
    for name in (DCGM_L4, DCGM_H100):
        text = metrics_text(name)
        power: dict[str, float] = {}
        energy: dict[str, int] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == "DCGM_FI_DEV_POWER_USAGE":
                    power[s.labels["UUID"]] = float(s.value)
                elif s.name.startswith("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"):
                    energy[s.labels["UUID"]] = int(s.value)
        gpus = extract_gpus(text)
        assert {g.uuid: g.power_watts for g in gpus} == power
        assert {g.uuid: g.energy_mj for g in gpus if g.energy_mj is not None} == energy


@pytest.mark.parametrize(
    ("name", "families"),
    [
        (VLLM, ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")),
        (SGLANG, ("sglang:prompt_tokens_total", "sglang:generation_tokens_total")),
    ],
)
def test_tokens_match_prometheus_client(name: str, families: tuple[str, str]) -> None:
    text = metrics_text(name)
    totals = dict.fromkeys(families, 0.0)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in totals:
                totals[s.name] += float(s.value)
    series = extract_tokens(text, default_model="x").series
    assert [sum(pair[i] for pair in series.values()) for i in (0, 1)] == [totals[f] for f in families]

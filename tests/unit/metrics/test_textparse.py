"""The selective Prometheus text parser, on real fixtures and hand-written exposition."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kubectl_infercost.errors import ScrapeError
from kubectl_infercost.metrics import (
    MetricsParseError,
    Sample,
    decimal_value,
    first_line_prefix,
    parse_samples,
    token_count,
)
from tests.conftest import DCGM_H100, DCGM_L4, LLAMACPP, METRICS, SGLANG, VLLM, metrics_text

ALL_FIXTURES = (VLLM, SGLANG, LLAMACPP, DCGM_L4, DCGM_H100)
VLLM_TOKENS = ("vllm:prompt_tokens_total", "vllm:generation_tokens_total")
QWEN = "Qwen/Qwen2.5-0.5B-Instruct"


def one(text: str, name: str) -> Sample:
    samples = parse_samples(text, [name])
    assert len(samples) == 1, samples
    return samples[0]


def test_fixture_directory_is_found() -> None:
    assert sorted(p.name for p in METRICS.glob("*.prom")) == sorted(ALL_FIXTURES)


# --- real fixtures, values read off the files by hand ------------------------------------------


def test_vllm_token_counters() -> None:
    samples = parse_samples(metrics_text(VLLM), VLLM_TOKENS)
    assert samples == [
        Sample("vllm:prompt_tokens_total", {"engine": "0", "model_name": QWEN}, 0.0, "0.0"),
        Sample("vllm:generation_tokens_total", {"engine": "0", "model_name": QWEN}, 0.0, "0.0"),
    ]


def test_vllm_other_values() -> None:
    text = metrics_text(VLLM)
    gc = parse_samples(text, ["python_gc_objects_collected_total"])
    assert [(s.labels["generation"], s.value) for s in gc] == [("0", 14250.0), ("1", 2120.0), ("2", 303.0)]
    assert token_count(gc[0]) == 14250
    assert one(text, "process_virtual_memory_bytes").value == 9.035190272e09
    assert one(text, "process_cpu_seconds_total").value == 16.22
    assert one(text, "python_info").labels == {
        "implementation": "CPython",
        "major": "3",
        "minor": "12",
        "patchlevel": "13",
        "version": "3.12.13",
    }
    sleep = parse_samples(text, ["vllm:engine_sleep_state"])
    assert [(s.labels["sleep_state"], s.value) for s in sleep] == [
        ("awake", 1.0),
        ("weights_offloaded", 0.0),
        ("discard_all", 0.0),
    ]


def test_vllm_info_metric_labels() -> None:
    info = one(metrics_text(VLLM), "vllm:cache_config_info")
    assert info.value == 1.0
    assert len(info.labels) == 25
    assert info.labels["cpu_offload_params"] == "set()"
    assert info.labels["num_gpu_blocks"] == "101625"
    assert info.labels["swap_space"] == "4.0"


def test_vllm_created_only_when_named() -> None:
    text = metrics_text(VLLM)
    created = one(text, "vllm:prompt_tokens_created")
    assert created.value == 1.7740114612876017e09
    names = {s.name for s in parse_samples(text, prefixes=["vllm:"])}
    assert "vllm:prompt_tokens_total" in names
    assert not any(n.endswith("_created") for n in names)


def test_vllm_whole_scrape_sample_count() -> None:
    # 395 sample lines, 38 of them _created companions.
    samples = parse_samples(metrics_text(VLLM))
    assert len(samples) == 395 - 38


def test_name_match_is_exact_not_a_prefix() -> None:
    text = metrics_text(VLLM)
    # A histogram: only _bucket/_count/_sum samples exist.
    assert parse_samples(text, ["vllm:iteration_tokens_total"]) == []
    assert len(parse_samples(text, ["vllm:iteration_tokens_total_bucket"])) == 14
    assert one(text, "vllm:iteration_tokens_total_sum").value == 0.0


def test_sglang_values() -> None:
    text = metrics_text(SGLANG)
    model = {"model_name": "meta-llama/Llama-3.1-8B-Instruct"}
    prompt = one(text, "sglang:prompt_tokens_total")
    assert prompt == Sample("sglang:prompt_tokens_total", model, 8128902.0, "8.128902e+06")
    assert token_count(prompt) == 8_128_902
    assert token_count(one(text, "sglang:generation_tokens_total")) == 7_557_572
    assert one(text, "sglang:cache_hit_rate").value == 0.007507552643049313
    assert one(text, "sglang:gen_throughput").value == 86.50814177726902
    buckets = parse_samples(text, ["sglang:time_to_first_token_seconds_bucket"])
    assert len(buckets) == 21
    assert buckets[-1].labels == {"le": "+Inf", **model}
    assert buckets[-1].value == 11008.0
    assert len(parse_samples(text)) == 31


def test_llamacpp_fragment() -> None:
    samples = parse_samples(metrics_text(LLAMACPP), prefixes=["llamacpp:"])
    assert samples == [
        Sample("llamacpp:requests_processing", {}, 0.0, "0"),
        Sample("llamacpp:requests_deferred", {}, 0.0, "0"),
    ]


def test_dcgm_l4_values() -> None:
    text = metrics_text(DCGM_L4)
    power = one(text, "DCGM_FI_DEV_POWER_USAGE")
    assert power.value == 16.365
    assert power.labels == {
        "gpu": "0",
        "UUID": "GPU-c2f76b33-7953-256e-8f33-1343419b1a1c",
        "pci_bus_id": "00000000:31:00.0",
        "device": "nvidia0",
        "modelName": "NVIDIA L4",
        "Hostname": "i-030791dc5a37cd257",
        "DCGM_FI_DRIVER_VERSION": "580.105.08",
    }
    energy = one(text, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION")
    assert decimal_value(energy) == Decimal(4742776)
    assert one(text, "DCGM_FI_DEV_FB_FREE").value == 22563.0
    assert len(parse_samples(text, prefixes=["DCGM_FI_"])) == 23


def test_dcgm_h100_values() -> None:
    text = metrics_text(DCGM_H100)
    power = parse_samples(text, ["DCGM_FI_DEV_POWER_USAGE"])
    assert [s.value for s in power] == [113.611, 68.347, 65.709, 67.316, 68.717, 65.742, 67.328, 66.997]
    assert power[0].labels["pod"] == "vllm-agg-0-vllmdecodeworker-s65j5"
    assert power[0].labels["pod_uid"] == ""
    assert "pod" not in power[1].labels
    temps = parse_samples(text, ["DCGM_FI_DEV_GPU_TEMP"])
    assert [s.value for s in temps] == [30, 29, 26, 29, 28, 26, 28, 26]
    assert len(parse_samples(text, ["DCGM_FI_DEV_MEM_COPY_UTIL"])) == 6
    assert len(parse_samples(text)) == 30


# --- agreement with prometheus_client --------------------------------------------------------


def _reference(text: str) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    """prometheus_client's samples, minus _created, under their names as written."""
    out = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name = s.name
            # It renames samples of a counter declared without _total: undo that.
            if family.type == "counter" and not re.search(rf"^{re.escape(name)}[{{ ]", text, re.M):
                name = name.removesuffix("_total")
            if not name.endswith("_created"):
                out.append((name, tuple(sorted(s.labels.items())), float(s.value)))
    return sorted(out)


def _ours(samples: list[Sample]) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    return sorted((s.name, tuple(sorted(s.labels.items())), s.value) for s in samples)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_whole_scrape_matches_prometheus_client(name: str) -> None:
    text = metrics_text(name)
    assert _ours(parse_samples(text)) == _reference(text)


WANTED = {
    VLLM: VLLM_TOKENS,
    SGLANG: ("sglang:prompt_tokens_total", "sglang:generation_tokens_total"),
    LLAMACPP: ("llamacpp:requests_processing", "llamacpp:requests_deferred"),
    DCGM_L4: ("DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"),
    DCGM_H100: ("DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP"),
}


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_wanted_families_match_prometheus_client(name: str) -> None:
    text = metrics_text(name)
    wanted = WANTED[name]
    expected = [s for s in _reference(text) if s[0] in wanted]
    assert expected, "the fixture should hold the wanted families"
    assert _ours(parse_samples(text, wanted)) == expected


# --- hand-written exposition --------------------------------------------------------------


def test_escaped_label_values() -> None:
    text = 'm{a="say \\"hi\\"",b="back\\\\slash",c="two\\nlines",d="keep \\t"} 1\n'
    assert one(text, "m").labels == {"a": 'say "hi"', "b": "back\\slash", "c": "two\nlines", "d": "keep \\t"}


def test_braces_commas_and_equals_inside_values() -> None:
    text = 'm{a="x}y",b="1,2",c="k=v"} 3\n'
    assert one(text, "m").labels == {"a": "x}y", "b": "1,2", "c": "k=v"}


def test_spaces_after_commas_and_trailing_comma() -> None:
    text = 'm{a="1", b = "2",\tc="3",} 4\nn{} 5\nn2{ } 6\n'
    assert one(text, "m").labels == {"a": "1", "b": "2", "c": "3"}
    assert one(text, "n").labels == {}
    assert one(text, "n2").labels == {}


@pytest.mark.parametrize(
    ("raw", "check"),
    [
        ("NaN", math.isnan),
        ("+Inf", lambda v: v == math.inf),
        ("-Inf", lambda v: v == -math.inf),
        ("1.5e-3", lambda v: v == 0.0015),
        ("-7", lambda v: v == -7.0),
    ],
)
def test_special_values(raw: str, check: object) -> None:
    sample = one(f"m {raw}\n", "m")
    assert sample.raw_value == raw
    assert callable(check) and check(sample.value)


def test_optional_timestamps() -> None:
    text = 'a 1 1712345678901\nb{x="y"} 2.5 -5\nc 3\n'
    assert one(text, "a").timestamp_ms == 1712345678901
    assert one(text, "b").timestamp_ms == -5
    assert one(text, "c").timestamp_ms is None


def test_bad_timestamp_raises() -> None:
    with pytest.raises(MetricsParseError, match=r"line 1: a: invalid timestamp"):
        parse_samples("a 1 12.5\n", ["a"])


def test_created_companions() -> None:
    text = (
        "# TYPE c counter\n"
        'c_total{m="x"} 10\n'
        'c_created{m="x"} 1.7e+09\n'
        "# TYPE h histogram\n"
        "h_sum 2\nh_count 1\nh_created 1.7e+09\n"
    )
    assert [s.name for s in parse_samples(text)] == ["c_total", "h_sum", "h_count"]
    assert [s.name for s in parse_samples(text, prefixes=["c", "h"])] == ["c_total", "h_sum", "h_count"]
    assert one(text, "c_created").value == 1.7e09


def test_comments_and_missing_metadata() -> None:
    text = (
        "# source: somewhere, with {braces} and m 1\n"
        "# just a comment\n"
        "#\n"
        "\n"
        "# HELP m help with m 2 inside\n"
        "m 3\n"
        "untyped_without_help 4\n"
    )
    assert [(s.name, s.value) for s in parse_samples(text)] == [("m", 3.0), ("untyped_without_help", 4.0)]
    assert one(text, "m").value == 3.0


def test_colons_in_names() -> None:
    text = 'job:rate:5m{a="b"} 1\nllamacpp:tokens_predicted_total 2\n'
    assert one(text, "job:rate:5m").value == 1.0
    assert parse_samples(text, prefixes=["llamacpp:"])[0].value == 2.0


def test_crlf_line_endings() -> None:
    text = '# HELP m x\r\n# TYPE m counter\r\nm_total{a="b"} 12\r\nn 3 1000\r\n'
    assert one(text, "m_total") == Sample("m_total", {"a": "b"}, 12.0, "12")
    assert one(text, "n").timestamp_ms == 1000
    assert len(parse_samples(text)) == 2


def test_leading_blanks_and_no_final_newline() -> None:
    text = '  a 1\n\tb{x="y"} 2\n# c 9\nc 3'
    assert [(s.name, s.value) for s in parse_samples(text, ["a", "b", "c"])] == [
        ("a", 1.0),
        ("b", 2.0),
        ("c", 3.0),
    ]
    assert len(parse_samples(text)) == 3


def test_first_line_prefix() -> None:
    text = "# vllm:x 1\n  sglang:a 1\nvllm:b 2\n"
    assert first_line_prefix(text, ["vllm:", "sglang:"]) == "sglang:"
    assert first_line_prefix(text, ["tgi_"]) is None
    assert first_line_prefix("vllm:a 1", ["vllm:"]) == "vllm:"


def test_unwanted_garbage_is_skipped_cheaply() -> None:
    text = "<html>\nnot { a metric\nm 1\n"
    assert one(text, "m").value == 1.0


@pytest.mark.parametrize(
    "line",
    [
        'm{a="1" 2',
        'm{a="unterminated} 2',
        "m",
        "m abc",
        "m 1_000",
        "m 1 2 3",
        'm{a="1"b="2"} 3',
        'm{a="1",,} 3',
        'm{a="1",a="2"} 3',
        'm{1a="x"} 3',
    ],
)
def test_malformed_wanted_line_raises_with_line_number(line: str) -> None:
    with pytest.raises(MetricsParseError, match=r"^line 2: "):
        parse_samples(f"# header\n{line}\n", ["m"])


def test_garbage_in_whole_scrape_raises() -> None:
    with pytest.raises(MetricsParseError, match="line 1"):
        parse_samples("<html><body>502 Bad Gateway</body></html>\n")


def test_error_types() -> None:
    assert issubclass(MetricsParseError, ValueError)
    assert issubclass(MetricsParseError, ScrapeError)


# --- exact counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        ("8.128902e+06", 8_128_902),
        ("14250.0", 14_250),
        ("0", 0),
        ("2.5", 2),
        ("3.5", 4),
        ("1.234567890123456789e+20", 123_456_789_012_345_678_900),
        ("98765432109876543210", 98_765_432_109_876_543_210),
    ],
)
def test_token_count_is_exact(raw: str, count: int) -> None:
    assert token_count(one(f't_total{{model_name="m"}} {raw}\n', "t_total")) == count


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("-1", "is negative"), ("NaN", "is NaN"), ("+Inf", "is infinite"), ("-Inf", "is infinite")],
)
def test_token_count_rejects_unusable_values(raw: str, reason: str) -> None:
    sample = one(f'vllm:prompt_tokens_total{{model_name="m"}} {raw}\n', "vllm:prompt_tokens_total")
    with pytest.raises(MetricsParseError) as info:
        token_count(sample)
    message = str(info.value)
    assert 'vllm:prompt_tokens_total{model_name="m"}' in message
    assert reason in message


def test_label_dicts_are_independent_copies() -> None:
    text = 'a{x="1"} 1\nb{x="1"} 2\n'
    first, second = parse_samples(text)
    first.labels["x"] = "changed"
    assert second.labels == {"x": "1"}
    assert parse_samples(text)[0].labels == {"x": "1"}

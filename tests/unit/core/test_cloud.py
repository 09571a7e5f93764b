"""Cloud comparison: catalog validation and the arithmetic, with numbers worked by hand."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.core.cloud import (
    LITELLM_SOURCE,
    PriceCatalog,
    break_even_tokens_per_day,
    cheapest,
    cloud_cost,
    compare,
    parse_catalog,
)
from kubectl_infercost.errors import ForbiddenError, InvalidDataError, NotFoundError
from kubectl_infercost.pricing import catalog_from_configmap, load_catalog, resolve_catalog
from tests.conftest import price_entry as entry

D = Decimal


def doc(*entries: dict[str, Any], last_verified: Any = "2025-06-01") -> dict[str, Any]:
    return {"lastVerified": last_verified, "currency": "USD", "entries": list(entries)}


def raw(provider: str = "openai", model: str = "gpt-4o", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "provider": provider,
        "model": model,
        "tier": "standard",
        "inputPerMillion": "2.50",
        "outputPerMillion": "10.00",
        "source": "https://openai.com/api/pricing/",
    }
    item.update(extra)
    return {k: v for k, v in item.items() if v is not None}


# ---------------------------------------------------------------- arithmetic


def test_cloud_cost_hand_worked() -> None:
    # 600,000 in at $2.50/M = $1.50; 200,000 out at $10.00/M = $2.00; total $3.50 exactly.
    assert cloud_cost(entry("openai", "gpt-4o", "2.50", "10.00"), 600_000, 200_000) == D("3.50")


def test_cloud_cost_is_exact_for_odd_counts() -> None:
    # 1 in token at $0.15/M = 0.00000015; 3 out tokens at $0.60/M = 0.0000018; sum 0.00000195.
    assert cloud_cost(entry("openai", "gpt-4o-mini", "0.15", "0.60"), 1, 3) == D("0.00000195")
    # 123,456,789 in at $3/M = 370.370367; 98,765,432 out at $15/M = 1481.48148; sum 1851.851847.
    assert cloud_cost(entry("anthropic", "claude-sonnet-4", "3", "15"), 123_456_789, 98_765_432) == D("1851.851847")


def test_cloud_cost_rejects_negative_tokens() -> None:
    with pytest.raises(ValueError):
        cloud_cost(entry("a", "m", "1", "1"), -1, 0)


def test_compare_savings_and_percent() -> None:
    cat = [entry("openai", "gpt-4o", "2.50", "10.00"), entry("anthropic", "claude-opus-4", "15", "75")]
    rows = compare(cat, 600_000, 200_000, D("1.40"))
    # Sorted by provider then model.
    assert [(r.provider, r.model) for r in rows] == [("anthropic", "claude-opus-4"), ("openai", "gpt-4o")]
    opus, gpt = rows
    # gpt-4o: cloud 3.50; savings 3.50 - 1.40 = 2.10; 2.10 / 3.50 = 60 %.
    assert gpt.cloud_cost_usd == D("3.50")
    assert gpt.savings_usd == D("2.10")
    assert gpt.savings_percent == D(60)
    # opus: 0.6 × 15 = 9; 0.2 × 75 = 15; cloud 24.00; savings 22.60; 22.6 / 24 = 94.1666...%
    assert opus.cloud_cost_usd == D(24)
    assert opus.savings_usd == D("22.60")
    assert opus.savings_percent.quantize(D("0.000001")) == D("94.166667")
    assert opus.onprem_cost_usd == D("1.40")


def test_compare_negative_savings_when_onprem_is_dearer() -> None:
    (row,) = compare([entry("google", "gemini-2.0-flash", "0.10", "0.40")], 600_000, 200_000, D("1.00"))
    # cloud 0.06 + 0.08 = 0.14; savings 0.14 - 1.00 = -0.86; -0.86 / 0.14 = -614.2857...%
    assert row.cloud_cost_usd == D("0.14")
    assert row.savings_usd == D("-0.86")
    assert row.savings_percent.quantize(D("0.0001")) == D("-614.2857")


def test_compare_zero_cloud_cost_gives_zero_percent() -> None:
    (row,) = compare([entry("free", "m", "0", "0")], 1000, 1000, D("5"))
    assert row.cloud_cost_usd == 0
    assert row.savings_usd == D(-5)
    assert row.savings_percent == 0


def test_break_even_tokens_per_day() -> None:
    # Mix 600k in : 200k out at gpt-4o: $3.50 per 800,000 tokens = $0.000004375 per token.
    # On-prem $2.10/h × 24 = $50.40/day; 50.40 / 0.000004375 = 11,520,000 tokens/day exactly.
    gpt = entry("openai", "gpt-4o", "2.50", "10.00")
    assert break_even_tokens_per_day(gpt, 600_000, 200_000, D("2.10") * 24) == 11_520_000
    # Rounded up: $1/day at $3/M (input only) = 333,333.33... → 333,334 tokens/day.
    assert break_even_tokens_per_day(entry("a", "m", "3", "3"), 10, 0, D(1)) == 333_334


def test_break_even_undefined_cases() -> None:
    gpt = entry("openai", "gpt-4o", "2.50", "10.00")
    assert break_even_tokens_per_day(gpt, 0, 0, D(50)) is None
    assert break_even_tokens_per_day(entry("free", "m", "0", "0"), 10, 10, D(50)) is None
    assert break_even_tokens_per_day(gpt, 10, 10, D(0)) == 0


def test_cheapest_with_ties() -> None:
    cat = [
        entry("together", "llama-8b", "0.18", "0.18"),
        entry("openai", "gpt-4o-mini", "0.15", "0.60"),
        entry("google", "flash", "0.10", "0.40"),
        entry("alpha", "flash-twin", "0.10", "0.40"),
    ]
    # 1M in + 1M out: llama 0.36, mini 0.75, flash 0.50, twin 0.50.
    best = cheapest(cat, 1_000_000, 1_000_000)
    assert best is not None and (best.provider, best.model) == ("together", "llama-8b")
    # 1M in only: llama 0.18, mini 0.15, flash 0.10, twin 0.10 → tie broken by provider: alpha.
    best = cheapest(cat, 1_000_000, 0)
    assert best is not None and best.provider == "alpha"
    assert cheapest([], 1, 1) is None


# ---------------------------------------------------------------- validation


def test_parse_catalog_fields_and_sorting() -> None:
    cat = parse_catalog(
        doc(
            raw("openai", "gpt-4o"),
            raw("anthropic", "claude-sonnet-4", inputPerMillion=3, outputPerMillion=15.0),
        ),
        "test.yaml",
    )
    assert cat.source == "test.yaml"
    assert cat.last_verified == date(2025, 6, 1)
    assert [e.provider for e in cat.entries] == ["anthropic", "openai"]
    sonnet = cat.entries[0]
    assert sonnet.input_per_million == D(3) and sonnet.output_per_million == D("15.0")
    assert sonnet.last_verified == date(2025, 6, 1)  # inherited from the top level
    assert cat.entries[1].input_per_million == D("2.50")


def test_parse_catalog_defaults_tier_and_accepts_yaml_dates() -> None:
    cat = parse_catalog(doc(raw(tier=None, lastVerified=date(2025, 5, 2)), last_verified=date(2025, 6, 1)), "x")
    assert cat.entries[0].tier == "standard"
    assert cat.entries[0].last_verified == date(2025, 5, 2)


def test_parse_catalog_rejects_duplicates() -> None:
    with pytest.raises(InvalidDataError) as err:
        parse_catalog(doc(raw(), raw("OpenAI", "GPT-4o")), "prices.yaml")
    msg = str(err.value)
    assert "prices.yaml" in msg and "entries[1]" in msg and "duplicate of entries[0]" in msg
    # A different tier is a different price.
    assert len(parse_catalog(doc(raw(), raw(tier="batch")), "x").entries) == 2


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("-0.01", "must not be negative"),
        (-1, "must not be negative"),
        ("NaN", "must be a finite number"),
        ("Infinity", "must be a finite number"),
        ("two", "must be a decimal number"),
        (True, "must be a decimal number"),
        ([1], "must be a decimal number"),
    ],
)
def test_parse_catalog_rejects_bad_prices(value: Any, fragment: str) -> None:
    with pytest.raises(InvalidDataError) as err:
        parse_catalog(doc(raw(), raw("google", "gemini-2.0-flash", outputPerMillion=value)), "prices.yaml")
    msg = str(err.value)
    assert msg.startswith("price catalog prices.yaml: entries[1] (google/gemini-2.0-flash): outputPerMillion ")
    assert fragment in msg


@pytest.mark.parametrize("field", ["provider", "model", "inputPerMillion", "outputPerMillion", "source"])
def test_parse_catalog_rejects_missing_fields(field: str) -> None:
    item = raw("anthropic", "claude-opus-4")
    del item[field]
    with pytest.raises(InvalidDataError) as err:
        parse_catalog(doc(item), "prices.yaml")
    msg = str(err.value)
    assert "prices.yaml" in msg and "entries[0]" in msg and f"missing required field {field}" in msg
    if field not in ("provider", "model"):
        assert "(anthropic/claude-opus-4)" in msg


def test_parse_catalog_top_level_errors() -> None:
    with pytest.raises(InvalidDataError, match="missing required field lastVerified"):
        parse_catalog({"entries": []}, "x")
    with pytest.raises(InvalidDataError, match=r"lastVerified must be a date"):
        parse_catalog(doc(last_verified="last week"), "x")
    with pytest.raises(InvalidDataError, match="currency must be USD"):
        parse_catalog({"lastVerified": "2025-06-01", "currency": "EUR", "entries": []}, "x")
    with pytest.raises(InvalidDataError, match="entries must be a list"):
        parse_catalog({"lastVerified": "2025-06-01", "entries": {"a": 1}}, "x")
    with pytest.raises(InvalidDataError, match=r"entries\[0\]: must be a mapping"):
        parse_catalog(doc("gpt-4o"), "x")  # type: ignore[arg-type]


def test_catalog_age_days() -> None:
    cat = PriceCatalog((), date(2025, 6, 1), "x")
    assert cat.age_days(date(2026, 4, 20)) == 323  # Jun 1 → Jan 1: 214 days; Jan 1 → Apr 1: 90; → Apr 20: 19.
    assert cat.age_days(date(2025, 5, 1)) == 0


# ---------------------------------------------------------------- adapter: bundled, file, ConfigMap


def test_bundled_catalog_loads_and_validates() -> None:
    cat = load_catalog(None)
    models = {(e.provider, e.model) for e in cat.entries}
    # a budget and a mid model per closed provider, open models on Groq
    assert models == {
        ("openai", "gpt-5-mini"), ("openai", "gpt-5"), ("openai", "gpt-4o"), ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-haiku-4-5"), ("anthropic", "claude-sonnet-4-6"),
        ("google", "gemini-2.5-flash-lite"), ("google", "gemini-2.5-flash"), ("google", "gemini-2.5-pro"),
        ("groq", "gpt-oss-120b"), ("groq", "llama-3.3-70b-versatile"),
    }  # fmt: skip
    gpt4o = next(e for e in cat.entries if e.model == "gpt-4o")
    assert (gpt4o.input_per_million, gpt4o.output_per_million) == (D("2.50"), D("10.00"))
    # dated by the pages the figures were read from; the catalog's own date is the oldest entry's
    assert cat.last_verified == date(2026, 3, 21) == min(e.last_verified for e in cat.entries)
    assert max(e.last_verified for e in cat.entries) == date(2026, 7, 1)
    assert all(e.source.startswith("https://") for e in cat.entries)
    assert cat.source == "bundled cloud-pricing.yaml"


def test_pricing_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "lastVerified: 2026-01-15\nentries:\n"
        "  - {provider: acme, model: m1, inputPerMillion: '1.10', outputPerMillion: '2.20',"
        " source: contract}\n"
    )
    cat = load_catalog(str(path))
    assert cat.source == str(path)
    assert cat.entries[0].input_per_million == D("1.10")
    assert cat.last_verified == date(2026, 1, 15)

    missing = tmp_path / "nope.yaml"
    with pytest.raises(InvalidDataError, match=f"price catalog {missing}: file not found"):
        load_catalog(str(missing))
    path.write_text("entries: [\n")
    with pytest.raises(InvalidDataError, match="not valid YAML"):
        load_catalog(str(path))
    path.write_text("- a\n- b\n")
    with pytest.raises(InvalidDataError, match="expected a mapping"):
        load_catalog(str(path))


def test_catalog_from_configmap() -> None:
    text = (
        "lastVerified: 2026-02-01\nentries:\n"
        "  - {provider: acme, model: m1, inputPerMillion: '1', outputPerMillion: '2', source: internal}\n"
    )
    cat = catalog_from_configmap({"cloud-pricing.yaml": text})
    assert cat.source == "ConfigMap infercost-pricing key cloud-pricing.yaml"
    assert cat.entries[0].output_per_million == D(2)
    with pytest.raises(InvalidDataError, match=r"no key 'cloud-pricing\.yaml'"):
        catalog_from_configmap({"prices": text})


class StubClient:
    """Answers GET of the pricing ConfigMap with a body or an error, and records the paths asked for."""

    def __init__(self, answer: Any) -> None:
        self.answer, self.paths = answer, list[str]()

    def get(self, path: str, *, what: str | None = None) -> Any:  # noqa: ARG002, V107 -- KubeClient.get's signature
        self.paths.append(path)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_resolve_catalog_precedence(tmp_path: Path) -> None:
    text = (
        "lastVerified: 2026-02-01\nentries:\n"
        "  - {provider: acme, model: m1, inputPerMillion: '1', outputPerMillion: '2', source: internal}\n"
    )
    cm = StubClient({"data": {"cloud-pricing.yaml": text}})
    cat = resolve_catalog(cm, "team-a", None)  # type: ignore[arg-type]
    assert cat.source == "ConfigMap team-a/infercost-pricing key cloud-pricing.yaml"
    assert cm.paths == ["/api/v1/namespaces/team-a/configmaps/infercost-pricing"]

    missing = StubClient(NotFoundError("not found", status=404))
    assert resolve_catalog(missing, "team-a", None).source == "bundled cloud-pricing.yaml"  # type: ignore[arg-type]

    warnings: list[str] = []
    forbidden = StubClient(ForbiddenError("forbidden", status=403))
    cat = resolve_catalog(forbidden, "team-a", None, warn=warnings.append)  # type: ignore[arg-type]
    assert cat.source == "bundled cloud-pricing.yaml"
    assert warnings == ["cannot read ConfigMap team-a/infercost-pricing (forbidden): using the bundled price catalog"]

    path = tmp_path / "p.yaml"
    path.write_text(text)
    untouched = StubClient(AssertionError("the ConfigMap must not be read when --pricing-file is given"))
    assert resolve_catalog(untouched, "team-a", str(path)).source == str(path)  # type: ignore[arg-type]
    assert untouched.paths == []


LITELLM = """{
  "sample_spec": {"max_tokens": "LEGACY", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                  "litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "chat"},
  "gpt-4o": {"max_tokens": 16384, "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
             "litellm_provider": "openai", "mode": "chat", "supports_vision": true},
  "openai/gpt-4o": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-06,
                    "litellm_provider": "openai", "mode": "chat"},
  "groq/llama-3.3-70b-versatile": {"input_cost_per_token": 5.9e-07, "output_cost_per_token": 7.9e-07,
                                   "litellm_provider": "groq", "mode": "chat"},
  "text-embedding-3-small": {"input_cost_per_token": 2e-08, "output_cost_per_token": 0.0,
                             "litellm_provider": "openai", "mode": "embedding"},
  "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04}
}
"""


def test_litellm_price_map_as_is(tmp_path: Path) -> None:
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(LITELLM)
    os.utime(path, (0, datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()))
    cat = load_catalog(str(path))
    prices = {(e.provider, e.model): (e.input_per_million, e.output_per_million) for e in cat.entries}
    # per token x 1,000,000, exactly: 2.5e-06 -> 2.5, 1e-05 -> 10, 5.9e-07 -> 0.59, 7.9e-07 -> 0.79;
    # the sample spec, the embedding and the image model are left out; "openai/gpt-4o" repeats gpt-4o
    assert prices == {
        ("openai", "gpt-4o"): (D("2.5"), D("10")),
        ("groq", "llama-3.3-70b-versatile"): (D("0.59"), D("0.79")),
    }
    # the map has no dates: it is as recent as the file
    assert cat.last_verified == date(2026, 11, 30)
    assert {e.source for e in cat.entries} == {LITELLM_SOURCE}
    from_cm = catalog_from_configmap({"model_prices_and_context_window.json": LITELLM}, created=date(2026, 10, 1))
    assert from_cm.last_verified == date(2026, 10, 1) and len(from_cm.entries) == 2


def test_litellm_map_with_a_bad_price_names_it(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"m": {"input_cost_per_token": -1e-06, "output_cost_per_token": 0, "litellm_provider": "x"}}')
    with pytest.raises(InvalidDataError, match=r"entries\[0\] \(x/m\).*inputPerMillion"):
        load_catalog(str(path))

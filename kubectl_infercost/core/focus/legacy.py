"""The legacy ``infercost-v1`` layout: the 44 columns the old exporter wrote.

docs/export-focus.md#legacy-infercost-v1---columns-infercost-v1 describes it.

PURE. NOT FOCUS-conformant (``x-`` prefix, pre-1.0 column names, ``1M Tokens``, provider names that
differ, ...); kept so existing imports of the old files keep working. One row per (report, period,
``byModel[i]``), or one rollup row for a period without a breakdown. Two fixes over the old tool, so
that the rows add up to the UsageReport to the micro-dollar like every other layout: costs are written
at 6 dp (the status's own precision, where the old tool rounded to 4), and idle cost kept apart gets an
idle row (plus a rollup row for cost or tokens beyond the breakdown). Tags are always valid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from ...models import CloudComparison, CostProfile, PeriodFigures, UsageReport
from ..cloud import PriceCatalog, PriceEntry, cloud_cost
from .columns import Row
from .options import ExportOptions, OnSkip, Source, whole_or_skipped
from .periods import report_periods, selected, slices_of
from .text import clean_text, single_line

_Q6 = Decimal("0.000001")
_Q2 = Decimal("0.01")


def _f6(value: Decimal) -> str:
    return format(value.quantize(_Q6, rounding=ROUND_HALF_EVEN), "f")


def shortest(value: Decimal) -> str:
    """A number in its shortest plain form: 3, 0.12, 1.3 (never an exponent)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _dt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(moment: datetime) -> tuple[str, str]:
    first = moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return _dt(first), _dt((first + timedelta(days=32)).replace(day=1))


def _best(comparisons: list[CloudComparison]) -> CloudComparison | None:
    best: CloudComparison | None = None
    for entry in comparisons:
        if best is None or entry.savings_usd > best.savings_usd:
            best = entry
    return best


def _catalog_entry(catalog: PriceCatalog | None, provider: str, model: str) -> PriceEntry | None:
    if catalog is None:
        return None
    matching = [e for e in catalog.entries if e.provider == provider and e.model == model]
    standard = [e for e in matching if e.tier == "standard"]
    chosen = standard or matching
    return chosen[0] if chosen else None


def legacy_rows(
    report: UsageReport,
    profile: CostProfile | None,
    figures: PeriodFigures,
    catalog: PriceCatalog | None,
    options: ExportOptions,
) -> Iterator[Row]:
    assert figures.period_start is not None and figures.period_end is not None
    ns = report.metadata.namespace or "default"
    name = report.metadata.name
    label = single_line(figures.period or "")
    since = report.status.accounting_since
    begin = since if since is not None and figures.period_start < since < figures.period_end else figures.period_start
    cps, cpe = _dt(begin.replace(microsecond=0)), _dt(figures.period_end.replace(microsecond=0))
    bps, bpe = _month(figures.period_start)
    hw = profile.spec.hardware if profile is not None else None
    el = profile.spec.electricity if profile is not None else None
    gpu_model = hw.gpu_model if hw is not None else None
    profile_cols = (
        clean_text(report.spec.cost_profile_ref),
        clean_text(gpu_model) if gpu_model is not None else None,
        str(hw.gpu_count) if hw is not None else None,
    )
    physics = (
        shortest(hw.amortization_years) if hw is not None else None,
        shortest(el.rate_per_kwh) if el is not None else None,
        shortest(el.pue_factor) if el is not None else None,
    )
    best = _best(figures.cloud_comparison)
    entry = _catalog_entry(catalog, best.provider, best.model) if best is not None else None
    head = (cps, cpe, bps, bpe, "USD", "On-Prem AI Inference", "AI and Machine Learning")
    head_names = ("InferCost", "Self-Hosted", "Self-Hosted")

    def cloud(cost: Decimal, in_tokens: int, out_tokens: int, rollup: bool) -> Row:
        if best is None:
            return (None, None, None, None, None)
        if rollup:
            cloud_usd: Decimal | None = best.estimated_cloud_cost_usd
        else:
            cloud_usd = cloud_cost(entry, in_tokens, out_tokens) if entry is not None else None
        if cloud_usd is None:
            return (clean_text(best.provider), clean_text(best.model), None, None, None)
        savings = cloud_usd - cost
        percent = (
            format((savings / cloud_usd * 100).quantize(_Q2, rounding=ROUND_HALF_EVEN), "f") if cloud_usd else None
        )
        return (clean_text(best.provider), clean_text(best.model), _f6(cloud_usd), _f6(savings), percent)

    def rollup(cost_usd: Decimal, in_tokens: int, out_tokens: int) -> Row:
        cost = _f6(cost_usd)
        tags = json.dumps({"costProfile": report.spec.cost_profile_ref}, separators=(",", ":"), ensure_ascii=False)
        return (
            *(cost, cost, cost, cost, *head, *head_names, f"{ns}/{name}", clean_text(name), "AI Inference Endpoint"),
            *(options.region_id, str(in_tokens + out_tokens), "Tokens", "1M Tokens"),
            *("Usage-Based", "Usage", None, f"Inference rollup for period {label} (no model breakdown)"),
            *("Usage-Based", None, None, ns, ns, tags, *profile_cols),
            *(str(in_tokens), str(out_tokens), *physics),
            *cloud(cost_usd, in_tokens, out_tokens, True),
        )

    if not figures.by_model:
        yield rollup(figures.estimated_cost_usd, figures.input_tokens, figures.output_tokens)
        return
    for item in sorted(figures.by_model, key=lambda m: (m.namespace, m.model)):
        cost = _f6(item.estimated_cost_usd)
        model = single_line(item.model)
        tags = json.dumps(
            {"report": name, "schedule": report.spec.schedule, "model": item.model, "gpuModel": gpu_model},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        yield (
            *(cost, cost, cost, cost, *head, *head_names, f"{ns}/{name}/{model}", clean_text(item.model)),
            *("AI Inference Endpoint", options.region_id, str(item.input_tokens + item.output_tokens)),
            *("Tokens", "1M Tokens", "Usage-Based", "Usage", None, f"Inference on {model} for period {label}"),
            *("Usage-Based", clean_text(item.model), clean_text(item.model), item.namespace, item.namespace, tags),
            *(*profile_cols, str(item.input_tokens), str(item.output_tokens), *physics),
            *cloud(item.estimated_cost_usd, item.input_tokens, item.output_tokens, False),
        )
    modelled = sum((m.estimated_cost_usd for m in figures.by_model), Decimal(0))
    rest = figures.estimated_cost_usd - figures.idle_cost_usd - modelled
    in_rest = max(0, figures.input_tokens - sum(m.input_tokens for m in figures.by_model))
    out_rest = max(0, figures.output_tokens - sum(m.output_tokens for m in figures.by_model))
    if rest > 0 or in_rest or out_rest:
        yield rollup(max(rest, Decimal(0)), in_rest, out_rest)
    if figures.idle_cost_usd > 0:
        cost = _f6(figures.idle_cost_usd)
        tags = json.dumps(
            {"report": name, "schedule": report.spec.schedule, "costProfile": report.spec.cost_profile_ref,
             "gpuModel": gpu_model},
            separators=(",", ":"), ensure_ascii=False,
        )  # fmt: skip
        yield (
            *(cost, cost, cost, cost, *head, *head_names, f"{ns}/{name}/idle-gpu-hours", profile_cols[0]),
            *("GPU Pool", options.region_id, shortest(figures.idle_gpu_hours), "GPU-Hours", "GPU-Hours"),
            *("Usage-Based", "Usage", None, f"Idle GPU capacity for period {label}", "Usage-Based"),
            *("idle-gpu-hours", "idle-gpu-hours", ns, ns, tags, *profile_cols, None, None, *physics),
            *(None, None, None, None, None),
        )


def build_legacy_rows(
    sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions, on_skip: OnSkip | None = None
) -> Iterator[Row]:
    """The 44-column ``infercost-v1`` rows; not FOCUS-conformant."""
    for report, profile in sources:
        if on_skip is None:
            yield from _legacy_report(report, profile, catalog, options)
        else:
            yield from whole_or_skipped(
                lambda r=report, p=profile: _legacy_report(r, p, catalog, options),  # type: ignore[misc]
                on_skip,
            )


def _legacy_report(
    report: UsageReport, profile: CostProfile | None, catalog: PriceCatalog | None, options: ExportOptions
) -> Iterator[Row]:
    where = f"UsageReport {report.metadata.namespace}/{report.metadata.name}"
    for figures, is_open in report_periods(report):
        pieces = slices_of(figures, is_open, f"{where} period {figures.period}", report.status.accounting_since)
        if pieces and any(selected(p, options.selection) for p in pieces):
            yield from legacy_rows(report, profile, figures, catalog, options)

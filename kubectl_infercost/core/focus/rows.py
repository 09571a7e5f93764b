"""FOCUS rows: the exact arithmetic, idle rows and month slices of docs/export-focus.md; legacy rows: .legacy.

PURE. The hot path works on integers in fixed units (micro = 10⁻⁶, pico = 10⁻¹²), which is both exact
and fast:

* PricingQuantity in micro-units: ``tokens`` itself (tokens ÷ 10⁶ at 6 dp), or GPU-hours rounded
  half-even to 6 dp (never below 0.000001).
* ListUnitPrice in micro-dollars: cost ÷ PricingQuantity rounded half-even, from the exact rational
  value of the cost (``Decimal.as_integer_ratio``), so there is no double rounding.
* ListCost in pico-dollars: price × quantity, an exact integer product, written with 12 decimals;
  the identity ListCost = ListUnitPrice × PricingQuantity holds exactly as written.

Everything constant per run, per report, per period or per (report, namespace, model) is formatted
once; per row only the figures that vary (costs, quantities, prices, token counts, cloud columns) are
computed and formatted, and the row is one tuple display of the 60 focus-1.3 columns.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from ...models import CostProfile, PeriodFigures, UsageReport
from ..cloud import PriceCatalog
from .charges import IDLE, Charge, charge_part, hours_micro, period_charges
from .columns import Row
from .options import ExportOptions, OnSkip, Source, whole_or_skipped
from .periods import PeriodSelection, report_periods, selected, slices_of
from .pricing import (
    MICROS_PER_UNIT,
    PICOS_PER_UNIT,
    CloudPricer,
    date_time,
    div_half_even,
    fx2,
    fx6,
    fx12,
    pricer_for,
    scaled,
    unit_price,
)
from .tags import RowPods, label_tags, pods_of_rows
from .text import UNKNOWN_MODEL, build_slug_map, clean_text, guard, model_slug, single_line

ZERO12 = "0.000000000000"

SERVICE_NAME = "On-Prem AI Inference"
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
TOKEN_UNIT = "1000000 Tokens"
GPU_HOURS = "GPU-Hours"

# ---------------------------------------------------------------------------------------------------
# per report and per period


class _Report:
    """Per-report constants, formatted once."""

    def __init__(self, report: UsageReport, profile: CostProfile | None, options: ExportOptions) -> None:
        self.namespace = report.metadata.namespace or "default"
        self.name = report.metadata.name
        self.ref = f"{self.namespace}/{self.name}"
        self.cp_name = report.spec.cost_profile_ref
        self.proportional = report.spec.idle_cost_policy == "Proportional"
        self.where = f"UsageReport {self.ref}"
        hw = profile.spec.hardware if profile is not None else None
        el = profile.spec.electricity if profile is not None else None
        self.gpu_model = hw.gpu_model if hw is not None else None
        self.gpu_count = hw.gpu_count if hw is not None else None
        self.gpu_count_text = str(hw.gpu_count) if hw is not None else None
        self.years_text = fx6(scaled(hw.amortization_years, 6)) if hw is not None else None
        self.rate_text = fx6(scaled(el.rate_per_kwh, 6)) if el is not None else None
        self.pue_text = fx6(scaled(el.pue_factor if el.pue_factor > 0 else Decimal(1), 6)) if el else None
        hourly = profile.status.hourly_cost_usd if profile is not None else None
        # Per-GPU hourly rate, for expressing a cost without tokens or measured hours in GPU-hours.
        self.per_gpu_rate = (hourly / self.gpu_count) if hourly and hourly > 0 and self.gpu_count else None
        base_tags: dict[str, object] = {
            "infercost/report": self.ref,
            "infercost/schedule": report.spec.schedule,
            "infercost/costProfile": self.cp_name,
        }
        if self.gpu_model is not None:
            base_tags["infercost/gpuModel"] = self.gpu_model
        self.base_tags = base_tags
        self.tag_cache: dict[tuple[str, str | None], str] = {}
        # Pods only matter for allowlisted keys; without keys no checkpoint is walked.
        self.row_pods: RowPods = pods_of_rows(report, options.pod_labels) if options.tag_labels else {}
        gpu_slug = model_slug(self.gpu_model or "") or "unknown"
        self.idle_sku = f"idle-gpu-hours/{gpu_slug}"
        self.idle_resource = f"{options.billing_account_id}/{self.namespace}/costprofiles/{self.cp_name}"
        guard((self.namespace, self.cp_name, self.idle_sku, self.idle_resource), self.where)

    def tags(self, namespace: str, model: str | None, options: ExportOptions) -> str:
        """Tags of the rows of (namespace, model); ``model`` None: the idle and unknown-model rows."""
        key = (namespace, model)
        text = self.tag_cache.get(key)
        if text is None:
            tags: dict[str, object] = dict(self.base_tags)
            if options.tag_labels:
                pods = self.row_pods.get((namespace, model)) if model is not None else None
                labels = label_tags(options.tag_labels, options.namespace_labels.get(namespace, {}), pods)
                for label, value in labels.items():
                    tags.setdefault(label, value)  # our infercost/ keys are never overwritten
            text = json.dumps(tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            self.tag_cache[key] = text
        return text


#: (ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart, BillingPeriodEnd, before, upto, total) of a
#: selected month slice: the slice holds seconds [before, upto) of the period's ``total``; total is 0
#: when the slice is the whole period (no proration).
Piece = tuple[str, str, str, str, int, int, int]
#: Slices depend only on (label, start, end, is_open): reports of one schedule share them.
PlanCache = dict[tuple[object, ...], tuple[str, list[Piece]]]


def _plan(
    figures: PeriodFigures,
    is_open: bool,
    since: datetime | None,
    selection: PeriodSelection,
    cache: PlanCache,
    where: str,
) -> tuple[str, list[Piece]]:
    """(label, selected slices) of a period, formatted once per distinct period."""
    key = (figures.period, figures.period_start, figures.period_end, is_open, since)
    found = cache.get(key)
    if found is not None:
        return found
    pieces = slices_of(figures, is_open, where, since)
    plan: list[Piece] = []
    before = 0
    for piece in pieces:
        if selected(piece, selection):
            plan.append(
                (
                    date_time(piece.start), date_time(piece.end), date_time(piece.billing_start),
                    date_time(piece.billing_end), before, before + piece.seconds,
                    piece.total_seconds if piece.parts > 1 else 0,
                )
            )  # fmt: skip
        before += piece.seconds
    result = (single_line(figures.period or ""), plan)
    if pieces:  # none: not accounted, or end <= start (an error for a period with usage): not cached
        cache[key] = result
    return result


# ---------------------------------------------------------------------------------------------------
# rows


def build_focus_rows(
    sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions, on_skip: OnSkip | None = None
) -> Iterator[Row]:
    """Set up eagerly (a bad ``--compare-to`` fails before anything is written), then stream the rows."""
    layout = options.layout
    assert layout.indices is not None
    project: Callable[[Row], Row] | None = None
    if len(layout.indices) != 60:
        project = operator.itemgetter(*layout.indices)
    pricer = pricer_for(catalog, options.compare_to)
    slugs = build_slug_map(
        m.model for report, _ in sources for figures, _open in report_periods(report) for m in figures.by_model
    )
    plans: PlanCache = {}
    cloud = [(a, b, clean_text(entry.provider), clean_text(entry.model)) for a, b, entry in pricer.front]
    if on_skip is None:
        # chain: each row goes straight from _report_rows to the consumer (no generator in between)
        rows: Iterator[Row] = itertools.chain.from_iterable(
            _report_rows(report, _Report(report, profile, options), options, pricer, cloud, slugs, plans)
            for report, profile in sources
        )
    else:
        rows = itertools.chain.from_iterable(
            whole_or_skipped(
                lambda r=report, p=profile: _report_rows(  # type: ignore[misc]
                    r, _Report(r, p, options), options, pricer, cloud, slugs, plans
                ),
                on_skip,
            )
            for report, profile in sources
        )
    return rows if project is None else map(project, rows)


def _report_rows(  # noqa: C901 -- the export's per-row hot loop, inlined for speed (BENCHMARKS.md, FOCUS export)
    report: UsageReport,
    ctx: _Report,
    options: ExportOptions,
    pricer: CloudPricer,
    cloud: list[tuple[int, int, str, str]],
    slugs: Mapping[str, str],
    plans: PlanCache,
) -> Iterator[Row]:
    # Constant for the whole report.
    bill_id = options.billing_account_id
    bill_name = clean_text(options.billing_account_name or bill_id)
    provider = clean_text(options.provider_name)
    region_id = options.region_id
    region_name = clean_text(options.region_name or region_id) if region_id is not None else None
    cp_x, gpu_x = clean_text(ctx.cp_name), clean_text(ctx.gpu_model) if ctx.gpu_model is not None else None
    count_x, years_x, rate_x, pue_x = ctx.gpu_count_text, ctx.years_text, ctx.rate_text, ctx.pue_text
    ur_x = clean_text(ctx.ref)
    report_ns, per_gpu_rate, proportional = ctx.namespace, ctx.per_gpu_rate, ctx.proportional
    sku_price_suffix = f"@{report_ns}/{ctx.cp_name}"
    idle_sku, idle_resource = ctx.idle_sku, ctx.idle_resource
    idle_sku_price = idle_sku + sku_price_suffix
    idle_tags = ctx.tags(report_ns, None, options)
    idle_desc = f"Idle GPU capacity, CostProfile {report_ns}/{cp_x}, "
    per_model: dict[tuple[str, str | None], tuple[str, str, str, str, str, str | None, str | None, str, str, str]] = {}
    # The cloud-equivalent choice of CloudPricer.price, inlined: the first non-dominated entry, then any
    # cheaper one (strictly, so ties keep the catalog order).
    first_cloud = cloud[0] if cloud else None
    second_cloud = cloud[1] if len(cloud) > 1 else None
    more_clouds = cloud[2:]
    multiplier, divisor = pricer.multiplier, pricer.divisor
    selection = options.selection
    since = report.status.accounting_since
    for figures, is_open in report_periods(report):
        where = f"{ctx.where} period {figures.period}"
        label, plan = _plan(figures, is_open, since, selection, plans, where)
        if not plan:
            continue
        charges = period_charges(figures, report_ns, proportional, where)
        for cps, cpe, bps, bpe, before, upto, total in plan:
            parts: list[Charge] = [charge_part(c, before, upto, total) for c in charges] if total else charges
            for kind, ns, model, inp, out, cost, hours, share in parts:
                tokens = inp + out
                if kind == IDLE:
                    if cost <= 0:
                        continue
                    billed, listed, ps, qs = _gpu_hours(cost, hours, per_gpu_rate, figures, where)
                    yield (
                        billed, billed, listed, listed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, idle_resource, qs, "GPU Pool", region_id, qs, GPU_HOURS, GPU_HOURS,
                        "Standard", "Usage", None, None, "Usage-Based", idle_sku, idle_sku_price, report_ns,
                        report_ns, idle_tags, SERVICE_SUBCATEGORY, None, idle_desc + label, bill_name, provider,
                        provider, provider, provider, provider, cp_x, region_name, "Idle GPU Hours", None, cp_x,
                        gpu_x, count_x, None, None, years_x, rate_x, pue_x, None, None, None, None, None, None,
                        ur_x, billed,
                    )  # fmt: skip
                    continue
                if tokens == 0 and cost <= 0:
                    continue
                key = (ns, model)
                cached = per_model.get(key)
                if cached is None:
                    cached = per_model[key] = (
                        *_model_strings(ns, model, slugs, bill_id, sku_price_suffix, ctx.where),
                        ctx.tags(ns, model, options),
                    )
                resource_id, sku, sku_price, gpu_sku, gpu_sku_price, name_x, model_x, token_desc, gpu_desc, tags = (
                    cached
                )
                if share is None:
                    idle_x = None
                elif share:
                    idle_x = fx12(scaled(share, 12))
                else:
                    idle_x = ZERO12
                if not tokens:
                    billed, listed, ps, qs = _gpu_hours(cost, hours, per_gpu_rate, figures, where)
                    yield (
                        billed, billed, listed, listed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, resource_id, qs, "AI Inference Endpoint", region_id, qs, GPU_HOURS,
                        GPU_HOURS, "Standard", "Usage", None, None, "Usage-Based", gpu_sku, gpu_sku_price, ns, ns,
                        tags, SERVICE_SUBCATEGORY, None, gpu_desc + label, bill_name,
                        provider, provider, provider, provider, provider, name_x, region_name, "GPU Hours", None,
                        cp_x, gpu_x, count_x, "0", "0", years_x, rate_x, pue_x, None, None, None, None, None,
                        model_x, ur_x, idle_x,
                    )  # fmt: skip
                    continue
                # BilledCost: the attributed cost itself, in pico-dollars (exact: costs have at most 12 dp)
                num, den = cost.as_integer_ratio()
                billed_pico, rest = divmod(num * PICOS_PER_UNIT, den)
                if rest:
                    billed_pico = div_half_even(num * PICOS_PER_UNIT, den)
                # ListUnitPrice = cost / (tokens / 10^6) in micro-dollars, half-even (unit_price, inlined);
                # ListCost = ListUnitPrice x PricingQuantity exactly
                price, rest = divmod(billed_pico, tokens)
                rest += rest
                if rest > tokens or (rest == tokens and price & 1):
                    price += 1
                list_pico = price * tokens
                # fixed-point text by slicing digits (fx12 / fx6 inlined for the common magnitudes)
                if billed_pico >= PICOS_PER_UNIT:
                    text = str(billed_pico)
                    billed = f"{text[:-12]}.{text[-12:]}"
                else:
                    billed = fx12(billed_pico)
                if list_pico == billed_pico:
                    listed = billed
                elif list_pico >= PICOS_PER_UNIT:
                    text = str(list_pico)
                    listed = f"{text[:-12]}.{text[-12:]}"
                else:
                    listed = fx12(list_pico)
                if price >= MICROS_PER_UNIT:
                    text = str(price)
                    ps = f"{text[:-6]}.{text[-6:]}"
                else:
                    ps = fx6(price)
                digits = str(tokens)
                qs = f"{digits[:-6]}.{digits[-6:]}" if tokens >= MICROS_PER_UNIT else fx6(tokens)
                if first_cloud is None:
                    c_prov = c_model = c_cost = c_sav = c_pct = None
                else:
                    a, b, c_prov, c_model = first_cloud
                    value = inp * a + out * b
                    if second_cloud is not None:  # the usual catalog has two non-dominated entries
                        a, b, other_prov, other_model = second_cloud
                        other = inp * a + out * b
                        if other < value:
                            value, c_prov, c_model = other, other_prov, other_model
                        for a, b, other_prov, other_model in more_clouds:
                            other = inp * a + out * b
                            if other < value:
                                value, c_prov, c_model = other, other_prov, other_model
                    cost_pico = value * multiplier if multiplier is not None else div_half_even(value, divisor)
                    saving = cost_pico - billed_pico
                    if cost_pico >= PICOS_PER_UNIT:
                        text = str(cost_pico)
                        c_cost = f"{text[:-12]}.{text[-12:]}"
                    else:
                        c_cost = "0." + str(cost_pico + PICOS_PER_UNIT)[1:]
                    if saving >= PICOS_PER_UNIT or saving <= -PICOS_PER_UNIT:
                        text = str(saving)
                        c_sav = f"{text[:-12]}.{text[-12:]}"
                    else:
                        c_sav = fx12(saving)
                    if cost_pico:
                        # savings percent, half-even to 2 dp (div_half_even and fx2, inlined)
                        pct, rest = divmod(saving * 10000, cost_pico)
                        rest += rest
                        if rest > cost_pico or (rest == cost_pico and pct & 1):
                            pct += 1
                        if pct >= 100 or pct <= -100:
                            text = str(pct)
                            c_pct = f"{text[:-2]}.{text[-2:]}"
                        else:
                            c_pct = fx2(pct)
                    else:
                        c_pct = None
                yield (
                    billed, billed, listed, listed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                    bill_id, ps, ps, resource_id, qs, "AI Inference Endpoint", region_id, digits + ".000000",
                    "Tokens", TOKEN_UNIT, "Standard", "Usage", None, None, "Usage-Based", sku, sku_price, ns, ns,
                    tags, SERVICE_SUBCATEGORY, None, token_desc + label, bill_name,
                    provider, provider, provider, provider, provider, name_x, region_name, "Tokens", None, cp_x,
                    gpu_x, count_x, str(inp), str(out), years_x, rate_x, pue_x,
                    c_prov, c_model, c_cost, c_sav, c_pct, model_x, ur_x, idle_x,
                )  # fmt: skip


def _gpu_hours(
    cost: Decimal, hours: Decimal | None, per_gpu_rate: Decimal | None, figures: PeriodFigures, where: str
) -> tuple[str, str, str, str]:
    """BilledCost, ListCost, ListUnitPrice and PricingQuantity of a charge priced in GPU-hours."""
    quantity = hours_micro(cost, hours, per_gpu_rate, figures, where)
    price = unit_price(cost, quantity)
    return fx12(scaled(cost, 12)), fx12(price * quantity), fx6(price), fx6(quantity)


def _model_strings(
    ns: str, model: str | None, slugs: Mapping[str, str], bill_id: str, sku_price_suffix: str, where: str
) -> tuple[str, str, str, str, str, str | None, str | None, str, str]:
    """ResourceId, SkuId and SkuPriceId (tokens, GPU time), ResourceName, x_InferModelName, descriptions.

    GPU time without tokens is its own SKU (``<slug>/gpu-hours``), so that every SkuPriceId keeps one
    PricingUnit and one SkuMeter over time. The descriptions end with ``", "``: the row adds the period.
    """
    if model is None:
        slug, name_x, model_x = UNKNOWN_MODEL, UNKNOWN_MODEL, None
        shown = f"{UNKNOWN_MODEL} (no per-model breakdown)"
    else:
        slug = slugs.get(model) or build_slug_map([model])[model]
        name_x = model_x = clean_text(model)
        shown = single_line(model)
    resource_id = f"{bill_id}/{ns}/models/{slug}"
    sku_price = slug + sku_price_suffix
    gpu_sku = f"{slug}/gpu-hours"
    guard((ns, resource_id, slug, sku_price), f"{where} byModel namespace {ns!r}")
    return (
        resource_id,
        slug,
        sku_price,
        gpu_sku,
        gpu_sku + sku_price_suffix,
        name_x,
        model_x,
        f"LLM inference tokens, {shown} in namespace {ns}, ",
        f"GPU time without tokens, {shown} in namespace {ns}, ",
    )

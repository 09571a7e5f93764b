"""FOCUS rows: the exact arithmetic of focus.md §3.3, idle rows (§3.4) and month slices; legacy rows: focus_legacy.

PURE. The hot path works on integers in fixed units (micro = 10⁻⁶, pico = 10⁻¹²), which is both exact
and fast:

* PricingQuantity in micro-units: ``tokens`` itself (tokens ÷ 10⁶ at 6 dp), or GPU-hours rounded
  half-even to 6 dp (never below 0.000001).
* ListUnitPrice in micro-dollars: cost ÷ PricingQuantity rounded half-even, from the exact rational
  value of the cost (``Decimal.as_integer_ratio``), so there is no double rounding.
* ListCost in pico-dollars: price × quantity, an exact integer product, written with 12 decimals;
  the identity ListCost = ListUnitPrice × PricingQuantity holds exactly as written.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

from ..errors import InvalidDataError
from ..models import CostProfile, PeriodFigures, UsageReport
from .cloud import PriceCatalog
from .focus import (
    UNKNOWN_MODEL,
    ExportOptions,
    Source,
    build_slug_map,
    clean_text,
    guard,
    model_slug,
    report_periods,
    selected,
    single_line,
    slices_of,
)
from .focus_columns import Row
from .focus_legacy import legacy_rows
from .focus_pricing import (
    MICRO,
    PICO,
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

_CTX = Context(prec=60, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)
ZERO12 = "0.000000000000"

SERVICE_NAME = "On-Prem AI Inference"
SERVICE_CATEGORY = "AI and Machine Learning"
SERVICE_SUBCATEGORY = "Generative AI"
TOKEN_UNIT = "1000000 Tokens"
GPU_HOURS = "GPU-Hours"

# ---------------------------------------------------------------------------------------------------
# charges: what a period holds, before formatting

MODEL, UNKNOWN, IDLE = 0, 1, 2


@dataclass(slots=True)
class Charge:
    kind: int  # MODEL, UNKNOWN (no per-model breakdown) or IDLE
    namespace: str
    model: str | None
    input_tokens: int
    output_tokens: int
    cost: Decimal
    hours: Decimal | None  # GPU-hours that carry the cost when there are no tokens
    idle_share: Decimal | None  # x_InferIdleCost on token rows (Proportional); None = unknown

    def part(self, before: int, upto: int, total: int) -> Charge:
        """The share of seconds [before, upto) of ``total``; cumulative rounding, so parts add up."""

        def ints(value: int) -> int:
            return div_half_even(value * upto, total) - div_half_even(value * before, total)

        def decs(value: Decimal | None) -> Decimal | None:
            if value is None:
                return None
            return _CTX.subtract(
                _CTX.divide(_CTX.multiply(value, Decimal(upto)), Decimal(total)),
                _CTX.divide(_CTX.multiply(value, Decimal(before)), Decimal(total)),
            )

        cost = decs(self.cost)
        assert cost is not None
        return Charge(
            self.kind,
            self.namespace,
            self.model,
            ints(self.input_tokens),
            ints(self.output_tokens),
            cost,
            decs(self.hours),
            decs(self.idle_share),
        )


def _nonnegative(value: Decimal, what: str, where: str) -> Decimal:
    if value < 0:
        raise InvalidDataError(f"{where}: {what} is negative ({value})")
    return value


def period_charges(figures: PeriodFigures, report_namespace: str, proportional: bool, where: str) -> list[Charge]:
    """Model rows (merged by namespace and model, sorted), the unknown-model residual, the idle charge.

    The residual is what the period holds beyond Σ byModel and idle: tokens without a per-model
    breakdown, or cost without one (a report with no breakdown at all gives one rollup charge).
    Cost residuals within the 6-dp rounding of the stored figures (10⁻⁶ per entry) are noise.
    Under ``Proportional`` a model's idle share is ``byModel[].idleCostUSD`` (None if not recorded);
    under ``Separate`` it is 0.
    """
    merged: dict[tuple[str, str], Charge] = {}
    in_sum = out_sum = 0
    cost_sum = _ZERO
    for entry in figures.by_model:
        cost = entry.estimated_cost_usd
        if cost < 0:
            raise InvalidDataError(f"{where}: byModel {entry.model!r} estimatedCostUSD is negative ({cost})")
        share = entry.idle_cost_usd if proportional else _ZERO
        in_sum += entry.input_tokens
        out_sum += entry.output_tokens
        cost_sum += cost
        key = (entry.namespace, entry.model)
        charge = merged.get(key)
        if charge is None:
            merged[key] = Charge(
                MODEL, entry.namespace, entry.model, entry.input_tokens, entry.output_tokens, cost, entry.gpu_hours,
                share,
            )  # fmt: skip
        else:
            charge.input_tokens += entry.input_tokens
            charge.output_tokens += entry.output_tokens
            charge.cost += cost
            if entry.gpu_hours is not None:
                charge.hours = (charge.hours or _ZERO) + entry.gpu_hours
            charge.idle_share = None if share is None or charge.idle_share is None else charge.idle_share + share
    charges = [merged[key] for key in sorted(merged)]
    total = _nonnegative(figures.estimated_cost_usd, "estimatedCostUSD", where)
    idle = _nonnegative(figures.idle_cost_usd, "idleCostUSD", where)
    in_rest = max(0, figures.input_tokens - in_sum)
    out_rest = max(0, figures.output_tokens - out_sum)
    cost_rest = total - idle - cost_sum
    if in_rest or out_rest or cost_rest > Decimal(len(charges) + 1).scaleb(-6):
        modelled_hours = sum((c.hours or _ZERO for c in charges), _ZERO)
        rest_hours = figures.gpu_hours - figures.idle_gpu_hours - modelled_hours
        charges.append(
            Charge(
                UNKNOWN, report_namespace, None, in_rest, out_rest, max(cost_rest, _ZERO),
                rest_hours if rest_hours > 0 else None, _ZERO if not proportional else None,
            )
        )  # fmt: skip
    if idle > 0:
        hours = _nonnegative(figures.idle_gpu_hours, "idleGpuHours", where)
        charges.append(Charge(IDLE, report_namespace, None, 0, 0, idle, hours or None, None))
    return charges


# ---------------------------------------------------------------------------------------------------
# rows


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
        self.tag_cache: dict[str, str] = {}
        gpu_slug = model_slug(self.gpu_model or "") or "unknown"
        self.idle_sku = f"idle-gpu-hours/{gpu_slug}"
        self.idle_resource = f"{options.billing_account_id}/{self.namespace}/costprofiles/{self.cp_name}"
        guard((self.namespace, self.cp_name, self.idle_sku, self.idle_resource), self.where)

    def tags(self, namespace: str, options: ExportOptions) -> str:
        text = self.tag_cache.get(namespace)
        if text is None:
            tags = dict(self.base_tags)
            labels = options.namespace_labels.get(namespace, {})
            for key in options.tag_labels:
                if key in labels and key not in tags:
                    tags[key] = labels[key] if labels[key] != "" else True
            text = json.dumps(tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            self.tag_cache[namespace] = text
        return text


def _hours_for(charge: Charge, figures: PeriodFigures, report: _Report, where: str) -> int:
    """GPU-hours (micro) carrying a cost without tokens: measured hours, else cost ÷ a per-GPU rate.

    The rate is the CostProfile's hourlyCostUSD ÷ gpuCount, else the period's own average
    (estimatedCostUSD ÷ gpuHours). Never below 0.000001, so a unit price always exists.
    """
    if charge.hours is not None and charge.hours > 0:
        hours = charge.hours
    elif report.per_gpu_rate is not None:
        hours = _CTX.divide(charge.cost, report.per_gpu_rate)
    elif figures.gpu_hours > 0 and figures.estimated_cost_usd > 0:
        hours = _CTX.divide(_CTX.multiply(charge.cost, figures.gpu_hours), figures.estimated_cost_usd)
    else:
        raise InvalidDataError(
            f"{where}: cost {charge.cost} without tokens or GPU-hours, and no CostProfile rate to express it"
        )
    return max(1, scaled(hours, 6))


def build_focus_rows(sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions) -> Iterator[Row]:
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
    return _rows(sources, options, pricer, slugs, project)


def _rows(
    sources: Sequence[Source],
    options: ExportOptions,
    pricer: CloudPricer,
    slugs: Mapping[str, str],
    project: Callable[[Row], Row] | None,
) -> Iterator[Row]:
    for report, profile in sources:
        ctx = _Report(report, profile, options)
        rows = _report_rows(report, ctx, options, pricer, slugs)
        if project is None:
            yield from rows
        else:
            yield from map(project, rows)


def _report_rows(
    report: UsageReport, ctx: _Report, options: ExportOptions, pricer: CloudPricer, slugs: Mapping[str, str]
) -> Iterator[Row]:
    bill_id = options.billing_account_id
    bill_name = clean_text(options.billing_account_name or bill_id)
    provider = clean_text(options.provider_name)
    region_id = options.region_id
    region_name = clean_text(options.region_name or region_id) if region_id is not None else None
    cp_x, gpu_x = clean_text(ctx.cp_name), clean_text(ctx.gpu_model) if ctx.gpu_model is not None else None
    count_x, years_x, rate_x, pue_x = ctx.gpu_count_text, ctx.years_text, ctx.rate_text, ctx.pue_text
    ur_x = clean_text(ctx.ref)
    sku_price_suffix = f"@{ctx.namespace}/{ctx.cp_name}"
    per_model: dict[tuple[str, str | None], tuple[str, str, str, str | None, str | None, str, str, str]] = {}
    cloud_names: dict[int, tuple[str, str]] = {}  # by id(): entries live in the pricer
    idle_sku_price = ctx.idle_sku + sku_price_suffix
    for figures, is_open in report_periods(report):
        where = f"{ctx.where} period {figures.period}"
        pieces = slices_of(figures, is_open, where)
        chosen = [p for p in pieces if selected(p, options.selection)]
        if not chosen:
            continue
        charges = period_charges(figures, ctx.namespace, ctx.proportional, where)
        label = single_line(figures.period or "")
        offset = 0
        offsets = {}
        for piece in pieces:
            offsets[piece.part] = offset
            offset += piece.seconds
        for piece in chosen:
            cps, cpe = date_time(piece.start), date_time(piece.end)
            bps, bpe = date_time(piece.billing_start), date_time(piece.billing_end)
            before = offsets[piece.part]
            for whole in charges:
                charge = whole if piece.parts == 1 else whole.part(before, before + piece.seconds, piece.total_seconds)
                tokens = charge.input_tokens + charge.output_tokens
                if charge.kind == IDLE:
                    if charge.cost <= 0:
                        continue
                    qm = _hours_for(charge, figures, ctx, where)
                    price = unit_price(charge.cost, qm)
                    billed = fx12(price * qm)
                    ps, qs = fx6(price), fx6(qm)
                    yield (
                        billed, billed, billed, billed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, ctx.idle_resource, qs, "GPU Pool", region_id, qs, GPU_HOURS, GPU_HOURS,
                        "Standard", "Usage", None, None, "Usage-Based", ctx.idle_sku, idle_sku_price, ctx.namespace,
                        ctx.namespace, ctx.tags(ctx.namespace, options), SERVICE_SUBCATEGORY, None,
                        f"Idle GPU capacity, CostProfile {ctx.namespace}/{cp_x}, {label}", bill_name, provider,
                        provider, provider, provider, provider, cp_x, region_name, "Idle GPU Hours", None, cp_x,
                        gpu_x, count_x, None, None, years_x, rate_x, pue_x, None, None, None, None, None, None,
                        ur_x, billed,
                    )  # fmt: skip
                    continue
                if tokens == 0 and charge.cost <= 0:
                    continue
                key = (charge.namespace, charge.model)
                cached = per_model.get(key)
                if cached is None:
                    cached = (
                        *_model_strings(charge, slugs, bill_id, sku_price_suffix, ctx.where),
                        ctx.tags(charge.namespace, options),
                    )
                    per_model[key] = cached
                resource_id, sku, sku_price, name_x, model_x, token_desc, gpu_desc, tags = cached
                ns = charge.namespace
                share = charge.idle_share
                idle_x = ZERO12 if share is not None and not share else (fx12(scaled(share, 12)) if share else None)
                if tokens:
                    # price = cost / (tokens / 10^6) in micro-dollars, half-even (inlined unit_price)
                    num, den = charge.cost.as_integer_ratio()
                    den *= tokens
                    price, rest = divmod(num * PICO, den)
                    if 2 * rest > den or (2 * rest == den and price & 1):
                        price += 1
                    billed_pico = price * tokens
                    units, frac = divmod(billed_pico, PICO)
                    billed = f"{units}.{frac:012d}"
                    units, frac = divmod(price, MICRO)
                    ps = f"{units}.{frac:06d}"
                    units, frac = divmod(tokens, MICRO)
                    qs = f"{units}.{frac:06d}"
                    found = pricer.price(charge.input_tokens, charge.output_tokens)
                    if found is None:
                        c_prov = c_model = c_cost = c_sav = c_pct = None
                    else:
                        entry, cloud = found
                        names = cloud_names.get(id(entry))
                        if names is None:
                            names = cloud_names[id(entry)] = (clean_text(entry.provider), clean_text(entry.model))
                        c_prov, c_model = names
                        saving = cloud - billed_pico
                        c_cost, c_sav = fx12(cloud), fx12(saving)
                        c_pct = fx2(div_half_even(saving * 10000, cloud)) if cloud else None
                    yield (
                        billed, billed, billed, billed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, resource_id, qs, "AI Inference Endpoint", region_id, f"{tokens}.000000",
                        "Tokens", TOKEN_UNIT, "Standard", "Usage", None, None, "Usage-Based", sku, sku_price, ns, ns,
                        tags, SERVICE_SUBCATEGORY, None, f"{token_desc}, {label}", bill_name,
                        provider, provider, provider, provider, provider, name_x, region_name, "Tokens", None, cp_x,
                        gpu_x, count_x, str(charge.input_tokens), str(charge.output_tokens), years_x, rate_x, pue_x,
                        c_prov, c_model, c_cost, c_sav, c_pct, model_x, ur_x, idle_x,
                    )  # fmt: skip
                else:
                    qm = _hours_for(charge, figures, ctx, where)
                    price = unit_price(charge.cost, qm)
                    billed = fx12(price * qm)
                    ps, qs = fx6(price), fx6(qm)
                    yield (
                        billed, billed, billed, billed, cps, cpe, bps, bpe, "USD", SERVICE_NAME, SERVICE_CATEGORY,
                        bill_id, ps, ps, resource_id, qs, "AI Inference Endpoint", region_id, qs, GPU_HOURS,
                        GPU_HOURS, "Standard", "Usage", None, None, "Usage-Based", sku, sku_price, ns, ns,
                        tags, SERVICE_SUBCATEGORY, None, f"{gpu_desc}, {label}", bill_name,
                        provider, provider, provider, provider, provider, name_x, region_name, "GPU Hours", None,
                        cp_x, gpu_x, count_x, "0", "0", years_x, rate_x, pue_x, None, None, None, None, None,
                        model_x, ur_x, idle_x,
                    )  # fmt: skip


def _model_strings(
    charge: Charge, slugs: Mapping[str, str], bill_id: str, sku_price_suffix: str, where: str
) -> tuple[str, str, str, str | None, str | None, str, str]:
    """ResourceId, SkuId, SkuPriceId, ResourceName, x_InferModelName and descriptions of a row's model."""
    ns = charge.namespace
    if charge.model is None:
        slug, name_x, model_x = UNKNOWN_MODEL, UNKNOWN_MODEL, None
        shown = f"{UNKNOWN_MODEL} (no per-model breakdown)"
    else:
        slug = slugs.get(charge.model) or build_slug_map([charge.model])[charge.model]
        name_x = model_x = clean_text(charge.model)
        shown = single_line(charge.model)
    resource_id = f"{bill_id}/{ns}/models/{slug}"
    sku_price = slug + sku_price_suffix
    guard((ns, resource_id, slug, sku_price), f"{where} namespace {ns!r}")
    return (
        resource_id,
        slug,
        sku_price,
        name_x,
        model_x,
        f"LLM inference tokens, {shown} in namespace {ns}",
        f"GPU time without tokens, {shown} in namespace {ns}",
    )


def build_legacy_rows(sources: Sequence[Source], catalog: PriceCatalog | None, options: ExportOptions) -> Iterator[Row]:
    """The 44-column ``infercost-v1`` rows (focus.md §4.2); not FOCUS-conformant."""
    for report, profile in sources:
        for figures, is_open in report_periods(report):
            pieces = slices_of(figures, is_open, f"UsageReport {report.metadata.name} period {figures.period}")
            if pieces and any(selected(p, options.selection) for p in pieces):
                yield from legacy_rows(report, profile, figures, catalog, options)

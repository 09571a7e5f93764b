"""The board report as a document (sections of plain words, figures and tables), for HTML and PDF alike.

Every printed figure is a :class:`Fig`: its exact value, the key a reader (or test) can find it by,
and its text — money ``$1,234.57``, rates ``$14.7931``, percentages ``12.5%`` — formatted once here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from ..core.board import HOURS_PER_MONTH, Board, Change
from .tables import MISSING, format_value, timestamp

FigureFormat = Literal["money", "rate", "percent", "tokens", "number", "int", "delta", "deltapercent"]


def money(value: Decimal, places: int = 2) -> str:
    from .tables import money as table_money

    return table_money(value, places)


def rate(value: Decimal) -> str:
    return format_value(value, "rate")


def percent(value: Decimal | None) -> str:
    return format_value(value, "percent")


def arrow(delta: Decimal) -> str:
    return "▲" if delta > 0 else "▼" if delta < 0 else "="


@dataclass(frozen=True)
class Fig:
    key: str
    value: Decimal | int | None
    kind: FigureFormat
    missing: str = MISSING

    @property
    def text(self) -> str:
        v = self.value
        if v is None:
            return self.missing
        if self.kind == "delta":
            return f"{arrow(Decimal(v))} {money(abs(Decimal(v)))}"
        if self.kind == "deltapercent":
            return f"{'+' if v > 0 else ''}{percent(Decimal(v))}"
        return format_value(v, self.kind)


Segment = str | Fig
Cell = str | Fig


@dataclass(frozen=True)
class Card:
    title: str
    figure: Fig
    caption: list[Segment]


@dataclass
class Section:
    title: str
    paragraphs: list[list[Segment]] = field(default_factory=list)
    chart: str | None = None  # a function name of board_charts
    chart_height: float = 2.6  # inches, in the PDF
    headers: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    numeric: list[bool] = field(default_factory=list)  # right-aligned columns


@dataclass
class Document:
    title: str
    subtitle: str
    cards: list[Card]
    sections: list[Section]
    generated: datetime


def _change_words(ch: Change | None, key: str, against: str) -> list[Segment]:
    if ch is None:
        return [f"There is no data for the previous range ({against}) to compare with."]
    words: list[Segment] = ["That is ", Fig(f"{key}.delta", ch.delta, "delta")]
    if ch.percent is not None:
        words += [" (", Fig(f"{key}.percent", ch.percent, "deltapercent"), ")"]
    return [*words, f" against {against} (", Fig(f"{key}.previous", ch.previous, "money"), ")."]


def _coverage(board: Board) -> list[Segment]:
    """Say so when the previous range's data starts late: its spend covers less time than the range's."""
    prev = board.previous
    if prev is None or prev.first_start is None or prev.first_start <= board.previous_range.start:
        return []
    return [f" Data for {board.previous_range.label} starts only at {timestamp(prev.first_start)}, so it covers "
            "less time than this range."]  # fmt: skip


def _summary(board: Board) -> tuple[list[Card], list[list[Segment]]]:
    t, rng = board.totals, board.range
    spend = Fig("spend", t.spend, "money")
    cards = [Card("Inference spend", spend, [rng.label])]
    if board.change is not None:
        fig = Fig("change.percent", board.change.percent, "deltapercent")
        if board.change.percent is None:
            fig = Fig("change.delta", board.change.delta, "delta")
        cards.append(Card("Change", fig, [f"vs {board.previous_range.label}"]))
    else:
        cards.append(
            Card("Change", Fig("change.none", None, "money", "n/a"), [f"no data for {board.previous_range.label}"])
        )
    if board.cloud is not None:
        c = board.cloud
        if c.savings >= 0:
            cards.append(Card("Saved vs cloud API", Fig("cloud.savings", c.savings, "money"), [f"vs {c.entry.model}"]))
        else:
            cards.append(Card("Extra vs cloud API", Fig("cloud.extra", -c.savings, "money"), [f"vs {c.entry.model}"]))
    cards.append(
        Card(
            "Idle GPU cost", Fig("idle", t.idle, "money"), [Fig("idle.percent", t.idle_percent, "percent"), " of spend"]
        )
    )
    if not board.has_data:
        return cards, [
            [
                "There is no accounted data in this range yet: once kubectl infercost reconcile runs on a "
                "schedule, this report fills in.",
            ]
        ]

    words: list[list[Segment]] = [
        [
            "Inference cost ",
            spend,
            f" in {rng.label}, ",
            Fig("tokens", t.tokens, "tokens"),
            " tokens at ",
            Fig("perMillion", board.per_million, "rate"),
            " per million tokens.",
        ],
        _change_words(board.change, "change", board.previous_range.label) + _coverage(board),
    ]
    if board.cloud is not None:
        c = board.cloud
        name = f"{c.entry.provider}/{c.entry.model}"
        basis = "" if c.chosen else " (the cheapest model in the price catalog for this token mix)"
        line: list[Segment] = [
            "The same tokens at ",
            name,
            basis,
            " list prices would have cost ",
            Fig("cloud.cost", c.cost, "money"),
            ": ",
        ]
        if c.savings >= 0:
            line += [
                "running them on-prem saved ",
                Fig("cloud.savings", c.savings, "money"),
                " (",
                Fig("cloud.savingsPercent", c.savings_percent, "percent"),
                ").",
            ]
        else:
            line += ["on-prem cost ", Fig("cloud.extra", -c.savings, "money"), " more."]
        words.append(line)
    words.append(
        [
            "Idle GPUs cost ",
            Fig("idle", t.idle, "money"),
            " (",
            Fig("idle.percent", t.idle_percent, "percent"),
            " of spend): the waste-recovery opportunity.",
        ]
    )
    if board.projected_spend is not None:
        words.append(
            [
                "Data runs to ",
                timestamp(t.last_end) if t.last_end else MISSING,
                "; at the current rate ",
                rng.label,
                " ends at ",
                Fig("projected", board.projected_spend, "money"),
                ".",
            ]
        )
    return cards, words


def _namespaces(board: Board) -> Section:
    sec = Section(
        "Spend by namespace", chart="namespace_bars", chart_height=max(1.6, 0.32 * len(board.namespaces[:10]) + 0.8)
    )
    has_prev = board.previous is not None
    sec.headers = ["Namespace", "Spend", "Share", "Tokens", *(["Previous", "Change", "Change %"] if has_prev else [])]
    sec.numeric = [False, True, True, True, True, True, True]
    for r in board.namespaces:
        k = f"ns.{r.namespace}"
        row: list[Cell] = [
            r.namespace,
            Fig(f"{k}.spend", r.spend, "money"),
            Fig(f"{k}.share", r.share_percent, "percent"),
            Fig(f"{k}.tokens", r.tokens, "tokens"),
        ]
        if r.change is not None:
            row += [
                Fig(f"{k}.previous", r.change.previous, "money"),
                Fig(f"{k}.delta", r.change.delta, "delta"),
                Fig(f"{k}.percent", r.change.percent, "deltapercent", "new"),
            ]
        sec.rows.append(row)
    note = "Idle GPU time is not a namespace: the shares leave the idle share out."
    sec.paragraphs.append([note] if has_prev else [note, " No previous range: no change arrows."])
    return sec


def _trend(board: Board) -> Section:
    sec = Section("Spend trend", chart="trend_line", chart_height=2.4)
    if len([p for p in board.trend if p.schedule == board.trend[0].schedule]) == 1:
        sec.paragraphs.append(["Only one period is accounted so far: the trend fills in as periods close."])
    elif board.trend:
        sched = board.trend[0].schedule
        sec.paragraphs.append(
            [
                f"Spend per {sched} period over the kept history; shaded: this range; hollow "
                "dot: the current period, still open."
            ]
        )
    return sec


def _idle(board: Board) -> Section:
    t = board.totals
    sec = Section("Allocated vs idle", chart="idle_donut", chart_height=2.4)
    sec.headers, sec.numeric = ["", "Cost", "Share"], [False, True, True]
    alloc_share = (Decimal(100) - t.idle_percent) if t.spend else Decimal(0)
    sec.rows = [
        [
            "Allocated to models",
            Fig("allocated", t.allocated, "money"),
            Fig("allocated.percent", alloc_share, "percent"),
        ],
        ["Idle GPUs", Fig("idle", t.idle, "money"), Fig("idle.percent", t.idle_percent, "percent")],
    ]
    return sec


def _prices(board: Board) -> Section:
    sec = Section(
        "Cost per million tokens",
        chart="price_bars",
        chart_height=max(1.8, 0.2 * (len(board.models) + len(board.cloud_prices)) + 0.6),
    )
    sec.paragraphs.append(
        [
            "On-prem models (dark) against every model of the cloud price catalog (grey) at this "
            "range's input/output mix. A model's on-prem cost leaves idle GPU time out."
        ]
    )
    sec.headers = ["Model", "Priced", "Tokens", "Cost", "$/1M tokens"]
    sec.numeric = [False, False, True, True, True]
    for m in board.models:
        k = f"model.{m.model}"
        tokens, cost = Fig(f"{k}.tokens", m.tokens, "tokens"), Fig(f"{k}.spend", m.spend, "money")
        sec.rows.append([m.model, "on-prem", tokens, cost, Fig(f"{k}.perMillion", m.per_million, "rate")])
    for c in board.cloud_prices:
        e = c.entry
        k = f"cloud.{e.provider}/{e.model}/{e.tier}"
        tokens = Fig("tokens", board.totals.tokens, "tokens")
        row: list[Cell] = [f"{e.provider}/{e.model}", "list price", tokens, Fig(f"{k}.cost", c.cost, "money")]
        sec.rows.append([*row, Fig(f"{k}.perMillion", c.per_million, "rate")])
    return sec


def _budgets(board: Board) -> Section:
    reconciled = [b for b in board.budgets if b.utilization is not None]
    sec = Section("Budgets and month-end run-rate", chart_height=max(1.4, 0.4 * len(reconciled[:10]) + 0.6))
    if not board.budgets:
        sec.paragraphs.append(["No TokenBudget yet: give each team a monthly limit and this section shows its "
                               "spend, its alert thresholds and where the month is heading."])  # fmt: skip
        return sec
    sec.chart = "budget_bars" if reconciled else None
    sec.paragraphs.append(
        [
            "Month-to-date spend of each TokenBudget as last reconciled; ticks: alert thresholds; "
            "diamond: the month-end projection at the month-to-date rate."
        ]
    )
    sec.headers = ["Team", "Budget", "Spent", "Used", "Month-end (est.)", "Of budget", "State"]
    sec.numeric = [False, True, True, True, True, True, False]
    for b in board.budgets:
        k = f"budget.{b.namespace}/{b.name}"
        sec.rows.append(
            [
                f"{b.scope} ({b.name})",
                Fig(f"{k}.limit", b.limit, "money"),
                Fig(f"{k}.spend", b.spend, "money"),
                Fig(f"{k}.utilization", b.utilization, "percent"),
                Fig(f"{k}.projected", b.projected, "money"),
                Fig(f"{k}.projectedPercent", b.projected_utilization, "percent"),
                b.state,
            ]
        )
    return sec


def _efficiency(board: Board) -> Section:
    sec = Section("Model efficiency")
    rate_fig = board.fleet_tokens_per_gpu_hour
    if rate_fig is None:
        sec.paragraphs.append(
            [
                "Needs GPU ownership (DCGM pod mapping or nvidia.com/gpu limits): without it cost is "
                "split by tokens and every model looks alike."
            ]
        )
        return sec
    sec.paragraphs.append(
        [
            "Models whose share of GPU-hours is at least twice their share of tokens. The fleet served ",
            Fig("fleetRate", rate_fig, "number"),
            " tokens per GPU-hour. Estimate: if a model's tokens "
            "were served at that rate, the excess GPU-hours could be consolidated away; the saving is "
            "that excess at the model's cost per GPU-hour, scaled to a month of ",
            Fig("hoursPerMonth", HOURS_PER_MONTH, "int"),
            " hours. It assumes "
            "throughput grows linearly with load and ignores model size (a larger model is slower per "
            "token): read it as a question for the platform team, not a verdict.",
        ]
    )
    if not board.efficiency:
        sec.paragraphs.append(["No model's GPU share is twice its token share in this range."])
        return sec
    sec.headers = ["Namespace", "Model", "GPU-hours", "GPU share", "Token share", "Excess GPU-h", "Saving / month"]
    sec.numeric = [False, False, True, True, True, True, True]
    for e in board.efficiency:
        k = f"eff.{e.namespace}/{e.model}"
        sec.rows.append(
            [
                e.namespace,
                e.model,
                Fig(f"{k}.gpuHours", e.gpu_hours, "number"),
                Fig(f"{k}.gpuShare", e.gpu_share, "percent"),
                Fig(f"{k}.tokenShare", e.token_share, "percent"),
                Fig(f"{k}.excess", e.excess_gpu_hours, "number"),
                Fig(f"{k}.saving", e.monthly_saving, "money"),
            ]
        )
    return sec


def _notes(board: Board, catalog_note: list[Segment] | None) -> Section:
    sec = Section("How these numbers are made")
    sec.paragraphs.append(
        [
            "Counted: " + (", ".join(board.reports) or "no UsageReport") + ". A period counts in the "
            "range that contains its start; money is amortized purchase price, maintenance and "
            "electricity (PUE included), idle GPU time included in spend."
        ]
    )
    for skipped, instead in board.skipped:
        sec.paragraphs.append([f"Not counted: {skipped}, it measures the same GPUs as {instead}."])
    if catalog_note:
        sec.paragraphs.append(catalog_note)
    return sec


def generated_text(doc: Document) -> str:
    return doc.generated.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def document(board: Board, scope: str, generated: datetime, catalog_note: list[Segment] | None = None) -> Document:
    cards, summary = _summary(board)
    sections: Sequence[Section] = [Section("Executive summary", paragraphs=summary)]
    if board.has_data:
        sections = [*sections, _namespaces(board), _trend(board), _idle(board), _prices(board)]
    sections = [*sections, _budgets(board)]
    if board.has_data:
        sections = [*sections, _efficiency(board)]
    sections = [*sections, _notes(board, catalog_note)]
    return Document(f"Inference spend: {board.range.label}", scope, cards, list(sections), generated)

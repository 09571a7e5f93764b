"""The board report's charts, each drawn into a matplotlib Axes (shared by the HTML and PDF writers).

Figures come formatted by :mod:`.board_text`, so a bar label reads exactly like the table next to it.
matplotlib is imported by the callers (lazily); this module only takes its Axes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ..core.board import Board
from .board_text import Fig, arrow, money, percent, rate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

NAVY, SKY, GREY, AMBER, RED, GREEN, INK, MUTED = (
    "#1f3b73", "#6f8fc7", "#b9c0cc", "#d9962b", "#c0392b", "#2e8b57", "#1d2430", "#6b7280",
)  # fmt: skip
STATE_COLOURS = {"OK": GREEN, "Warning": AMBER, "Exceeded": RED, "Unknown": GREY}
MAX_BARS = 10
LABEL_SIZE = 8


def _value(
    ax: Axes, x: float, y: float, label: str, size: float = LABEL_SIZE, colour: str = INK, ha: str = "left"
) -> None:
    """A figure printed on a chart; its group id (``value-N``) lets a reader find the chart's numbers."""
    n = sum(1 for t in ax.texts if str(t.get_gid() or "").startswith("value-"))
    ax.text(x, y, label, va="center", ha=ha, fontsize=size, color=colour, gid=f"value-{n}")


def _f(value: Decimal) -> float:
    return float(value)  # for drawing only; every printed figure is formatted from the Decimal


def _plain(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=LABEL_SIZE, colors=INK)


def _empty(ax: Axes, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, color=MUTED, transform=ax.transAxes)


def _tick(value: float) -> str:
    if value < 0:
        return ""
    amount = Decimal(str(round(value, 2)))
    return money(amount, 0 if amount == amount.to_integral_value() else 2)


def _money_axis(ax: Axes, axis: str = "x") -> None:
    """Dollar ticks at 1-2-5 steps: whole dollars where the ticks are whole, cents where they are not."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    scale = ax.xaxis if axis == "x" else ax.yaxis
    scale.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    scale.set_major_formatter(FuncFormatter(lambda v, _pos: _tick(v)))


def namespace_bars(ax: Axes, board: Board) -> None:
    rows = board.namespaces[:MAX_BARS]
    if not rows:
        _empty(ax, "No namespace spend in this range")
        return
    names = [r.namespace for r in rows][::-1]
    values = [_f(r.spend) for r in rows][::-1]
    ax.barh(names, values, color=NAVY, height=0.6)
    top = max(values) or 1.0
    for y, r in enumerate(rows[::-1]):
        label = money(r.spend)
        if r.change is not None:
            change = Fig("", r.change.percent, "deltapercent", "new").text
            label += f"  {arrow(r.change.delta)} {change}"
        _value(ax, _f(r.spend) + top * 0.02, y, label)
    ax.set_xlim(0, top * 1.45)
    _money_axis(ax)
    _plain(ax)


def trend_line(ax: Axes, board: Board) -> None:
    points = [p for p in board.trend if p.schedule == (board.trend[0].schedule if board.trend else "")]
    if not points:
        _empty(ax, "No accounted periods yet")
        return
    xs = list(range(len(points)))
    ys = [_f(p.spend) for p in points]
    ax.plot(xs, ys, color=NAVY, linewidth=1.8, marker="o", markersize=3.5)
    if points[-1].open:
        ax.plot([xs[-1]], [ys[-1]], marker="o", markersize=6, markerfacecolor="white", color=NAVY)
    inside = [x for x, p in zip(xs, points, strict=True) if p.in_range]
    if inside:
        ax.axvspan(inside[0] - 0.5, inside[-1] + 0.5, color=SKY, alpha=0.15, linewidth=0)
    step = max(1, len(points) // 8)
    ax.set_xticks(xs[::step], [p.label for p in points][::step], rotation=30, ha="right")
    ax.set_ylim(bottom=0)
    ax.set_xlim(-0.5, len(points) - 0.5)
    _money_axis(ax, "y")
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.6)
    _plain(ax)


def idle_donut(ax: Axes, board: Board) -> None:
    t = board.totals
    if t.spend <= 0:
        _empty(ax, "No spend in this range")
        return
    ax.pie(
        [_f(t.allocated), _f(t.idle)],
        colors=[NAVY, AMBER],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.32, "edgecolor": "white"},
    )
    centre = ax.text(0, 0.08, percent(t.idle_percent), ha="center", va="center", fontsize=13, color=INK)
    centre.set(weight="bold", gid="value-idle")
    ax.text(0, -0.16, "idle", ha="center", va="center", fontsize=LABEL_SIZE, color=MUTED)
    ax.legend(
        [f"Allocated {money(t.allocated)}", f"Idle {money(t.idle)}"],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.02),
        ncol=2,
        frameon=False,
        fontsize=LABEL_SIZE,
    )
    ax.set_aspect("equal")


def price_bars(ax: Axes, board: Board) -> None:
    bars: list[tuple[str, Decimal, str]] = [(f"{m.model} (on-prem)", m.per_million, NAVY) for m in board.models]
    bars += [(f"{c.entry.provider}/{c.entry.model}", c.per_million, GREY) for c in board.cloud_prices]
    if not bars:
        _empty(ax, "No tokens in this range")
        return
    bars.sort(key=lambda b: b[1])
    ax.barh([b[0] for b in bars], [_f(b[1]) for b in bars], color=[b[2] for b in bars], height=0.65)
    top = max(_f(b[1]) for b in bars) or 1.0
    for y, (_name, value, _colour) in enumerate(bars):
        _value(ax, _f(value) + top * 0.015, y, rate(value), LABEL_SIZE - 1)
    ax.set_xlim(0, top * 1.25)
    _money_axis(ax)
    ax.tick_params(axis="y", labelsize=LABEL_SIZE - 1)
    _plain(ax)


def budget_bars(ax: Axes, board: Board) -> None:
    rows = [b for b in board.budgets if b.utilization is not None][:MAX_BARS]
    if not rows:
        _empty(ax, "No reconciled TokenBudgets")
        return
    rows = rows[::-1]
    names = [f"{b.scope} ({b.name})" for b in rows]
    util = [_f(b.utilization or Decimal(0)) for b in rows]
    ax.barh(names, util, color=[STATE_COLOURS.get(b.state, GREY) for b in rows], height=0.55)
    peak = max([*util, *(_f(b.projected_utilization or Decimal(0)) for b in rows), 100.0])
    for y, b in enumerate(rows):
        for t in b.thresholds:
            ax.plot([t, t], [y - 0.38, y + 0.38], color=INK, linewidth=1.1)
        if b.projected_utilization is not None:
            ax.plot([_f(b.projected_utilization)], [y], marker="D", markersize=5, color=INK, markerfacecolor="white")
        used = _f(b.utilization or Decimal(0))
        inside = used > peak * 0.2  # inside the bar's end, clear of the threshold ticks
        x = used - peak * 0.015 if inside else used + peak * 0.015
        _value(ax, x, y, percent(b.utilization), colour="white" if inside else INK, ha="right" if inside else "left")
    ax.set_xlim(0, peak * 1.12)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    _plain(ax)

"""``report board --format html``: one self-contained page (inline CSS and SVG charts; opens offline).

Each figure is written as ``<data value="exact" data-key="key">$1,234.57</data>``: the exact Decimal
beside the text a reader sees, so the numbers can be checked against ``report -o json``.
"""

from __future__ import annotations

import html
import io
import re
from typing import TYPE_CHECKING

from ..core.board import Board
from . import board_charts
from .board_text import Document, Fig, Section, Segment, generated_text
from .structured import decimal_text, rfc3339

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHART_WIDTH = 7.2  # inches; the SVG scales to the page width

CSS = """
:root { --ink:#1d2430; --muted:#6b7280; --line:#e5e7eb; --navy:#1f3b73; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0;
       background: #f6f7f9; line-height: 1.45; }
main { max-width: 980px; margin: 0 auto; padding: 32px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; color: var(--navy); }
h2 { font-size: 17px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--navy); }
.subtitle { color: var(--muted); margin: 0 0 22px; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .title { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 26px; font-weight: bold; margin: 4px 0 2px; white-space: nowrap; }
.card .caption { font-size: 12px; color: var(--muted); }
p { margin: 6px 0; font-size: 14px; }
svg { width: 100%; height: auto; display: block; margin: 6px 0; }
figure svg { max-width: 780px; }
.chart-idle_donut svg { width: 340px; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; }
th { color: var(--muted); font-weight: normal; font-size: 12px; text-transform: uppercase; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 0; }
data.up { color: #b42318; } data.down { color: #1e7b4f; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-after: avoid; }
               svg, table, .cards { break-inside: avoid; } }
"""


def _figure(fig: Fig) -> str:
    text = html.escape(fig.text)
    if fig.value is None:
        return text
    value = decimal_text(fig.value) if not isinstance(fig.value, int) else str(fig.value)
    direction = ""
    if fig.kind in ("delta", "deltapercent") and fig.value != 0:
        direction = ' class="up"' if fig.value > 0 else ' class="down"'  # spend up reads as a warning
    return f'<data value="{value}" data-key="{html.escape(fig.key)}"{direction}>{text}</data>'


def _segments(parts: list[Segment]) -> str:
    return "".join(_figure(p) if isinstance(p, Fig) else html.escape(p) for p in parts)


def _svg(figure: Figure, prefix: str) -> str:
    import matplotlib

    buf = io.StringIO()
    # Text stays text (selectable, searchable); "$" is a dollar, not TeX; ids do not change run to run.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "infercost", "text.parse_math": False}):
        figure.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # Several inline SVGs share one id space: give each chart's ids its own prefix.
    text = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', text)
    return re.sub(r"(url\(#|xlink:href=\"#)([^)\"]+)", rf"\1{prefix}-\2", text)


def chart_svg(name: str, board: Board, height: float, prefix: str) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(CHART_WIDTH, height))
    if name == "idle_donut":
        figure.set_size_inches(3.6, height)
    draw = getattr(board_charts, name)
    draw(figure.add_subplot(), board)
    return _svg(figure, prefix)


def _table(section: Section) -> str:
    if not section.rows:
        return ""
    num = (section.numeric + [False] * len(section.headers))[: len(section.headers)]
    head = "".join(
        f"<th{' class=num' if n else ''}>{html.escape(h)}</th>" for h, n in zip(section.headers, num, strict=True)
    )
    body = []
    for row in section.rows:
        cells = "".join(
            f"<td{' class=num' if n else ''}>{_figure(c) if isinstance(c, Fig) else html.escape(c)}</td>"
            for c, n in zip(row, num, strict=False)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(doc: Document, board: Board) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{html.escape(doc.title)}</h1>",
        f'<p class="subtitle">{html.escape(doc.subtitle)} · generated '
        f'<time datetime="{rfc3339(doc.generated)}">{html.escape(generated_text(doc))}</time></p>',
        '<section class="cards">',
    ]
    for card in doc.cards:
        out.append(
            f'<div class="card"><div class="title">{html.escape(card.title)}</div>'
            f'<div class="value">{_figure(card.figure)}</div>'
            f'<div class="caption">{_segments(card.caption)}</div></div>'
        )
    out.append("</section>")
    for i, section in enumerate(doc.sections):
        out.append(f"<section><h2>{html.escape(section.title)}</h2>")
        out.extend(f"<p>{_segments(p)}</p>" for p in section.paragraphs)
        if section.chart:
            svg = chart_svg(section.chart, board, section.chart_height, f"c{i}")
            out.append(
                f'<figure class="chart-{section.chart}" role="img" '
                f'aria-label="{html.escape(section.title)}">{svg}</figure>'
            )
        out.append(_table(section))
        out.append("</section>")
    out.append("<footer>Made by kubectl infercost from the CostProfile, UsageReport and TokenBudget status.</footer>")
    out.append("</main></body></html>\n")
    return "\n".join(out)

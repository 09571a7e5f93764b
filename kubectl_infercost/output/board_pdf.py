"""``report board --format pdf``: the same document on A4 or Letter pages, drawn by matplotlib (no browser).

A small flow layout: blocks (title, cards, headings, wrapped paragraphs, charts, table rows) are laid
top to bottom; a block that does not fit starts a new page, and a table continues there under its
header. Fonts are matplotlib's bundled DejaVu Sans, embedded as TrueType (``pdf.fonttype`` 42).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ..core.board import Board
from . import board_charts
from .board_charts import INK, MUTED, NAVY
from .board_text import Cell, Document, Fig, Section, Segment, generated_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAPER = {"a4": (210 / 25.4, 297 / 25.4), "letter": (8.5, 11.0)}  # inches
MARGIN = 0.7  # inches
FOOTER = 0.45
BODY_PT = 9.0
ROW_H = 0.23
DONUT_WIDTH = 3.2
SHORT_TABLE = 9  # rows (header included) kept on one page with their section
CHAR_EM = 0.5  # DejaVu Sans: average advance of prose per point of size
# Room for the category labels left of a horizontal bar chart, inches.
LEFT_LABELS = {"namespace_bars": 1.5, "price_bars": 2.5, "budget_bars": 2.2, "trend_line": 0.6}


@dataclass
class Block:
    height: float  # inches
    draw: Callable[[Figure, float, float], None]  # (figure, top y in inches from the page top, width)


def _text(parts: list[Segment]) -> str:
    return "".join(p.text if isinstance(p, Fig) else p for p in parts)


def _cell(cell: Cell) -> str:
    return cell.text if isinstance(cell, Fig) else cell


class Layout:
    def __init__(self, paper: str) -> None:
        self.width, self.height = PAPER[paper]
        self.inner = self.width - 2 * MARGIN
        self.pages: list[list[tuple[float, Block]]] = [[]]
        self.y = MARGIN

    def room(self) -> float:
        return self.height - MARGIN - FOOTER - self.y

    def new_page(self) -> None:
        self.pages.append([])
        self.y = MARGIN

    def add(self, block: Block, keep_with: float = 0.0) -> None:
        """Place a block; ``keep_with``: height of what must follow on the same page (a heading's content)."""
        if block.height + keep_with > self.room() and self.pages[-1]:
            self.new_page()
        self.pages[-1].append((self.y, block))
        self.y += block.height

    # ---------------------------------------------------------------------------------- blocks

    def _fy(self, top: float) -> float:
        """Figure y (0 at the bottom, in figure fractions) of a distance from the page top, inches."""
        return 1 - top / self.height

    def _fx(self, x: float) -> float:
        return x / self.width

    def text(self, fig: Figure, x: float, top: float, s: str, **kw: Any) -> None:
        kw.setdefault("color", INK)
        fig.text(self._fx(MARGIN + x), self._fy(top), s, va="top", **kw)

    def paragraph(self, s: str, size: float = BODY_PT, colour: str = INK, gap: float = 0.06) -> Block:
        lines = textwrap.wrap(s, width=max(20, int(self.inner * 72 / (CHAR_EM * size)))) or [""]
        line_h = size * 1.4 / 72

        def draw(fig: Figure, top: float, _w: float) -> None:
            for i, line in enumerate(lines):
                self.text(fig, 0, top + i * line_h, line, fontsize=size, color=colour)

        return Block(len(lines) * line_h + gap, draw)

    def heading(self, s: str, size: float = 12.0) -> Block:
        def draw(fig: Figure, top: float, _w: float) -> None:
            self.text(fig, 0, top + 0.12, s, fontsize=size, weight="bold", color=NAVY)
            y = self._fy(top + 0.12 + size / 72 * 1.25)
            fig.add_artist(_line(fig, self._fx(MARGIN), self._fx(self.width - MARGIN), y, NAVY, 1.2))

        return Block(0.12 + size / 72 * 1.25 + 0.12, draw)

    def cards(self, doc: Document) -> Block:
        n = max(1, len(doc.cards))
        gap, h = 0.12, 0.95
        w = (self.inner - gap * (n - 1)) / n

        def draw(fig: Figure, top: float, _w: float) -> None:
            from matplotlib.patches import FancyBboxPatch

            for i, card in enumerate(doc.cards):
                x = MARGIN + i * (w + gap)
                box = FancyBboxPatch(
                    (self._fx(x), self._fy(top + h)),
                    w / self.width,
                    h / self.height,
                    boxstyle="round,pad=0,rounding_size=0.008",
                    transform=fig.transFigure,
                    facecolor="white",
                    edgecolor="#d1d5db",
                    linewidth=0.8,
                )
                fig.add_artist(box)
                fx = x - MARGIN + 0.12
                self.text(fig, fx, top + 0.12, card.title.upper(), fontsize=7, color=MUTED)
                value = card.figure.text
                size = min(16.0, (w - 0.24) * 72 / (0.62 * max(1, len(value))))  # long figures shrink to fit
                self.text(fig, fx, top + 0.3, value, fontsize=size, weight="bold")
                chars = max(8, int((w - 0.24) * 72 / (CHAR_EM * 7.5 * 1.1)))
                for n, line in enumerate(textwrap.wrap(_text(card.caption), chars, max_lines=2, placeholder="…")):
                    self.text(fig, fx, top + 0.62 + n * 0.14, line, fontsize=7.5, color=MUTED)

        return Block(h + 0.15, draw)

    def chart(self, name: str, board: Board, height: float) -> Block:
        left = LEFT_LABELS.get(name, 0.3)
        width = DONUT_WIDTH if name == "idle_donut" else self.inner - left
        bottom_pad = 0.55 if name == "trend_line" else 0.3

        def draw(fig: Figure, top: float, _w: float) -> None:
            ax = fig.add_axes(
                (
                    self._fx(MARGIN + left),
                    self._fy(top + height - bottom_pad),
                    width / self.width,
                    (height - bottom_pad - 0.05) / self.height,
                )
            )
            getattr(board_charts, name)(ax, board)

        return Block(height + 0.05, draw)

    def table_rows(self, section: Section, x0: float = 0.0) -> list[Block]:
        """One block per row (the header first), in the width right of ``x0``."""
        cols = len(section.headers)
        num = (section.numeric + [False] * cols)[:cols]
        texts = [[_cell(c) for c in row] for row in section.rows]
        widths = [max([len(section.headers[i])] + [len(r[i]) for r in texts if i < len(r)]) + 2 for i in range(cols)]
        inner = self.inner - x0
        scale = inner / sum(widths)
        xs, x = [], x0
        for w in widths:
            xs.append(x)
            x += w * scale
        size = 7.5 if sum(widths) * CHAR_EM * 7.5 / 72 <= inner else 6.5

        def row_block(cells: list[str], header: bool) -> Block:
            def draw(fig: Figure, top: float, _w: float) -> None:
                for i, cell in enumerate(cells[:cols]):
                    right = num[i]
                    cx = xs[i] + (widths[i] * scale - 0.06 if right else 0.12 if i else 0.0)
                    self.text(
                        fig,
                        cx,
                        top + 0.05,
                        cell,
                        fontsize=size,
                        ha="right" if right else "left",
                        color=MUTED if header else INK,
                        weight="normal",
                    )
                y = self._fy(top + ROW_H)
                fig.add_artist(_line(fig, self._fx(MARGIN + x0), self._fx(self.width - MARGIN), y, "#e5e7eb", 0.6))

            return Block(ROW_H, draw)

        header = [h.upper() for h in section.headers]
        return [row_block(header, True)] + [row_block(r, False) for r in texts]


def _line(fig: Figure, x0: float, x1: float, y: float, colour: str, width: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color=colour, linewidth=width)


def _layout(doc: Document, board: Board, paper: str) -> Layout:
    lay = Layout(paper)
    lay.add(lay.heading(doc.title, 17))
    lay.add(lay.paragraph(f"{doc.subtitle} · generated {generated_text(doc)}", 8.5, MUTED, 0.15))
    lay.add(lay.cards(doc))
    for section in doc.sections:
        body = [lay.paragraph(_text(p)) for p in section.paragraphs]
        chart = lay.chart(section.chart, board, section.chart_height * 0.85) if section.chart else None
        beside = section.chart == "idle_donut"  # a small table fits right of the donut
        table = lay.table_rows(section, DONUT_WIDTH + 0.4 if beside else 0.0) if section.rows else []
        # A heading stays with its words and chart, and with a short table too, when they fit on a page.
        together = sum(b.height for b in body) + (chart.height if chart else 0.0)
        if len(table) <= SHORT_TABLE:
            together += sum(b.height for b in table)
        if together > lay.height - 2 * MARGIN - FOOTER - 0.6:
            together = body[0].height if body else 0.0
        lay.add(lay.heading(section.title), keep_with=together)
        for block in body:
            lay.add(block)
        if chart and beside:
            chart_top = lay.y
            lay.add(chart)
            lay.y = chart_top + 0.3
            for row in table:
                lay.add(row)
            lay.y = max(lay.y, chart_top + chart.height) + 0.1
            continue
        if chart:
            lay.add(chart)
        if table:
            header, *rows = table
            for i, row in enumerate(rows):
                if i == 0 or row.height > lay.room():
                    lay.add(header, keep_with=row.height)  # the header again on each page it continues
                lay.add(row)
        lay.y += 0.1
    return lay


def write(target: str | IO[bytes], doc: Document, board: Board, paper: str = "a4") -> int:
    """Write the PDF to a path or binary stream; returns the number of pages."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    lay = _layout(doc, board, paper)
    total = len(lay.pages)
    meta = {"Title": doc.title, "Subject": doc.subtitle, "Creator": "kubectl infercost", "CreationDate": None}
    # "$" is a dollar, not TeX; TrueType fonts, embedded.
    with matplotlib.rc_context({"pdf.fonttype": 42, "text.parse_math": False}), PdfPages(target, metadata=meta) as pdf:
        for number, page in enumerate(lay.pages, start=1):
            fig = Figure(figsize=(lay.width, lay.height))
            for top, block in page:
                block.draw(fig, top, lay.inner)
            footer = f"kubectl infercost · {doc.title} · page {number} of {total}"
            lay.text(fig, 0, lay.height - MARGIN - 0.1, footer, fontsize=7, color=MUTED)
            pdf.savefig(fig)
    return total

"""Read a board report's HTML as a reader would: every printed figure, and what is left outside them.

``<data value="exact" data-key="k">text</data>`` elements are the figures. Text outside them (and
outside ``<time>``, ``<style>``, ``<title>`` and the charts' SVG) must hold no number but dates and
the names a test passes: so a test that checks every ``<data>`` checks every number printed.
The charts' value labels (SVG groups ``value-N``) must each repeat a figure printed in the page.
"""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

DATES = re.compile(r"\d{4}-W\d{2}|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?|\d{4}-\d{2}")
FIGURE_TEXT = re.compile(r"[-+]?\$[\d,]+(?:\.\d+)?|[-+]?[\d,]*\.?\d+%")
SKIPPED = {"style", "title", "time", "script"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, list[tuple[Decimal, str]]] = {}
        self.loose: list[str] = []
        self.chart_labels: list[str] = []
        self.references: list[str] = []  # src= / href= that would fetch something
        self._stack: list[tuple[str, dict[str, str | None]]] = []
        self._data: tuple[str, Decimal, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href", "xlink:href"):
            value = a.get(name)
            if value and not value.startswith("#"):
                self.references.append(value)
        if tag == "data":
            self._data = (str(a["data-key"]), Decimal(str(a["value"])), [])
        self._stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "data" and self._data is not None:
            key, value, text = self._data
            self.figures.setdefault(key, []).append((value, "".join(text)))
            self._data = None
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def _inside(self, tag: str) -> bool:
        return any(t == tag for t, _ in self._stack)

    def handle_data(self, data: str) -> None:
        if self._data is not None:
            self._data[2].append(data)
        elif self._inside("svg"):
            if any(str(a.get("id") or "").split("-", 1)[-1].startswith("value-") for _, a in self._stack):
                self.chart_labels.append(data)
        elif not any(self._inside(t) for t in SKIPPED):
            self.loose.append(data)

    # ------------------------------------------------------------------------------------ reading

    def value(self, key: str) -> Decimal:
        """The one exact value printed under ``key`` (all its printings must agree)."""
        values = {v for v, _ in self.figures[key]}
        assert len(values) == 1, (key, values)
        return values.pop()

    def text(self, key: str) -> str:
        texts = {t for _, t in self.figures[key]}
        assert len(texts) == 1, (key, texts)
        return texts.pop()

    def numbers_outside_figures(self, names: list[str]) -> list[str]:
        """Digits printed outside any figure, once dates and ``names`` (models, namespaces) are removed."""
        text = " ".join(self.loose)
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, " ")
        text = DATES.sub(" ", text)
        return re.findall(r"\S*\d\S*", text)

    def unmatched_chart_labels(self) -> list[str]:
        printed = {t for items in self.figures.values() for _, t in items}
        printed |= {t.split(" ", 1)[-1] for t in printed}  # "▲ $5.00" also reads as "$5.00"
        return [f for label in self.chart_labels for f in FIGURE_TEXT.findall(label) if f not in printed]


def read_page(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def pdf_pages(path: Path, out_dir: Path) -> list[Path]:
    """Render every page with poppler's pdftoppm; each must come out as a non-empty PNG."""
    pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(path))).group(1))  # type: ignore[union-attr]
    _run("pdftoppm", "-r", "40", "-png", str(path), str(out_dir / "page"))
    rendered = sorted(out_dir.glob("page-*.png"))
    assert len(rendered) == pages, (pages, rendered)
    for png in rendered:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000, png
    return rendered


def pdf_fonts(path: Path) -> list[tuple[str, str]]:
    """(font name, embedded yes/no) of every font pdffonts lists."""
    lines = _run("pdffonts", str(path)).splitlines()[2:]
    fonts = []
    for line in lines:
        cols = line.split()
        # name type... encoding emb sub uni object ID: 'emb' is the 5th column from the right.
        fonts.append((cols[0], cols[-5]))
    return fonts


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

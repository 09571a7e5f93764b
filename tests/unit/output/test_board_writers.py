"""Board report writers: every HTML figure exact and findable, offline; PDF pages render, fonts embedded."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.core.board import build_board
from kubectl_infercost.core.board_range import dates_range, period_range
from kubectl_infercost.models import UsageReport
from kubectl_infercost.output import board_html, board_pdf
from kubectl_infercost.output.board_text import document
from tests.boardcheck import pdf_fonts, pdf_pages, read_page
from tests.boardworld import CATALOG, period, report

D = Decimal
NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)
NAMES = ["llama-70b", "qwen-7b", "team-a", "team-b", "gpu-ops", "acme/m1", "beta/m2", "m1", "m2", "$/1M"]


def html_of(board: Any) -> str:
    return board_html.render(document(board, "namespace gpu-ops", NOW), board)


def test_html_prints_exact_figures_and_nothing_else() -> None:
    b = build_board([report()], [], CATALOG, dates_range(date(2026, 4, 19), date(2026, 4, 21)))
    text = html_of(b)
    page = read_page(text)
    # The figures of tests/unit/core/test_board.py, as printed.
    expected = {
        "spend": (D(150), "$150.00"),
        "change.percent": (D(50), "+50.0%"),
        "change.delta": (D(50), "▲ $50.00"),
        "change.previous": (D(100), "$100.00"),
        "idle": (D(26), "$26.00"),
        "idle.percent": (D("17.333333"), "17.3%"),
        "tokens": (D(2_400_000), "2,400,000"),
        "perMillion": (D("62.5"), "$62.5000"),
        "cloud.cost": (D("0.42"), "$0.42"),
        "cloud.extra": (D("149.58"), "$149.58"),
        "projected": (D(240), "$240.00"),
        "ns.team-a.spend": (D(110), "$110.00"),
        "ns.team-a.percent": (D("83.333333"), "+83.3%"),
        "ns.team-b.delta": (D(-16), "▼ $16.00"),
        "model.qwen-7b.perMillion": (D("46.666667"), "$46.6667"),
        "cloud.acme/m1/standard.cost": (D("10.50"), "$10.50"),
        "eff.team-b/qwen-7b.saving": (D("212.916667"), "$212.92"),
        "hoursPerMonth": (D(730), "730"),
    }
    for key, (value, shown) in expected.items():
        assert (page.value(key), page.text(key)) == (value, shown), key
    assert page.numbers_outside_figures(NAMES) == []
    assert page.unmatched_chart_labels() == []
    # The previous range (04-17 to 04-18) has data from 04-18 only: the reader is told.
    assert "Data for 2026-04-17 to 2026-04-18 starts only at 2026-04-18T00:00Z" in " ".join(page.loose)
    assert "$110.00  ▲ +83.3%" in page.chart_labels  # the namespace bar, with its change arrow
    # Self-contained: nothing to fetch, no script.
    assert page.references == [] and "<script" not in text and "@import" not in text
    assert "url(http" not in text and "<link" not in text


def test_html_without_previous_range_has_no_arrows() -> None:
    b = build_board([report()], [], CATALOG, period_range("2026-04-18"))
    text = html_of(b)
    assert "▲" not in text and "▼" not in text
    page = read_page(text)
    assert "n/a" in page.loose and "no data for 2026-04-17" in page.loose
    assert "There is no data for the previous range (2026-04-17) to compare with." in " ".join(page.loose)
    assert page.numbers_outside_figures(NAMES) == []


def test_empty_html_says_there_is_no_data_yet() -> None:
    b = build_board([], [], None, period_range("2026-04"))
    page = read_page(html_of(b))
    assert "There is no accounted data in this range yet" in " ".join(page.loose)
    assert (page.value("spend"), page.value("idle")) == (Decimal(0), Decimal(0))
    assert page.numbers_outside_figures(NAMES) == []


@pytest.mark.parametrize(("paper", "size"), [("a4", "595.276 x 841.89 pts (A4)"), ("letter", "612 x 792 pts (letter)")])
def test_pdf_pages_render_with_embedded_fonts(tmp_path: Path, paper: str, size: str) -> None:
    b = build_board([report()], [], CATALOG, dates_range(date(2026, 4, 19), date(2026, 4, 21)))
    path = tmp_path / "board.pdf"
    pages = board_pdf.write(str(path), document(b, "namespace gpu-ops", NOW), b, paper)
    assert len(pdf_pages(path, tmp_path)) == pages >= 2
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(rf"Page size: +{re.escape(size)}", info), info
    fonts = pdf_fonts(path)
    assert fonts and all(emb == "yes" for _, emb in fonts), fonts
    words = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "$150.00" in words and "$212.92" in words and f"page 1 of {pages}" in words  # real text


def test_long_tables_continue_on_the_next_page_under_their_header(tmp_path: Path) -> None:
    many = [
        {"namespace": f"team-{i:02d}", "estimatedCostUSD": "1", "tokenCount": 10} for i in range(80)
    ]  # 80 namespaces of $1
    figures = {**period("2026-04-18", "80", "0", ("0", 0, 0, 0), ("0", 0, 0, 0)), "byNamespace": many}
    r = UsageReport.model_validate({"metadata": {"name": "d", "namespace": "x"}, "spec": {"costProfileRef": "p"},
                                    "status": figures})  # fmt: skip
    b = build_board([r], [], None, period_range("2026-04-18"))
    path = tmp_path / "long.pdf"
    pages = board_pdf.write(str(path), document(b, "namespace x", NOW), b)
    words = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    chunks = words.split("\f")[:pages]
    with_rows = [c for c in chunks if re.search(r"team-\d\d", c)]
    assert len(with_rows) >= 2  # the table runs over a page break
    assert all("NAMESPACE" in c for c in with_rows)  # and its header repeats
    assert all(f"team-{i:02d}" in words for i in range(80))

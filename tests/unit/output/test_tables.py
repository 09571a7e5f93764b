"""Report tables: formatting rules and golden output."""
# ruff: noqa: E501  (golden tables are wider than a source line)

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from kubectl_infercost.core.reportdata import SortSpec
from kubectl_infercost.output import tables as t

D = Decimal


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (D("151.628326"), "money", "$151.63"),
        (D("8.825"), "money", "$8.83"),  # half-up for display
        (D("1234567.891"), "money", "$1,234,567.89"),
        (D("-0.86"), "money", "-$0.86"),
        (D("-0.004"), "money", "$0.00"),  # no "-$0.00"
        (D(500), "money", "$500.00"),
        (D("14.793105"), "rate", "$14.7931"),
        (D("95.95241"), "rate", "$95.9524"),
        (D("2.50"), "price", "$2.50"),
        (D("0.125"), "price", "$0.1250"),
        (1_234_567, "tokens", "1,234,567"),
        (0, "tokens", "0"),
        (8, "int", "8"),
        (D("5608.74"), "watts", "5,609"),
        (D("57.494"), "number", "57.49"),
        (D("82.469136"), "percent", "82.5%"),
        (D("-6296.84"), "percent", "-6,296.8%"),
        (D("0.941829"), "ratio", "94.2%"),
        (True, "bool", "yes"),
        (False, "bool", "no"),
        (datetime(2026, 4, 18, 9, 0, 59, tzinfo=UTC), "datetime", "2026-04-18T09:00Z"),
        (date(2025, 6, 1), "date", "2025-06-01"),
        (["n1", "n2"], "list", "n1, n2"),
        ([], "list", "-"),
        ([{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}], "thresholds",
         "80% warning, 100% critical"),
        (None, "money", "-"),
        (None, "text", "-"),
        ("DCGMHealthy", "text", "DCGMHealthy"),
    ],
)  # fmt: skip
def test_format_value(value: Any, kind: t.ValueFormat, text: str) -> None:
    assert t.format_value(value, kind) == text


REPORT_ROWS = [
    {
        "namespace": "eng",
        "name": "engineering-daily",
        "costProfile": "h100",
        "period": "2026-04-20",
        "estimatedCostUSD": D("151.628326"),
        "idleCostUSD": D("8.823456"),
        "inputTokens": 1_234_567,
        "outputTokens": 345_678,
        "costPerMillionTokens": D("95.952416"),
        "accountingSince": datetime(2026, 4, 18, 9, 0, tzinfo=UTC),
        "estimated": False,
    },
    {
        "namespace": "ops",
        "name": "x",
        "costProfile": "a100",
        "period": "2026-W17",
        "estimatedCostUSD": D("-0.005"),
        "idleCostUSD": None,
        "inputTokens": 0,
        "outputTokens": 7,
        "costPerMillionTokens": D("1234.56785"),
        "accountingSince": None,
        "estimated": True,
    },
]

GOLDEN_REPORTS = """\
NAME               PROFILE    PERIOD         COST    IDLE      INPUT    OUTPUT     $/1M TOK  ACCOUNTING SINCE    ESTIMATED
engineering-daily  h100       2026-04-20  $151.63   $8.82  1,234,567   345,678     $95.9524  2026-04-18T09:00Z   no
x                  a100       2026-W17     -$0.01       -          0         7  $1,234.5679  -                   yes
"""

GOLDEN_REPORTS_ALL_NAMESPACES = """\
NAMESPACE    NAME               PROFILE    PERIOD         COST    IDLE      INPUT    OUTPUT     $/1M TOK  ACCOUNTING SINCE    ESTIMATED
eng          engineering-daily  h100       2026-04-20  $151.63   $8.82  1,234,567   345,678     $95.9524  2026-04-18T09:00Z   no
ops          x                  a100       2026-W17     -$0.01       -          0         7  $1,234.5679  -                   yes
"""


def test_golden_report_table() -> None:
    assert t.render(t.REPORTS, REPORT_ROWS) == GOLDEN_REPORTS
    assert t.render(t.REPORTS, REPORT_ROWS, all_namespaces=True) == GOLDEN_REPORTS_ALL_NAMESPACES


BUDGET_ROW = {
    "namespace": "eng",
    "name": "engineering-monthly",
    "scopeNamespace": "engineering",
    "monthlyLimitUSD": D(500),
    "currentSpendUSD": D("412.345678"),
    "remainingUSD": D("87.654322"),
    "utilizationPercent": D("82.469136"),
    "state": "Warning",
    "nextThreshold": {"percent": 100, "severity": "critical"},
    "nextThresholdUSD": D(500),
    "leftBeforeNextUSD": D("87.654322"),
    "thresholds": [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}],
    "periodStart": datetime(2026, 4, 1, tzinfo=UTC),
    "periodEnd": datetime(2026, 4, 20, 10, 15, tzinfo=UTC),
    "lastUpdated": None,
}

GOLDEN_BUDGETS_WIDE = """\
NAME                 SCOPE          LIMIT    SPEND    REMAINING    UTILIZATION  STATE    NEXT             LEFT    NEXT AT  THRESHOLDS                  START              END                UPDATED
engineering-monthly  engineering  $500.00  $412.35       $87.65          82.5%  Warning  100% critical  $87.65    $500.00  80% warning, 100% critical  2026-04-01T00:00Z  2026-04-20T10:15Z  -
"""


def test_golden_wide_budget_table() -> None:
    assert t.render(t.BUDGETS, [BUDGET_ROW], wide=True) == GOLDEN_BUDGETS_WIDE


COMPARE_ROWS = [
    {
        "reportNamespace": "eng",
        "report": "small",
        "period": "2026-04-20",
        "provider": "acme",
        "model": "m1",
        "onpremCostUSD": D("1.40"),
        "cloudCostUSD": D("3.50"),
        "savingsUSD": D("2.10"),
        "savingsPercent": D(60),
        "breakEvenTokensPerDay": 11_520_000,
    },
    {
        "reportNamespace": "eng",
        "report": "small",
        "period": "2026-04-20",
        "provider": "free",
        "model": "m0",
        "onpremCostUSD": D("1.40"),
        "cloudCostUSD": D(0),
        "savingsUSD": D("-1.40"),
        "savingsPercent": D(0),
        "breakEvenTokensPerDay": None,
    },
]

GOLDEN_COMPARE = """\
REPORT    PERIOD      PROVIDER    MODEL      ON-PREM    CLOUD    SAVINGS    SAVINGS %    BREAK-EVEN TOK/DAY
small     2026-04-20  acme        m1           $1.40    $3.50      $2.10        60.0%            11,520,000
small     2026-04-20  free        m0           $1.40    $0.00     -$1.40         0.0%                     -
"""


def test_golden_compare_table() -> None:
    assert t.render(t.COMPARE, COMPARE_ROWS) == GOLDEN_COMPARE


def test_sections_titles_blank_lines_and_empty_sections() -> None:
    out = io.StringIO()
    t.write_sections(out, [(t.REPORTS, REPORT_ROWS[:1]), (t.MODELS, []), (t.BUDGETS, [BUDGET_ROW])])
    assert out.getvalue() == (
        "USAGE REPORTS (current period)\n"
        "NAME               PROFILE    PERIOD         COST    IDLE      INPUT    OUTPUT    $/1M TOK  ACCOUNTING SINCE"
        "    ESTIMATED\n"
        "engineering-daily  h100       2026-04-20  $151.63   $8.82  1,234,567   345,678    $95.9524  2026-04-18T09:00Z"
        "   no\n"
        "\n"
        "BUDGETS (month to date)\n"
        "NAME                 SCOPE          LIMIT    SPEND    UTILIZATION  STATE    NEXT             LEFT\n"
        "engineering-monthly  engineering  $500.00  $412.35          82.5%  Warning  100% critical  $87.65\n"
    )
    assert t.render(t.BUDGETS, []) == ""


def test_no_trailing_spaces() -> None:
    for line in t.render(t.REPORTS, REPORT_ROWS, wide=True, all_namespaces=True).splitlines():
        assert line == line.rstrip()


def test_sort_spec_accepts_keys_headers_and_descending() -> None:
    assert t.MODELS.sort_spec("estimatedCostUSD") == SortSpec("estimatedCostUSD")
    assert t.MODELS.sort_spec("cost") == SortSpec("estimatedCostUSD")
    assert t.MODELS.sort_spec("-INPUTTOKENS") == SortSpec("inputTokens", descending=True)
    assert t.MODELS.sort_spec("$/1M tok") == SortSpec("costPerMillionTokens")
    assert t.MODELS.sort_spec("colour") is None
    assert t.MODELS.fields()[:5] == ["reportNamespace", "report", "period", "namespace", "model"]


def test_every_table_has_unique_keys_and_headers() -> None:
    for table in (t.PROFILES, t.REPORTS, t.MODELS, t.TOP_MODELS, t.NAMESPACES, t.COMPARE, t.HISTORY, t.BUDGETS):
        keys = table.fields()
        headers = [c.header for c in table.columns]
        assert len(set(keys)) == len(keys), table.name
        assert len(set(headers)) == len(headers), table.name

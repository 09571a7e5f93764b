"""The documented shell pipelines (docs/export-focus.md), run as written on generated CSV with hostile model names.

    kubectl infercost export focus | awk -F, 'NR==1 || $1+0 > 1.0'
    kubectl infercost export focus --period 2026-04 | \\
      awk -F, 'NR>1 {by_ns[$29]+=$1} END {for (n in by_ns) print n, by_ns[n]}'

The sample (tests/focuscheck.py) has models named ``evil,"model"\\n=HYPERLINK("x")``, ``+cmd|' /C calc'!A0``,
``-2+3``, ``@SUM(1,2)`` and ``\\ttabbed``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal

import pytest

from kubectl_infercost.core.focus import PeriodSelection
from kubectl_infercost.output.focus_writers import write
from tests.focuscheck import sample_rows

FILTER = "NR==1 || $1+0 > 1.0"
BY_NAMESPACE = "NR>1 {by_ns[$29]+=$1} END {for (n in by_ns) print n, by_ns[n]}"


def export_csv(**options: object) -> str:
    layout, rows = sample_rows(**options)  # type: ignore[arg-type]
    buffer = io.StringIO(newline="")
    write("csv", buffer, layout, rows)
    return buffer.getvalue()


def awk(program: str, text: str) -> str:
    if shutil.which("awk") is None:
        pytest.fail("awk is not installed: the pipelines cannot be checked")
    result = subprocess.run(["awk", "-F,", program], input=text, capture_output=True, text=True, check=True)
    return result.stdout


def test_charges_above_one_dollar() -> None:
    text = export_csv()
    out = awk(FILTER, text).split("\n")
    lines = text.split("\n")
    assert out[0] == lines[0]  # the header
    costs = [line.split(",", 1)[0] for line in out[1:] if line]
    # every BilledCost above $1, in order; 0.75 (-2+3) and 0.50 (tabbed) are left out
    assert costs == [
        "12.340000000000",  # 04-29 Llama
        "3.750000000000",  # 04-29 warm-pool (GPU-Hours)
        "10.000000000000",  # 04-29 idle: $10 (ListCost: 3 h at 3.333333 = 9.999999)
        "2.500000000000",  # 04-30 +cmd
        "1.250000000000",  # 04-30 evil,"model"
        "10.000000000000",  # 04-30 @SUM(1,2)
        "3.000000000000",  # 04-30 idle
        "7.055342000000",  # 05-01 Llama (open period)
        "1.000001000000",  # 05-01 Qwen
        "8.000000000000",  # W18, April part
        "6.000000000000",  # W18, May part
        "2.000000000000",  # W19
        "3.000000000000",  # ops rollup
    ]
    # whole records: awk sees exactly the CSV records (no line breaks inside a field)
    assert all(line in lines for line in out if line)


def test_spend_by_namespace_for_one_period() -> None:
    text = export_csv(selection=PeriodSelection("2026-04-30"))
    totals = dict(line.split(" ") for line in awk(BY_NAMESPACE, text).strip().split("\n"))
    # team-a: +cmd 2.50 + -2+3 0.75 + evil 1.25; team-b: @SUM 10 + tabbed 0.50; idle lands in the profile's ns
    assert totals == {"team-a": "4.5", "team-b": "10.5", "infercost": "3"}


def test_spend_by_namespace_for_a_month_label() -> None:
    text = export_csv(selection=PeriodSelection("2026-04"))
    totals = {k: Decimal(v) for k, v in (line.split(" ") for line in awk(BY_NAMESPACE, text).strip().split("\n"))}
    # April: 04-29 and 04-30 dailies, the April part of W18 (8 of 14), and the ops monthly rollup
    # team-a 12.34 + 4.5 = 16.84; team-b 3.75 + 10.5 = 14.25; infercost 9.999999 + 3 = 12.999999 (awk: 13)
    assert totals == {
        "team-a": Decimal("16.84"),
        "team-b": Decimal("14.25"),
        "infercost": Decimal("13"),
        "ml": Decimal("8"),
        "ops": Decimal("3"),
    }


def test_spend_by_namespace_everything() -> None:
    totals = {
        k: Decimal(v) for k, v in (line.split(" ") for line in awk(BY_NAMESPACE, export_csv()).strip().split("\n"))
    }
    expected = {
        "team-a": Decimal("12.34") + Decimal("4.5") + Decimal("7.0553424"),  # 23.8953424
        "team-b": Decimal("3.75") + Decimal("10.5") + Decimal("1.000000959258"),  # 15.250000959258
        "infercost": Decimal("9.999999") + Decimal("3"),
        "ml": Decimal("16"),
        "ops": Decimal("3"),
    }
    assert set(totals) == set(expected)
    for ns, value in expected.items():
        # awk prints with OFMT %.6g: six significant digits
        assert totals[ns] == Decimal(f"{float(value):.6g}"), ns

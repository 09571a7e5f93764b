"""Hive output of ``export focus --output-dir`` read as ONE table by DuckDB, pyarrow.dataset and polars.

Each reader opens the whole folder the way its documentation shows (pyarrow: the folder; DuckDB and
polars: a ``**/*.<ext>`` glob), with the partition columns. Row counts and ``SUM(BilledCost) GROUP BY
SubAccountId`` must equal what ``report -A -o json`` says about the same UsageReports, to the digit:
per namespace, the ``byNamespace`` costs of ``report namespaces``; the rest of each report (idle GPU
time, tokens without a model) in the report's own namespace.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.kube.client import KubeClient

from .conftest import run_cli
from .world import create_with_status

D = Decimal
COST_TYPE = "DECIMAL(38,12)"


@pytest.fixture
def reader_world(installed: None, kube: KubeClient, namespace: str) -> str:  # noqa: ARG001, V107 -- for its side effect
    """Daily (April, two model namespaces, idle), monthly (May, no breakdown), weekly (W18: April and May).

    Prices that do not divide evenly on purpose: 7.055342 / 0.8 = 8.8191775, $10 / 3 GPU-hours.
    """
    a, b = f"{namespace}-a", f"{namespace}-b"
    create_with_status(
        kube, "costprofiles", namespace, "pool",
        {"hardware": {"gpuModel": "NVIDIA L40S", "gpuCount": 4, "purchasePriceUSD": 60000, "amortizationYears": 3},
         "electricity": {"ratePerKWh": D("0.1"), "pueFactor": D("1.3")}},
        {"hourlyCostUSD": D("8")},
    )  # fmt: skip
    create_with_status(
        kube, "usagereports", namespace, "daily", {"costProfileRef": "pool", "schedule": "daily"},
        {
            "period": "2026-04-20", "periodStart": "2026-04-20T00:00:00Z", "periodEnd": "2026-04-20T06:00:00Z",
            "inputTokens": 1_000_000, "outputTokens": 300_000, "estimatedCostUSD": D("17.305342"),
            "idleCostUSD": D("10"), "idleGpuHours": D("3"), "gpuHours": D("24"),
            "byModel": [
                {"model": "llama-3.1-8b", "namespace": a, "inputTokens": 500_000, "outputTokens": 300_000,
                 "estimatedCostUSD": D("7.055342")},
                {"model": "qwen2.5-7b", "namespace": b, "inputTokens": 500_000, "outputTokens": 0,
                 "estimatedCostUSD": D("0.25")},
            ],
            "byNamespace": [
                {"namespace": a, "estimatedCostUSD": D("7.055342"), "tokenCount": 800_000},
                {"namespace": b, "estimatedCostUSD": D("0.25"), "tokenCount": 500_000},
            ],
        },
    )  # fmt: skip
    create_with_status(
        kube, "usagereports", namespace, "monthly", {"costProfileRef": "pool", "schedule": "monthly"},
        {
            "period": "2026-05", "periodStart": "2026-05-01T00:00:00Z", "periodEnd": "2026-05-20T00:00:00Z",
            "inputTokens": 800_000, "outputTokens": 200_000, "estimatedCostUSD": D("3"), "gpuHours": D("1824"),
        },
    )  # fmt: skip
    create_with_status(
        kube, "usagereports", namespace, "weekly", {"costProfileRef": "pool", "schedule": "weekly"},
        {
            "period": "2026-W18", "periodStart": "2026-04-27T00:00:00Z", "periodEnd": "2026-05-04T00:00:00Z",
            "inputTokens": 1_000_000, "outputTokens": 0, "estimatedCostUSD": D("1"), "gpuHours": D("672"),
        },
    )  # fmt: skip
    return namespace


def cr_totals(namespace: str) -> dict[str, Decimal]:
    """Cost per namespace from ``report -A -o json`` (reports) and ``report namespaces -A -o json``."""
    overview = run_cli("report", "-A", "-o", "json")
    by_ns = run_cli("report", "namespaces", "-A", "-o", "json")
    assert overview.returncode == 0 and by_ns.returncode == 0, overview.stderr + by_ns.stderr
    reports = [
        r for r in json.loads(overview.stdout, parse_float=Decimal)["usageReports"] if r["namespace"] == namespace
    ]
    items = [i for i in json.loads(by_ns.stdout, parse_float=Decimal)["items"] if i["reportNamespace"] == namespace]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item["namespace"]] += item["estimatedCostUSD"]
    for report in reports:  # what byNamespace does not hold (idle, tokens without a model) stays home
        mine = sum((i["estimatedCostUSD"] for i in items if i["report"] == report["name"]), Decimal(0))
        totals[report["namespace"]] += report["estimatedCostUSD"] - mine
    return dict(totals)


def column_definition(root: Path) -> list[dict[str, Any]]:
    """ColumnDefinition of the metadata of the folder's first file (all files share the layout)."""
    first = sorted((root / "_metadata").rglob("*.metadata.json"))[0]
    columns: list[dict[str, Any]] = json.loads(first.read_text())["Schema"][0]["ColumnDefinition"]
    return columns


def duckdb_types(root: Path) -> str:
    """The read_json ``columns`` struct from the metadata: JSON numbers parsed straight into DECIMAL."""

    def sql_type(c: dict[str, Any]) -> str:
        if c["DataType"] == "Decimal":
            return f"DECIMAL(38,{c['NumberScale']})" if c["NumberScale"] else "BIGINT"
        return "JSON" if c["DataType"] == "JSON" else "VARCHAR"

    return "{" + ", ".join(f"'{c['ColumnName']}': '{sql_type(c)}'" for c in column_definition(root)) + "}"


def duckdb_table(root: Path, fmt: str) -> tuple[int, dict[str, Decimal], dict[str, str]]:
    import duckdb

    glob = f"'{root}/**/*.{fmt}'"
    source = {
        "parquet": f"read_parquet({glob}, hive_partitioning = true)",
        "csv": f"read_csv({glob}, hive_partitioning = true, types = {{'BilledCost': '{COST_TYPE}'}})",
        "jsonl": f"read_json({glob}, format = 'newline_delimited', hive_partitioning = true, "
        f"columns = {duckdb_types(root)})",
    }[fmt]
    con = duckdb.connect()
    count = con.sql(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    sums = dict(con.sql(f"SELECT SubAccountId, SUM(BilledCost) FROM {source} GROUP BY ALL").fetchall())
    row = con.sql(f"SELECT typeof(year), typeof(month) FROM {source} LIMIT 1").fetchall()[0]
    return count, {k: Decimal(v) for k, v in sums.items()}, {"year": row[0], "month": row[1]}


def arrow_table(root: Path, fmt: str) -> tuple[int, dict[str, Decimal], dict[str, str]]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    file_format: Any = "parquet"
    schema = None
    if fmt == "csv":
        convert = pacsv.ConvertOptions(column_types={"BilledCost": pa.decimal128(38, 12)})
        file_format = ds.CsvFileFormat(convert_options=convert)
    elif fmt == "jsonl":  # an explicit schema parses JSON numbers straight into decimals
        file_format = ds.JsonFileFormat()
        fields = [("BilledCost", pa.decimal128(38, 12)), ("SubAccountId", pa.string())]
        schema = pa.schema([*fields, ("version", pa.string()), ("year", pa.int32()), ("month", pa.int32())])
    table = ds.dataset(root, format=file_format, partitioning="hive", schema=schema).to_table()
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for account, cost in zip(table["SubAccountId"].to_pylist(), table["BilledCost"].to_pylist(), strict=True):
        sums[account] += cost
    types = {name: str(table.schema.field(name).type) for name in ("year", "month")}
    return table.num_rows, dict(sums), types


def polars_table(root: Path, fmt: str) -> tuple[int, dict[str, Decimal], dict[str, str]]:
    import polars as pl

    glob = f"{root}/**/*.{fmt}"
    types = {}
    if fmt == "parquet":
        frame = pl.scan_parquet(glob, hive_partitioning=True).collect()
        types = {name: str(frame.schema[name]) for name in ("year", "month")}
    elif fmt == "csv":  # polars reads CSV and JSON Lines without partition columns
        frame = pl.scan_csv(glob, schema_overrides={"BilledCost": pl.Decimal(38, 12)}).collect()
    else:  # polars parses JSON numbers as Float64 only: read the text, then cast
        frame = pl.scan_ndjson(glob, schema_overrides={"BilledCost": pl.String}).collect()
        frame = frame.with_columns(pl.col("BilledCost").cast(pl.Decimal(38, 12)))
    sums = frame.group_by("SubAccountId").agg(pl.col("BilledCost").sum())
    return frame.height, {k: Decimal(v) for k, v in sums.iter_rows()}, types


READERS: dict[str, Callable[[Path, str], tuple[int, dict[str, Decimal], dict[str, str]]]] = {
    "duckdb": duckdb_table,
    "pyarrow": arrow_table,
    "polars": polars_table,
}
INTEGER_TYPES = {"duckdb": {"BIGINT"}, "pyarrow": {"int32"}, "polars": {"Int64"}}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_hive_output_reads_as_one_table(reader_world: str, tmp_path: Path, fmt: str) -> None:
    ns = reader_world
    root = tmp_path / "lake"
    result = run_cli("export", "focus", "-n", ns, "--format", fmt, "--output-dir", str(root))
    assert result.returncode == 0, result.stderr
    # April: llama (<ns>-a), qwen (<ns>-b), idle (<ns>), weekly's April part (<ns>);
    # May: monthly's unknown-model row (<ns>), weekly's May part (<ns>)
    rows = 6
    # by hand: <ns>-a $7.055342 (not the list cost 8.819178 x 0.8 = 7.0553424), <ns>-b $0.25,
    # <ns>: idle $10 (not 3.333333 x 3 = 9.999999) + monthly $3 + weekly $1 (96/168 in April: 0.571428571429,
    # 72/168 in May: 0.428571428571, rounded cumulatively so that they add up to $1)
    by_hand = {f"{ns}-a": D("7.055342"), f"{ns}-b": D("0.25"), ns: D(14)}
    assert cr_totals(ns) == by_hand
    partitions = sorted(str(p.relative_to(root)) for p in root.rglob(f"*.{fmt}"))
    assert partitions == [
        f"version=focus-1.3/year=2026/month=4/part-00000.{fmt}",
        f"version=focus-1.3/year=2026/month=5/part-00000.{fmt}",
    ]
    for name, read in READERS.items():
        count, sums, types = read(root, fmt)
        assert count == rows, name
        assert sums == by_hand, name
        assert set(types.values()) <= INTEGER_TYPES[name], (name, types)

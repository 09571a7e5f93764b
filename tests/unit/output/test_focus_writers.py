"""FOCUS writers: golden files per layout, CSV/JSON/Parquet formats, atomic files, Hive partitions.

Regenerate the golden files (then read the diff!) with ``UPDATE_GOLDEN=1 python -m pytest <this file>``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from kubectl_infercost.core.focus.columns import Kind, Row, layout_for
from kubectl_infercost.output.focus_writers import (
    atomic_file,
    write,
    write_file,
    write_file_with_metadata,
    write_partitions,
)
from tests.focuscheck import check_csv, check_json, check_parquet, sample_rows

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "focus"
VERSIONS = ["1.0", "1.1", "1.2", "1.3"]

# The old exporter's 44 column names, in order (docs/export-focus.md#legacy-infercost-v1---columns-infercost-v1).
SEED_COLUMNS = [
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ChargePeriodStart", "ChargePeriodEnd",
    "BillingPeriodStart", "BillingPeriodEnd", "Currency", "ServiceName", "ServiceCategory", "ProviderName",
    "PublisherName", "InvoiceIssuerName", "ResourceId", "ResourceName", "ResourceType", "Region", "UsageQuantity",
    "UsageUnit", "PricingUnit", "PricingCategory", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags", "x-InferCostProfile",
    "x-InferGpuModel", "x-InferGpuCount", "x-InferTokensInput", "x-InferTokensOutput", "x-InferAmortizationYears",
    "x-InferElectricityRatePerKWh", "x-InferPUEFactor", "x-InferCloudEquivalentProvider",
    "x-InferCloudEquivalentModel", "x-InferCloudEquivalentCostUSD", "x-InferSavingsUSD", "x-InferSavingsPercent",
]  # fmt: skip


def render(fmt: str, version: str = "1.3", columns: str | None = None) -> str:
    layout, rows = sample_rows(version, columns, region_id="us-east-1")
    buffer = io.StringIO(newline="")
    write(fmt, buffer, layout, rows, generator="kubectl-infercost/test")
    return buffer.getvalue()


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.read_bytes() == text.encode("utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("version", VERSIONS)
def test_csv_golden_per_profile(version: str) -> None:
    text = render("csv", version)
    golden(f"focus-{version}.csv", text)
    records = check_csv(text, version)
    assert len(records) == 15


def test_json_golden() -> None:
    text = render("json")
    golden("focus-1.3.json", text)
    check_json(text, "1.3", csv_text=render("csv"))


def test_legacy_golden_and_seed_header() -> None:
    text = render("csv", columns="infercost-v1")
    golden("infercost-v1.csv", text)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == SEED_COLUMNS
    assert len(rows[0]) == 44
    assert all(len(r) == 44 for r in rows)
    # one row per (report, period, byModel[i]); the rollup for ops/monthly; idle rows on 04-29 and 04-30
    assert len(rows) == 1 + 2 + 5 + 2 + 1 + 1 + 1 + 2
    assert [r[0] for r in rows if r[16] == "GPU Pool"] == ["10.000000", "3.000000"]


def test_csv_bytes() -> None:
    text = render("csv")
    raw = text.encode("utf-8")
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in raw and raw.endswith(b"\n")
    # RFC 4180: a field with a comma or quote is quoted, quotes doubled
    assert '"LLM inference tokens, evil,""model"" =HYPERLINK(""x"") in namespace team-a, 2026-04-30"' in text
    assert "\n'@SUM(1,2)" not in text  # text columns are never at a line start
    assert len(text.split("\n")) - 2 == 15  # one line per record: no line breaks inside fields


@pytest.mark.parametrize("columns", [None, "infercost-v1"])
def test_csv_sink_writes_exactly_what_csv_writer_writes(columns: str | None) -> None:
    """The fast CSV path is byte-identical to the standard library's RFC 4180 writer.

    Text columns get hostile random text; numbers and date-times are ours and never need quotes. One row
    in ten also breaks the comma-free guarantee of columns 1-29 (the writer must then quote those too).
    """
    import random

    rng = random.Random(4180)
    alphabet = ["a", "Z", "0", ",", '"', "\n", " ", "=", "-", "é", "'", ";", "\t"]
    layout = layout_for(columns=columns)
    text = {Kind.STRING, Kind.JSON}

    def hostile() -> str | None:
        return None if rng.random() < 0.2 else "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 6)))

    rows: list[Row] = []
    for n in range(3000):
        row = [hostile() if c.kind in text else rng.choice([None, "1.500000", "-2", "2026-04-01T00:00:00Z"])
               for c in layout.columns]  # fmt: skip
        if n % 10 == 0:
            row[14] = 'a,"b"\nc'  # ResourceId: the core's guard forbids this; the writer must still cope
        rows.append(tuple(row))
    ours = io.StringIO(newline="")
    write("csv", ours, layout, rows)
    theirs = io.StringIO(newline="")
    writer = csv.writer(theirs, lineterminator="\n")
    writer.writerow(layout.names)
    writer.writerows(rows)
    assert ours.getvalue() == theirs.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_zero_rows(fmt: str) -> None:
    layout = layout_for()
    buffer = io.StringIO(newline="")
    assert write(fmt, buffer, layout, iter(()), generator="kubectl-infercost/test") == 0
    if fmt == "csv":
        assert buffer.getvalue() == ",".join(layout.names) + "\n"
    else:
        assert json.loads(buffer.getvalue()) == {
            "focus_version": "1.3",
            "layout": "focus-1.3",
            "generator": "kubectl-infercost/test",
            "records": [],
        }


def test_json_numbers_are_exact_text_and_tags_nested() -> None:
    doc = json.loads(render("json"), parse_float=Decimal)
    first = doc["records"][0]
    assert list(first)[:3] == ["BilledCost", "EffectiveCost", "ListCost"]
    assert first["BilledCost"] == Decimal("12.340000000000")
    assert first["ChargeClass"] is None
    assert first["Tags"]["infercost/report"] == "infercost/daily"
    assert first["x_InferTokensInput"] == 3000000
    assert '"BilledCost": 12.340000000000,' in render("json")  # not 12.34 through float


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_streaming_writes_before_the_input_ends(fmt: str) -> None:
    """Rows reach the stream while the input is still being produced (bounded memory)."""
    layout, rows = sample_rows()
    buffer = io.StringIO(newline="")
    written_before_last: list[int] = []

    def produce() -> Iterator[Row]:
        for _ in range(5000):
            yield rows[0]
        written_before_last.append(buffer.getvalue().count("\n"))
        yield rows[-1]

    assert write(fmt, buffer, layout, produce()) == 5001
    # CSV is written in chunks of 2048 rows, JSON row by row: at least 4096 rows were out already
    assert written_before_last[0] >= 4096


def test_parquet_types_values_and_empty_file(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")  # a dependency: fails loudly if missing
    import pyarrow.parquet as pq

    layout, rows = sample_rows(region_id="us-east-1")
    path = tmp_path / "out.parquet"
    assert write_file("parquet", path, layout, rows) == 15
    records = check_parquet(path, "1.3")
    csv_records = list(csv.DictReader(io.StringIO(render("csv"), newline="")))
    assert [{k: v or None for k, v in r.items()} for r in csv_records] == records
    empty = tmp_path / "empty.parquet"
    assert write_file("parquet", empty, layout, []) == 0
    table = pq.read_table(empty)
    assert table.num_rows == 0 and table.schema.names == list(layout.names)
    assert table.schema.field("InvoiceId").type == pa.string()
    assert str(table.schema.field("x_InferCloudEquivalentCostUSD").type) == "decimal128(38, 12)"
    with pytest.raises(ValueError, match="no Parquet type"):
        write_file("parquet", tmp_path / "legacy.parquet", layout_for(columns="infercost-v1"), [])
    assert not (tmp_path / "legacy.parquet").exists()


def test_all_null_parquet_columns_keep_their_type(tmp_path: Path) -> None:
    layout, rows = sample_rows()  # no region: RegionId/RegionName null everywhere
    path = tmp_path / "x.parquet"
    write_file("parquet", path, layout, rows)
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    assert str(schema.field("RegionId").type) == "string"
    assert str(schema.field("SkuPriceDetails").type) == "string"
    assert str(schema.field("CommitmentDiscountStatus").type) == "string"
    check_parquet(path, "1.3")


def test_atomic_file_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old\n")

    def broken() -> Iterator[Row]:
        yield from sample_rows()[1][:2]
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_file("csv", target, layout_for(), broken())
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]  # no temporary file left
    layout, rows = sample_rows()
    assert write_file("csv", target, layout, rows) == 15
    assert target.read_text().startswith("BilledCost,")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    with atomic_file(tmp_path / "b.bin", binary=True) as handle:
        handle.write(b"\x00")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_hive_partitions(tmp_path: Path, fmt: str) -> None:
    layout, rows = sample_rows()
    created = datetime(2026, 5, 2, 10, 0, tzinfo=UTC)
    counts = write_partitions(tmp_path, fmt, layout, rows, created, generator="kubectl-infercost/test")
    april = tmp_path / "version=focus-1.3" / "year=2026" / "month=4" / f"part-00000.{fmt}"
    may = tmp_path / "version=focus-1.3" / "year=2026" / "month=5" / f"part-00000.{fmt}"
    # April: 3 (04-29) + 6 (04-30) + 1 (W18 April part) + 1 (ops rollup); May: 2 (05-01) + 1 (W18) + 1 (W19)
    assert counts == {april: 11, may: 4}
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    meta_dir = Path("_metadata") / "version=focus-1.3" / "year=2026"
    assert files == sorted(
        [str(p.relative_to(tmp_path)) for p in (april, may)]
        + [str(meta_dir / f"month={m}" / f"part-00000.{fmt}.metadata.json") for m in (4, 5)]
    )
    # partition folders hold the data file only
    assert [p.name for p in april.parent.iterdir()] == [april.name]
    meta = json.loads((tmp_path / meta_dir / "month=4" / f"part-00000.{fmt}.metadata.json").read_text())
    (schema,) = meta["Schema"]
    assert schema["FocusVersion"] == "1.3" and meta["x_RowCount"] == 11 and meta["x_Format"] == fmt
    assert schema["CreationDate"] == "2026-05-02T10:00:00Z"
    assert meta["DataGenerator"] == {"DataGenerator": "kubectl-infercost"} and schema["DataGeneratorVersion"] == "test"
    assert [c["ColumnName"] for c in schema["ColumnDefinition"]] == list(layout.names)
    assert schema["ColumnDefinition"][0] == {"ColumnName": "BilledCost", "DataType": "Decimal", "NumberScale": 12}
    if fmt == "csv":
        records = check_csv(april.read_text(), "1.3")
        assert {r["BillingPeriodStart"] for r in records} == {"2026-04-01T00:00:00Z"}
        may_records = check_csv(may.read_text(), "1.3")
        assert {r["BillingPeriodStart"] for r in may_records} == {"2026-05-01T00:00:00Z"}
    elif fmt == "parquet":
        assert len(check_parquet(april, "1.3")) == 11
    else:
        assert len(json.loads(may.read_text())["records"]) == 4


def test_out_file_gets_its_metadata_in_an_underscore_folder(tmp_path: Path) -> None:
    layout, rows = sample_rows()
    target = tmp_path / "april.csv"
    assert write_file_with_metadata("csv", target, layout, rows, datetime(2026, 5, 2, tzinfo=UTC)) == 15
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "_metadata/april.csv.metadata.json",
        "april.csv",
    ]
    meta = json.loads((tmp_path / "_metadata" / "april.csv.metadata.json").read_text())
    assert meta["x_RowCount"] == 15 and meta["x_Format"] == "csv"
    assert meta["Schema"][0]["CreationDate"] == "2026-05-02T00:00:00Z"


def test_partitions_use_the_profile_name(tmp_path: Path) -> None:
    layout, rows = sample_rows("1.1")
    counts = write_partitions(tmp_path, "csv", layout, rows, datetime(2026, 5, 2, tzinfo=UTC))
    assert {p.parts[-4] for p in counts} == {"version=focus-1.1"}
    assert {p.parts[-2] for p in counts} == {"month=4", "month=5"}
    for path in counts:
        check_csv(path.read_text(), "1.1")


def test_legacy_json_is_not_labelled_as_focus() -> None:
    doc = json.loads(render("json", columns="infercost-v1"), parse_float=Decimal)
    assert doc["focus_version"] is None and doc["layout"] == "infercost-v1"
    assert len(doc["records"]) == 14  # 12 byModel and rollup rows, 2 idle rows (04-29 $10, 04-30 $3)
    assert list(doc["records"][0]) == SEED_COLUMNS
    assert doc["records"][0]["BilledCost"] == Decimal("12.340000")
    assert doc["records"][0]["Tags"]["model"] == "meta-llama/Llama-3.1-8B-Instruct"


@pytest.mark.parametrize(("version", "columns"), [(v, None) for v in VERSIONS] + [("1.3", "infercost-v1")])
def test_every_layout_adds_up_to_the_usage_reports(version: str, columns: str | None) -> None:
    """Σ BilledCost per report = Σ estimatedCostUSD of its periods, to the digit (idle and slices included)."""
    from tests.focuscheck import sample_sources

    layout, rows = sample_rows(version, columns)
    names = list(layout.names)
    by_report: dict[str, Decimal] = {}
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        # the report is x_InferUsageReport in FOCUS layouts, the start of ResourceId (<ns>/<report>/...) in legacy
        key = rec["x_InferUsageReport"] if columns is None else "/".join((rec["ResourceId"] or "").split("/")[:2])
        by_report[key or ""] = by_report.get(key or "", Decimal(0)) + Decimal(rec["BilledCost"] or "")
    expected: dict[str, Decimal] = {}
    for report, _profile in sample_sources():
        periods = [report.status, *report.status.history]
        ref = f"{report.metadata.namespace}/{report.metadata.name}"
        expected[ref] = sum((p.estimated_cost_usd for p in periods if p.period), Decimal(0))
    assert by_report == expected


def test_json_lines_are_the_json_records_one_per_line() -> None:
    text = render("jsonl")
    envelope = json.loads(render("json"), parse_float=Decimal)
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 16  # 15 records, each ending with LF
    assert [json.loads(line, parse_float=Decimal) for line in lines[:-1]] == envelope["records"]
    first = json.loads(lines[0], parse_float=Decimal)
    assert first["BilledCost"] == Decimal("12.340000000000") and isinstance(first["Tags"], dict)
    assert first["x_InferTokensInput"] == 3000000 and first["ChargeClass"] is None  # types kept
    assert render("jsonl", columns="infercost-v1").count("\n") == 14


def test_metadata_shape_per_focus_version() -> None:
    """1.2: flat, DataGenerator a string, ProviderTagPrefixes on Tags; 1.3/1.4: objects and collections."""
    from kubectl_infercost.output.focus_metadata import metadata_document

    created = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    flat = metadata_document(layout_for("1.2"), "csv", 3, created, "kubectl-infercost/0.1.0", dataset="acme")
    assert [k for k in flat if not k.startswith("x_")] == [
        "DataGenerator", "SchemaId", "FocusVersion", "CreationDate", "DataGeneratorVersion", "ColumnDefinition",
    ]  # fmt: skip
    assert flat["DataGenerator"] == "kubectl-infercost" and flat["DataGeneratorVersion"] == "0.1.0"
    assert flat["FocusVersion"] == "1.2" and flat["CreationDate"] == "2026-12-01T09:30:00Z"
    tags = next(c for c in flat["ColumnDefinition"] if c["ColumnName"] == "Tags")
    assert tags == {"ColumnName": "Tags", "DataType": "JSON", "ProviderTagPrefixes": ["infercost/"]}
    for version in ("1.3", "1.4"):
        doc = metadata_document(layout_for(version), "parquet", 3, created, "kubectl-infercost/0.1.0", dataset="acme")
        assert [k for k in doc if not k.startswith("x_")] == ["DataGenerator", "DatasetInstance", "Schema"]
        assert doc["DataGenerator"] == {"DataGenerator": "kubectl-infercost"}
        (instance,) = doc["DatasetInstance"]
        assert instance["FocusDatasetId"] == "CostAndUsage"
        assert instance["DatasetInstanceName"] == "InferCost cost and usage, acme"
        (schema,) = doc["Schema"]
        assert schema["DatasetInstanceId"] == instance["DatasetInstanceId"]
        assert schema["FocusVersion"] == version
        names = [c["ColumnName"] for c in schema["ColumnDefinition"]]
        assert ("ProviderName" in names) == (version == "1.3")
    # the instance id is a stable GUID per (account, layout): the same on every run, another per account
    again = metadata_document(layout_for("1.3"), "csv", 9, created, "kubectl-infercost/0.2.0", dataset="acme")
    other = metadata_document(layout_for("1.3"), "csv", 9, created, "kubectl-infercost/0.1.0", dataset="beta")
    first = metadata_document(layout_for("1.3"), "csv", 3, created, "kubectl-infercost/0.1.0", dataset="acme")
    assert again["DatasetInstance"] == first["DatasetInstance"] != other["DatasetInstance"]
    legacy = metadata_document(layout_for(columns="infercost-v1"), "csv", 3, created, "kubectl-infercost/0.1.0")
    assert legacy["FocusVersion"] is None and legacy["DataGenerator"] == "kubectl-infercost"


def test_focus_14_profile_drops_the_removed_columns() -> None:
    layout, _rows = sample_rows("1.4")
    assert len(layout.names) == 57
    assert {"ProviderName", "PublisherName", "InvoiceId"}.isdisjoint(layout.names)
    assert layout.names[:31] == layout_for("1.3").names[:31]  # columns 1-31 are common to every profile
    assert check_csv(render("csv", "1.4"), "1.4")

"""FOCUS export benchmark (BENCHMARKS.md): 1,000,000 history rows to CSV and to Parquet, next to a floor.

* CSV floor: ``csv.writer(...).writerows`` on prebuilt tuples of the same shape (60 text fields).
* Parquet floor, as the CSV target defines it (BENCHMARKS.md) ("likewise"): the same prebuilt tuples turned into Arrow
  columns (text cast to the column types) and written by ``pyarrow.parquet.ParquetWriter``.
  Also shown, as a lower bound: ParquetWriter on prebuilt, already-typed record batches.
* Ours: UsageReport models -> :func:`build_rows` (exact Decimal/integer arithmetic, formatting, slugs,
  cloud-equivalent columns) -> the streaming writer, end to end. Also shown: the writer alone on
  prebuilt rows, and the row builder alone. Our Parquet writer casts and encodes each row group in a
  helper thread (Arrow releases the GIL) while the next rows are built; the floor is single-threaded.

The data: 1,000 UsageReports (daily, Separate idle) sharing a status with 100 closed days of history,
each with 9 (namespace, model) entries and idle cost: 1,000 x 100 x 10 = 1,000,000 rows. Prebuilt
floors reuse a block of 10,000 distinct rows (or one 100,000-row batch) so memory stays small; the
per-row work of csv.writer and of the Parquet encoder does not depend on object identity.

Usage: python bench/bench_focus.py [--rows N]. Prints seconds and ratios; asserts nothing.
Target: ours <= 2x the floor.
"""

from __future__ import annotations

import argparse
import collections
import csv
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubectl_infercost.core.cloud import PriceCatalog
from kubectl_infercost.core.focus import ExportOptions, Source, build_rows
from kubectl_infercost.core.focus.columns import Layout, Row, layout_for
from kubectl_infercost.models import CostProfile, UsageReport
from kubectl_infercost.output.focus_writers import write, write_file

MODELS = 9
DAYS = 100


def sources(reports: int) -> list[Source]:
    """``reports`` UsageReports sharing one status: DAYS closed days, MODELS models + idle per day."""
    first = date(2026, 1, 1)
    history = []
    for d in range(DAYS):
        day = first + timedelta(days=d)
        models: list[dict[str, Any]] = [
            {
                "model": f"org-{m}/Model-{m}.{d % 3}B-Instruct",
                "namespace": f"team-{m % 4}",
                "inputTokens": 1_000_000 + 7919 * m + 104729 * d,
                "outputTokens": 250_000 + 613 * m + 7 * d,
                "estimatedCostUSD": str(Decimal("12.345678") + Decimal(m) + Decimal(d) / 7),
            }
            for m in range(MODELS)
        ]
        history.append(
            {
                "period": day.isoformat(),
                "periodStart": f"{day.isoformat()}T00:00:00Z",
                "periodEnd": f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z",
                "inputTokens": sum(m["inputTokens"] for m in models),
                "outputTokens": sum(m["outputTokens"] for m in models),
                "estimatedCostUSD": str(sum(Decimal(m["estimatedCostUSD"]) for m in models) + Decimal("31.5")),
                "idleCostUSD": "31.5",
                "idleGpuHours": "17.25",
                "gpuHours": "192",
                "byModel": models,
            }
        )
    history.reverse()  # newest first, as the reconcile writes it
    base = UsageReport.model_validate(
        {
            "metadata": {"name": "r0", "namespace": "infercost"},
            "spec": {"costProfileRef": "h100", "schedule": "daily"},
            "status": {"history": history},
        }
    )
    profile = CostProfile.model_validate(
        {
            "metadata": {"name": "h100", "namespace": "infercost"},
            "spec": {
                "hardware": {"gpuModel": "NVIDIA H100 80GB HBM3", "gpuCount": 8, "purchasePriceUSD": 240000},
                "electricity": {"ratePerKWh": "0.12", "pueFactor": "1.3"},
            },
            "status": {"hourlyCostUSD": "14.79"},
        }
    )
    out: list[Source] = []
    for i in range(reports):
        meta = base.metadata.model_copy(update={"name": f"r{i:05d}"})
        out.append((base.model_copy(update={"metadata": meta}), profile))
    return out


def catalog() -> PriceCatalog:
    from kubectl_infercost.pricing import load_catalog

    return load_catalog()


def timed(label: str, fn: Callable[[], Any], out: Path | None = None) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    if out is not None:
        for path in out.iterdir():
            path.unlink()  # keep tmpfs small
    print(f"  {label:<58} {seconds:8.2f} s", flush=True)
    return seconds


def repeat(block: list[Row], total: int) -> Iterator[list[Row]]:
    done = 0
    while done < total:
        part = block[: total - done]
        done += len(part)
        yield part


@dataclass(frozen=True)
class Run:
    """What every measurement of one run shares: the scratch folder, the layout and the inputs."""

    out: Path
    layout: Layout
    block: list[Row]
    total: int
    srcs: list[Source]
    cat: PriceCatalog
    opts: ExportOptions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write (multiple of 1,000)")
    args = parser.parse_args()
    reports = max(1, args.rows // (DAYS * (MODELS + 1)))
    total = reports * DAYS * (MODELS + 1)
    layout = layout_for()
    opts = ExportOptions(layout=layout, billing_account_id="bench-cluster")
    srcs, cat = sources(reports), catalog()
    block = list(build_rows(srcs[:10], cat, opts))  # 10,000 distinct prebuilt rows
    print(f"FOCUS export, {total:,} rows x {len(layout.names)} columns (python {sys.version.split()[0]})")
    # tmpfs when available: 1 GB files on a disk measure its writeback, not the formatting.
    scratch = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="bench-focus-", dir=scratch) as tmp:
        run = Run(Path(tmp), layout, block, total, srcs, cat, opts)
        rows_only = bench_csv(run)
        bench_parquet(run, rows_only)
    return 0


def bench_csv(run: Run) -> float:
    """The CSV figures; returns the row builder's own time."""
    out, layout, block, total, srcs, cat, opts = run.out, run.layout, run.block, run.total, run.srcs, run.cat, run.opts
    sizes: list[int] = []  # file sizes of the end-to-end runs

    def floor_csv() -> None:
        with open(out / "floor.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(layout.names)
            for part in repeat(block, total):
                writer.writerows(part)

    def ours_csv_writer_only() -> None:
        with open(out / "writer.csv", "w", encoding="utf-8", newline="") as fh:
            write("csv", fh, layout, (row for part in repeat(block, total) for row in part))

    def ours_rows_only() -> None:
        collections.deque(build_rows(srcs, cat, opts), maxlen=0)

    def ours_csv() -> None:
        # as `kubectl infercost export focus > file`: the same kind of sink as the floor
        with open(out / "ours.csv", "w", encoding="utf-8", newline="") as fh:
            assert write("csv", fh, layout, build_rows(srcs, cat, opts)) == total
        sizes.append(os.path.getsize(out / "ours.csv"))

    def ours_csv_out() -> None:
        # as `--out file`: temporary file, fsync, atomic rename
        assert write_file("csv", out / "ours-out.csv", layout, build_rows(srcs, cat, opts)) == total

    print(f"CSV (files in {out})")
    floor = timed("floor: csv.writer on prebuilt tuples", floor_csv, out)
    writer_only = timed("ours, writer only (CsvSink) on prebuilt rows", ours_csv_writer_only, out)
    rows_only = timed("ours, row builder only (no output)", ours_rows_only, out)
    ours = timed("ours, end to end (UsageReports -> rows -> CSV file)", ours_csv, out)
    ours_out = timed("ours, end to end with --out (atomic file, fsync)", ours_csv_out, out)
    size = sizes[0]
    print(f"  ratio end to end / floor: {ours / floor:.2f}x   writer only / floor: {writer_only / floor:.2f}x"
          f"   builder alone / floor: {rows_only / floor:.2f}x   --out / floor: {ours_out / floor:.2f}x"
          f"   (file {size / 1e6:.0f} MB)")  # fmt: skip
    return rows_only


def bench_parquet(run: Run, rows_only: float) -> None:
    """The Parquet figures, against pyarrow on prebuilt tuples."""
    out, layout, block, total, srcs, cat, opts = run.out, run.layout, run.block, run.total, run.srcs, run.cat, run.opts
    sizes: list[int] = []
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kubectl_infercost.output.focus_writers import parquet_schema

    schema = parquet_schema(layout)
    batch_rows = [block[i % len(block)] for i in range(131072)]
    columns = list(zip(*batch_rows, strict=True))
    arrays = [
        pa.array(col, type=pa.string()).cast(f.type) if f.type != pa.string() else pa.array(col, type=pa.string())
        for col, f in zip(columns, schema, strict=True)
    ]
    prebuilt = pa.RecordBatch.from_arrays(arrays, schema=schema)

    def floor_parquet() -> None:
        with pq.ParquetWriter(str(out / "floor.parquet"), schema, compression="snappy") as writer:
            done = 0
            while done < total:
                n = min(prebuilt.num_rows, total - done)
                writer.write_batch(prebuilt.slice(0, n))
                done += n

    def as_typed(values: tuple[str | None, ...], field: Any) -> Any:
        text = pa.array(values, type=pa.string())
        return text if field.type == pa.string() else text.cast(field.type)

    def floor_parquet_tuples() -> None:
        with pq.ParquetWriter(str(out / "floor-tuples.parquet"), schema, compression="snappy") as writer:
            done = 0
            while done < total:
                n = min(len(batch_rows), total - done)
                cols = list(zip(*batch_rows[:n], strict=True))
                typed = [as_typed(c, f) for c, f in zip(cols, schema, strict=True)]
                writer.write_batch(pa.RecordBatch.from_arrays(typed, schema=schema))
                done += n

    def ours_parquet_writer_only() -> None:
        write_file(
            "parquet", out / "writer.parquet", layout, (row for part in repeat(block, total) for row in part)
        )

    def ours_parquet() -> None:
        assert write_file("parquet", out / "ours.parquet", layout, build_rows(srcs, cat, opts)) == total
        sizes.append(os.path.getsize(out / "ours.parquet"))

    print("Parquet")
    pfloor = timed("floor: pyarrow on prebuilt tuples (columns, casts, ParquetWriter)", floor_parquet_tuples, out)
    typed_floor = timed("lower bound: ParquetWriter on prebuilt typed batches", floor_parquet, out)
    pwriter = timed("ours, writer only (text -> Arrow casts) on prebuilt rows", ours_parquet_writer_only, out)
    pours = timed("ours, end to end (UsageReports -> rows -> Parquet file)", ours_parquet, out)
    psize = sizes[-1]
    print(f"  ratio end to end / floor: {pours / pfloor:.2f}x   writer only / floor: {pwriter / pfloor:.2f}x"
          f"   (file {psize / 1e6:.0f} MB)")  # fmt: skip
    print(f"  end to end / typed-batch lower bound: {pours / typed_floor:.2f}x"
          f"   end to end / (builder alone + floor): {pours / (rows_only + pfloor):.2f}x")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

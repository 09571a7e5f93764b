"""FOCUS writers: CSV, JSON and Parquet from an iterable of already-formatted rows.

* CSV: UTF-8 without BOM, LF, RFC 4180 quoting (only where needed), a header row (the only row when
  there are no records). Streaming.
* JSON: ``{"focus_version": "1.3", "layout": ..., "generator": ..., "records": [...]}``, one record
  per line, keys in column order. Numbers are written as their CSV text (never through float), JSON
  columns (Tags) as nested objects, nulls as ``null``. Streaming.
* JSON Lines (``jsonl``): the same records, one per line, without the envelope. Streaming.
* Parquet (pyarrow, imported lazily): costs decimal128(38,12), prices and quantities decimal128(38,6),
  percentages decimal128(38,2), counts int64, date-times timestamp[us, tz=UTC], the rest string;
  all-null columns keep their type. Written in row groups of ``batch_rows``.
* Files are written atomically (a temporary file in the same directory, then ``os.replace``), and
  ``write_partitions`` lays them out Hive-style: ``DIR/version=<layout>/year=YYYY/month=M/
  part-00000.<ext>``, with the metadata of each file under ``DIR/_metadata/`` (never in a partition).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any, Protocol

from .. import __version__
from ..core.focus.columns import Kind, Layout, Row
from .focus_metadata import metadata_document, metadata_path, write_metadata
from .focus_parquet import ParquetSink
from .focus_parquet import arrow_type as arrow_type  # re-exported
from .focus_parquet import parquet_schema as parquet_schema  # re-exported

GENERATOR = f"kubectl-infercost/{__version__}"
FORMATS = ("csv", "json", "jsonl", "parquet")
_encode_str: Callable[[str], str] = encode_basestring


class Sink(Protocol):
    count: int

    def write(self, rows: Iterable[Row]) -> None: ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------------------------------
# CSV


_NEEDS_QUOTES = re.compile('[,"\r\n]')


def _csv_field(value: str | None) -> str:
    """RFC 4180 (csv.QUOTE_MINIMAL): quote a field holding , " CR or LF; double the quotes."""
    if not value:
        return ""
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


class CsvSink:
    """RFC 4180 CSV with LF line ends; the header is written at once.

    Byte-for-byte what ``csv.writer(lineterminator="\\n")`` writes (tests compare them), about three
    times faster: only text and JSON columns are inspected for quoting, and in a FOCUS layout the
    fields of columns 1-29 (comma-free by construction) are checked as one block, falling back to
    quoting every field should that block ever hold a comma, quote or line break. Numbers and
    date-times come from the core's formatters and never need quotes. Lines are written in blocks.
    """

    def __init__(self, stream: IO[str], layout: Layout) -> None:
        self._stream = stream
        self._prefix = 29 if layout.conformant else 0
        self._text = [
            i for i, c in enumerate(layout.columns) if i >= self._prefix and c.kind in (Kind.STRING, Kind.JSON)
        ]
        stream.write(",".join(_csv_field(name) for name in layout.names) + "\n")
        self.count = 0

    def _line(self, row: Row) -> str:
        values = [value or "" for value in row]
        prefix = self._prefix
        if prefix:
            head = ",".join(values[:prefix])
            if head.count(",") != prefix - 1 or '"' in head or "\n" in head or "\r" in head:
                return ",".join([_csv_field(value) for value in row])
        for i in self._text:
            value = values[i]
            if value and ('"' in value or "," in value or "\n" in value or "\r" in value):
                values[i] = '"' + value.replace('"', '""') + '"'
        return ",".join(values)

    def write(self, rows: Iterable[Row]) -> None:
        write, line = self._stream.write, self._line
        lines: list[str] = []
        append = lines.append
        for row in rows:
            append(line(row))
            if len(lines) >= 2048:
                self.count += len(lines)
                append("")
                write("\n".join(lines))
                lines.clear()
        if lines:
            self.count += len(lines)
            append("")
            write("\n".join(lines))

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------------
# JSON


class JsonSink:
    """The peer tools' envelope, streamed one record per line."""

    def __init__(self, stream: IO[str], layout: Layout, generator: str = GENERATOR) -> None:
        self._stream = stream
        self._spec = [(encode_basestring(c.name) + ": ", c.kind.numeric or c.kind is Kind.JSON) for c in layout.columns]
        head = {"focus_version": layout.focus_version, "layout": layout.name, "generator": generator}
        stream.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "records": [')
        self.count = 0

    def _record(self, row: Row) -> str:
        parts = []
        for (prefix, raw), value in zip(self._spec, row, strict=True):
            if value is None:
                parts.append(prefix + "null")
            elif raw:
                parts.append(prefix + value)
            else:
                parts.append(prefix + _encode_str(value))
        return "{" + ", ".join(parts) + "}"

    def write(self, rows: Iterable[Row]) -> None:
        write, record = self._stream.write, self._record
        for row in rows:
            write(("\n" if self.count == 0 else ",\n") + record(row))
            self.count += 1

    def close(self) -> None:
        self._stream.write("\n]}\n" if self.count else "]}\n")


class JsonLinesSink(JsonSink):
    """JSON Lines: one record object per line, nothing else (BigQuery, Snowflake, DuckDB, Spark load it)."""

    def __init__(self, stream: IO[str], layout: Layout) -> None:
        self._stream = stream
        self._spec = [(encode_basestring(c.name) + ": ", c.kind.numeric or c.kind is Kind.JSON) for c in layout.columns]
        self.count = 0

    def write(self, rows: Iterable[Row]) -> None:
        write, record = self._stream.write, self._record
        lines: list[str] = []
        for row in rows:
            lines.append(record(row))
            if len(lines) >= 2048:
                write("\n".join(lines) + "\n")
                self.count += len(lines)
                lines.clear()
        if lines:
            write("\n".join(lines) + "\n")
            self.count += len(lines)

    def close(self) -> None:
        pass


# Parquet: ParquetSink, arrow_type and parquet_schema live in .focus_parquet


# ---------------------------------------------------------------------------------------------------
# entry points


def open_sink(fmt: str, stream: IO[Any], layout: Layout, generator: str = GENERATOR) -> Sink:
    if fmt == "csv":
        return CsvSink(stream, layout)
    if fmt == "json":
        return JsonSink(stream, layout, generator)
    if fmt == "jsonl":
        return JsonLinesSink(stream, layout)
    if fmt == "parquet":
        return ParquetSink(stream, layout)
    raise ValueError(f"unknown format {fmt!r}")


def write(fmt: str, stream: IO[Any], layout: Layout, rows: Iterable[Row], generator: str = GENERATOR) -> int:
    """Write every row to ``stream`` (text for csv/json, binary for parquet); returns the row count."""
    sink = open_sink(fmt, stream, layout, generator)
    sink.write(rows)
    sink.close()
    return sink.count


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file that appears at ``path`` complete or not at all (temp file in the same dir, os.replace)."""
    target = Path(path)
    directory = target.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        if binary:
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_file(fmt: str, path: str | Path, layout: Layout, rows: Iterable[Row], generator: str = GENERATOR) -> int:
    with atomic_file(path, binary=fmt == "parquet") as handle:
        return write(fmt, handle, layout, rows, generator)


def partition_path(root: str | Path, layout: Layout, year: int, month: int, fmt: str) -> Path:
    """``root/version=<layout>/year=2026/month=4/part-00000.<ext>``: integer partition values, unpadded.

    Unpadded, so every partition-aware reader (DuckDB, pyarrow, polars, Spark) types year and month as
    integers alike; a zero-padded ``month=04`` is an integer to some and text to DuckDB.
    """
    return Path(root) / f"version={layout.name}" / f"year={year}" / f"month={month}" / f"part-00000.{fmt}"


def write_partitions(
    root: str | Path,
    fmt: str,
    layout: Layout,
    rows: Iterable[Row],
    created: datetime,
    generator: str = GENERATOR,
    dataset: str = "cluster",
) -> dict[Path, int]:
    """Hive-style partitions by BillingPeriodStart's year and month; returns {file: rows}.

    Partition folders hold data files only; each file's metadata goes to ``root/_metadata/`` (a
    leading underscore: readers of the folder skip it, see :func:`.focus_metadata.metadata_path`).
    Every file of the run is written atomically and only once all rows are written, so a failed run
    leaves the previous partitions untouched. Partitions of months absent from this run are kept.
    """
    key_index = layout.index("BillingPeriodStart")
    counts: dict[Path, int] = {}
    with ExitStack() as stack:
        sinks: dict[str, tuple[Path, Sink]] = {}
        for month_key, group in itertools.groupby(rows, key=lambda r: (r[key_index] or "")[:7]):
            if month_key not in sinks:
                year, month = month_key.split("-")
                path = partition_path(root, layout, int(year), int(month), fmt)
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = stack.enter_context(atomic_file(path, binary=fmt == "parquet"))
                sinks[month_key] = (path, open_sink(fmt, handle, layout, generator))
            sinks[month_key][1].write(group)
        for path, sink in sinks.values():
            sink.close()
            counts[path] = sink.count
        for path, count in counts.items():
            target = metadata_path(path, root)
            target.parent.mkdir(parents=True, exist_ok=True)
            meta = stack.enter_context(atomic_file(target))
            write_metadata(meta, metadata_document(layout, fmt, count, created, generator, dataset))
    return counts


def write_file_with_metadata(
    fmt: str,
    path: str | Path,
    layout: Layout,
    rows: Iterable[Row],
    created: datetime,
    generator: str = GENERATOR,
    dataset: str = "cluster",
) -> int:
    """``--out FILE``: the data file, then its metadata in ``_metadata/`` beside it (both atomic)."""
    count = write_file(fmt, path, layout, rows, generator)
    target = metadata_path(Path(path))
    target.parent.mkdir(exist_ok=True)
    with atomic_file(target) as meta:
        write_metadata(meta, metadata_document(layout, fmt, count, created, generator, dataset))
    return count

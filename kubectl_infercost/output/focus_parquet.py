"""FOCUS Parquet writer (see :mod:`.focus_writers` for the formats): typed columns from formatted rows.

Costs decimal128(38,12), prices and quantities decimal128(38,6), percentages decimal128(38,2), counts
int64, date-times timestamp[us, tz=UTC], the rest string; all-null columns keep their type. pyarrow is
imported lazily (start-up time).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from contextlib import suppress
from typing import IO, Any

from ..core.focus.columns import SCALE, Kind, Layout, Row


def arrow_type(kind: Kind) -> Any:
    import pyarrow as pa

    if kind in SCALE:
        return pa.decimal128(38, SCALE[kind])
    if kind is Kind.COUNT:
        return pa.int64()
    if kind is Kind.DATETIME:
        return pa.timestamp("us", tz="UTC")
    if kind in (Kind.STRING, Kind.JSON):
        return pa.string()
    raise ValueError(f"{kind.value} columns have no Parquet type (the legacy layout is CSV and JSON only)")


def parquet_schema(layout: Layout) -> Any:
    import pyarrow as pa

    fields = [pa.field(c.name, arrow_type(c.kind), nullable=True) for c in layout.columns]
    meta = {"focus_version": layout.focus_version or "", "layout": layout.name}
    return pa.schema(fields, metadata=meta)


_SAME, _TEXT, _REPEAT = 0, 1, 2


class ParquetSink:
    """Row groups of ``batch_rows``; text is converted to the column types by Arrow's own casts.

    Rows are transposed into column lists in blocks of 512 as they arrive (no row group's worth of row
    tuples stays alive for the garbage collector to walk). A column equal to an earlier one of the same
    type (the four costs, the provider names, ...) reuses its array; a column holding one value throughout
    is converted once and repeated. Only making Arrow text from Python strings needs the GIL: the casts
    and the encoding of a row group run in a thread while the next rows are built. At most one row group
    is in flight, and none once :meth:`write` or :meth:`close` returns.
    """

    def __init__(self, stream: IO[bytes] | str, layout: Layout, batch_rows: int = 131072) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self._schema = parquet_schema(layout)
        self._types = [f.type for f in self._schema]
        self._type_keys = [str(t) for t in self._types]
        # A Python file gets an Arrow buffer in front: the encoding thread then rarely needs the GIL.
        self._buffer = None
        if not isinstance(stream, str | pa.NativeFile):
            self._buffer = pa.BufferedOutputStream(pa.PythonFile(stream, mode="w"), buffer_size=1 << 23)
        self._writer = pq.ParquetWriter(self._buffer or stream, self._schema, compression="snappy")
        self._batch_rows = batch_rows
        self._columns: list[list[str | None]] = [[] for _ in self._types]
        self._pending = 0
        self._inflight: tuple[threading.Thread, list[BaseException]] | None = None
        self.count = 0

    def write(self, rows: Iterable[Row]) -> None:
        iterator = iter(rows)
        try:
            while chunk := list(itertools.islice(iterator, min(512, self._batch_rows - self._pending))):
                for column, part in zip(self._columns, zip(*chunk, strict=True), strict=True):
                    column.extend(part)
                self._pending += len(chunk)
                if self._pending >= self._batch_rows:
                    self._flush()
        except BaseException:
            self._abandon()
            raise
        self._wait()

    def close(self) -> None:
        try:
            self._flush()
            self._wait()
        except BaseException:
            self._abandon()
            raise
        self._writer.close()
        if self._buffer is not None:
            self._buffer.detach()  # writes what is buffered; the stream stays open

    def _abandon(self) -> None:
        """After a failure: let the row group in flight finish, then close while the stream is open."""
        self._wait(quiet=True)
        with suppress(Exception):
            self._writer.close()
        with suppress(Exception):
            if self._buffer is not None:
                self._buffer.detach()

    def _flush(self) -> None:
        count, columns, keys, pa = self._pending, self._columns, self._type_keys, self._pa
        if not count:
            return
        steps: list[tuple[int, Any]] = []  # per column: (_SAME, earlier column) or (_TEXT | _REPEAT, text)
        for index, values in enumerate(columns):
            first = values[0]
            same = next((i for i in range(index) if keys[i] == keys[index] and columns[i] == values), None)
            if same is not None:
                steps.append((_SAME, same))
            elif values[-1] == first and values == [first] * count:
                steps.append((_REPEAT, None if first is None else pa.array([first], type=pa.string())))
            else:
                steps.append((_TEXT, pa.array(values, type=pa.string())))
        self._columns, self._pending = [[] for _ in self._types], 0
        self._wait()
        errors: list[BaseException] = []
        thread = threading.Thread(target=self._encode, args=(steps, count, errors), name="parquet-row-group")
        self._inflight = (thread, errors)
        thread.start()

    def _encode(self, steps: list[tuple[int, Any]], count: int, errors: list[BaseException]) -> None:
        pa = self._pa
        try:
            arrays: list[Any] = []
            for (step, value), arrow in zip(steps, self._types, strict=True):
                if step == _SAME:
                    arrays.append(arrays[value])
                elif value is None:
                    arrays.append(pa.nulls(count, arrow))
                else:
                    typed = value if arrow == pa.string() else value.cast(arrow)
                    arrays.append(pa.repeat(typed[0], count) if step == _REPEAT else typed)
            self._writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self._schema))
            self.count += count
        except BaseException as error:  # raised again by _wait, in the writing thread
            errors.append(error)

    def _wait(self, quiet: bool = False) -> None:
        if self._inflight is not None:
            (thread, errors), self._inflight = self._inflight, None
            thread.join()
            if errors and not quiet:
                raise errors[0]

"""FOCUS metadata (1.1+): a JSON document per data file, kept outside the data and outside partitions.

Where it goes: ``DIR/_metadata/<path of the file under DIR>.metadata.json`` for ``--output-dir DIR``
and ``<folder>/_metadata/<file>.metadata.json`` for ``--out <folder>/<file>``. Partition folders then
hold data files only, so a reader opening the folder (``pyarrow.dataset``, pandas, Spark, Athena skip
``_``-names; DuckDB and polars take a ``**/*.<ext>`` glob) reads one table with no foreign file in it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..core.focus_columns import SCALE, Kind, Layout

METADATA_DIR = "_metadata"

_TYPES = {Kind.DATETIME: "DateTime", Kind.STRING: "String", Kind.JSON: "JSON"}


def metadata_path(data: Path, root: str | Path | None = None) -> Path:
    """The metadata file of ``data``: mirrored under ``root/_metadata/``, else ``_metadata/`` beside it."""
    if root is None:
        return data.parent / METADATA_DIR / f"{data.name}.metadata.json"
    relative = data.relative_to(root)
    return Path(root) / METADATA_DIR / relative.parent / f"{relative.name}.metadata.json"


def metadata_document(layout: Layout, fmt: str, rows: int, created: datetime, generator: str) -> dict[str, Any]:
    """FocusVersion, DataGenerator, SchemaId, CreationDate, RowCount and ColumnDefinition of one file."""
    columns = []
    for column in layout.columns:
        entry: dict[str, Any] = {"ColumnName": column.name, "DataType": _TYPES.get(column.kind, "Decimal")}
        if column.kind in SCALE:
            entry["NumberScale"] = SCALE[column.kind]
        elif column.kind is Kind.COUNT:
            entry["NumberScale"] = 0
        columns.append(entry)
    return {
        "FocusVersion": layout.focus_version,
        "Layout": layout.name,
        "DataGenerator": generator,
        "SchemaId": f"kubectl-infercost/{layout.name}",
        "CreationDate": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Format": fmt,
        "RowCount": rows,
        "ColumnDefinition": columns,
    }


def write_metadata(stream: IO[str], document: dict[str, Any]) -> None:
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")

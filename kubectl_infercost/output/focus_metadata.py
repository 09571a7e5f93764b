"""FOCUS metadata (1.1+): a JSON document per data file, kept outside the data and outside partitions.

Where it goes: ``DIR/_metadata/<path of the file under DIR>.metadata.json`` for ``--output-dir DIR``
and ``<folder>/_metadata/<file>.metadata.json`` for ``--out <folder>/<file>``. Partition folders then
hold data files only, so a reader opening the folder (``pyarrow.dataset``, pandas, Spark, Athena skip
``_``-names; DuckDB and polars take a ``**/*.<ext>`` glob) reads one table with no foreign file in it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..core.focus.columns import SCALE, Kind, Layout

METADATA_DIR = "_metadata"
#: Provider-defined tag keys start with this (the namespace labels copied with --tag-label do not).
PROVIDER_TAG_PREFIXES = ("infercost/",)

_TYPES = {Kind.DATETIME: "DateTime", Kind.STRING: "String", Kind.JSON: "JSON"}


def metadata_path(data: Path, root: str | Path | None = None) -> Path:
    """The metadata file of ``data``: mirrored under ``root/_metadata/``, else ``_metadata/`` beside it."""
    if root is None:
        return data.parent / METADATA_DIR / f"{data.name}.metadata.json"
    relative = data.relative_to(root)
    return Path(root) / METADATA_DIR / relative.parent / f"{relative.name}.metadata.json"


def metadata_document(
    layout: Layout, fmt: str, rows: int, created: datetime, generator: str, dataset: str = "cluster"
) -> dict[str, Any]:
    """The metadata of one file in the shape of its FOCUS version.

    * 1.0-1.2: flat — DataGenerator (a string), DataGeneratorVersion, SchemaId, FocusVersion,
      CreationDate, ColumnDefinition; the Tags definition lists ProviderTagPrefixes (required in 1.2).
    * 1.3, 1.4: DataGenerator is an object, DatasetInstance a collection (DatasetInstanceId,
      DatasetInstanceName, FocusDatasetId ``CostAndUsage``), Schema a collection tied to the instance.
    * legacy ``infercost-v1``: the flat shape with FocusVersion null (it is not FOCUS).

    ``generator`` is ``name/version``; ``dataset`` names the instance (the BillingAccountId), so its
    GUID is the same on every run. Keys of our own (layout, format, row count) start with ``x_``.
    """
    name, _, version = generator.partition("/")
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    schema: dict[str, Any] = {
        "SchemaId": f"kubectl-infercost/{layout.name}/{version or 'dev'}",
        "FocusVersion": layout.focus_version,
        "CreationDate": stamp,
        "DataGeneratorVersion": version,
        "ColumnDefinition": _columns(layout),
    }
    ours = {"x_Layout": layout.name, "x_Format": fmt, "x_RowCount": rows}
    if layout.focus_version in ("1.3", "1.4"):
        instance_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kubectl-infercost:{dataset}:{layout.name}"))
        return {
            "DataGenerator": {"DataGenerator": name},
            "DatasetInstance": [
                {
                    "DatasetInstanceId": instance_id,
                    "DatasetInstanceName": f"InferCost cost and usage, {dataset}",
                    "FocusDatasetId": "CostAndUsage",
                }
            ],
            "Schema": [{**schema, "DatasetInstanceId": instance_id}],
            **ours,
        }
    return {"DataGenerator": name, **schema, **ours}


def _columns(layout: Layout) -> list[dict[str, Any]]:
    columns = []
    for column in layout.columns:
        entry: dict[str, Any] = {"ColumnName": column.name, "DataType": _TYPES.get(column.kind, "Decimal")}
        if column.kind in SCALE:
            entry["NumberScale"] = SCALE[column.kind]
        elif column.kind is Kind.COUNT:
            entry["NumberScale"] = 0
        if column.name == "Tags" and layout.conformant:
            entry["ProviderTagPrefixes"] = list(PROVIDER_TAG_PREFIXES)
        columns.append(entry)
    return columns


def write_metadata(stream: IO[str], document: dict[str, Any]) -> None:
    json.dump(document, stream, indent=2, ensure_ascii=False)
    stream.write("\n")

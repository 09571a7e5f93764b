"""FOCUS files by charge day, laid out as the object-storage export uploads them.

``ROOT/version=<layout>/year=YYYY/month=MM/day=DD/infercost-<cluster>-<YYYY-MM-DD>.<ext>``: one file
per UTC day of ChargePeriodStart, the path castai-focus documents for its S3 objects. Each file's FOCUS
metadata goes to ``ROOT/version=<layout>/_metadata/<same path>.metadata.json``: a folder whose name
starts with ``_``, so readers opening the version folder or anything above it (pyarrow.dataset, Spark,
Athena, Glue crawlers) skip it. Paths depend only on (layout, cluster, day, format), so a re-run
rewrites the same files.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path, PurePosixPath

from ..core.focus.columns import Layout, Row
from .focus_metadata import METADATA_DIR, metadata_document, write_metadata
from .focus_writers import GENERATOR, Sink, atomic_file, open_sink

_NOT_KEY_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def cluster_slug(cluster: str) -> str:
    """The cluster part of a file name: runs of characters other than ``A-Za-z0-9._-`` become ``-``."""
    return _NOT_KEY_SAFE.sub("-", cluster).strip("-.") or "cluster"


def day_path(layout: Layout, cluster: str, day: str, fmt: str) -> PurePosixPath:
    """The relative path of one day's file; ``day`` is ``YYYY-MM-DD``."""
    match = _DAY.match(day)
    if match is None:
        raise ValueError(f"not a YYYY-MM-DD day: {day!r}")
    year, month, dom = match.groups()
    name = f"infercost-{cluster_slug(cluster)}-{year}-{month}-{dom}.{fmt}"
    return PurePosixPath(f"version={layout.name}", f"year={year}", f"month={month}", f"day={dom}", name)


def metadata_path_of(data: PurePosixPath) -> PurePosixPath:
    """``version=V/_metadata/year=…/<file>.metadata.json`` for ``version=V/year=…/<file>``."""
    version, *rest = data.parts
    return PurePosixPath(version, METADATA_DIR, *rest[:-1], f"{rest[-1]}.metadata.json")


def write_days(
    root: str | Path,
    fmt: str,
    layout: Layout,
    rows: Iterable[Row],
    cluster: str,
    created: datetime,
    generator: str = GENERATOR,
    dataset: str = "cluster",
) -> dict[PurePosixPath, int]:
    """One file per charge day under ``root`` (each atomic, closed only when all rows are in).

    Returns ``{relative path: row count}`` of the data files, in day order; each has its metadata
    file at :func:`metadata_path_of`.
    """
    key_index = layout.index("ChargePeriodStart")
    base = Path(root)
    counts: dict[PurePosixPath, int] = {}
    with ExitStack() as stack:
        sinks: dict[str, tuple[PurePosixPath, Sink]] = {}
        for day, group in itertools.groupby(rows, key=lambda r: (r[key_index] or "")[:10]):
            if day not in sinks:
                relative = day_path(layout, cluster, day, fmt)
                target = base / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = stack.enter_context(atomic_file(target, binary=fmt == "parquet"))
                sinks[day] = (relative, open_sink(fmt, handle, layout, generator))
            sinks[day][1].write(group)
        for day in sorted(sinks):
            relative, sink = sinks[day]
            sink.close()
            counts[relative] = sink.count
        for relative, count in counts.items():
            meta_target = base / metadata_path_of(relative)
            meta_target.parent.mkdir(parents=True, exist_ok=True)
            meta = stack.enter_context(atomic_file(meta_target))
            write_metadata(meta, metadata_document(layout, fmt, count, created, generator, dataset))
    return counts

"""Prometheus (or Thanos, Mimir) as a metrics source: the only code that talks HTTP to it."""

from .client import PrometheusClient, PrometheusError, PrometheusOptions, PrometheusTooLarge, RangeSeries
from .families import Chunk, ChunkFailure, FamilyResult, query_families, range_query

__all__ = [
    "Chunk",
    "ChunkFailure",
    "FamilyResult",
    "PrometheusClient",
    "PrometheusError",
    "PrometheusOptions",
    "PrometheusTooLarge",
    "RangeSeries",
    "query_families",
    "range_query",
]

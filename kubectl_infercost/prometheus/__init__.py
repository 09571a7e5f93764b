"""Prometheus (or Thanos, Mimir) as a metrics source: the only code that talks HTTP to it."""

from .client import PrometheusClient, PrometheusError, PrometheusOptions, RangeSeries
from .families import FamilyResult, query_families, range_query

__all__ = [
    "FamilyResult",
    "PrometheusClient",
    "PrometheusError",
    "PrometheusOptions",
    "RangeSeries",
    "query_families",
    "range_query",
]

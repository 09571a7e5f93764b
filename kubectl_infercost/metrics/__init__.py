"""Pure metrics layer: a selective Prometheus text parser and per-backend extractors."""

from kubectl_infercost.metrics.extract import (
    BACKENDS,
    GpuReading,
    SeriesCounter,
    TokenScrape,
    detect_backend,
    extract_gpus,
    extract_tokens,
    series_identity,
)
from kubectl_infercost.metrics.textparse import (
    MetricsParseError,
    Sample,
    decimal_value,
    first_line_prefix,
    parse_samples,
    round_count,
    token_count,
)

__all__ = [
    "BACKENDS",
    "GpuReading",
    "MetricsParseError",
    "Sample",
    "SeriesCounter",
    "TokenScrape",
    "decimal_value",
    "detect_backend",
    "extract_gpus",
    "extract_tokens",
    "first_line_prefix",
    "parse_samples",
    "round_count",
    "series_identity",
    "token_count",
]

"""One query per metric family per pass, each a raw-sample range selector at the pass instant.

A family whose answer is refused as too large (:class:`PrometheusTooLarge`) is asked again in
chunks that partition its series and samples exactly: first by namespace (halves of the
namespaces of the pods that need it, and one chunk for every other namespace or none), then
within one namespace by pod name the same way, and for a single pod (or the rest) by halving
the time range. The chunks' series are merged back, a series split in time keeping each sample
once, so the merged answer is the one the whole query would have given. A chunk that still
fails is recorded with the pods it covers; only those fail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from .client import PrometheusClient, PrometheusError, PrometheusTooLarge, RangeSeries, parse_matrix

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
PodKey = tuple[str, str]  # (namespace, pod name)
MAX_QUERIES_PER_FAMILY = 1024
MIN_WINDOW_MS = 1000  # a time range is not halved below a second


@dataclass(frozen=True)
class Chunk:
    """Which series and samples of a family one query asks for.

    ``namespaces``/``pods`` None: any; otherwise only those. ``not_namespaces``/``not_pods``: none
    of those (the chunk of the rest, series without the label included). Samples in
    ``[end_ms - window_ms, end_ms]``.
    """

    end_ms: int
    window_ms: int
    namespaces: frozenset[str] | None = None
    not_namespaces: frozenset[str] = frozenset()
    pods: frozenset[str] | None = None
    not_pods: frozenset[str] = frozenset()

    def matchers(self) -> list[str]:
        out = []
        if self.namespaces is not None:
            out.append(_matcher("namespace", "=~", self.namespaces))
        if self.not_namespaces:
            out.append(_matcher("namespace", "!~", self.not_namespaces))
        if self.pods is not None:
            out.append(_matcher("pod", "=~", self.pods))
        if self.not_pods:
            out.append(_matcher("pod", "!~", self.not_pods))
        return out

    def covers(self, key: PodKey) -> bool:
        """Whether the series of pod ``key`` (by its ``namespace``/``pod`` labels) are in this chunk."""
        namespace, pod = key
        return (
            (self.namespaces is None or namespace in self.namespaces)
            and namespace not in self.not_namespaces
            and (self.pods is None or pod in self.pods)
            and pod not in self.not_pods
        )

    def whole(self) -> bool:
        return self.namespaces is None and not self.not_namespaces and self.pods is None and not self.not_pods

    def describe(self) -> str:
        return "{" + ",".join(_short(m) for m in self.matchers()) + "}" if not self.whole() else ""


_SPECIAL = re.compile(r"([.+*?()|\[\]{}^$\\])")


def _matcher(label: str, op: str, values: Collection[str]) -> str:
    """``label=~"a|b"``: the values as literals of an (anchored) RE2 alternation, in a PromQL string."""
    alternatives = "|".join(_SPECIAL.sub(r"\\\1", v) for v in sorted(values))
    quoted = alternatives.replace("\\", "\\\\").replace('"', '\\"')
    return f'{label}{op}"{quoted}"'


def _short(matcher: str, limit: int = 60) -> str:
    return matcher if len(matcher) <= limit else matcher[: limit - 4] + '..."'


@dataclass(frozen=True)
class ChunkFailure:
    chunk: Chunk
    error: str

    def covers(self, key: PodKey) -> bool:
        return self.chunk.covers(key)


@dataclass
class FamilyResult:
    """Series per family that answered (whole or in part); ``failures`` names each family, or chunk of
    one, that did not answer, and why; ``queries`` counts the queries each family took."""

    series: dict[str, list[RangeSeries]] = field(default_factory=dict)
    failures: dict[str, list[ChunkFailure]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)

    def failure_lines(self) -> list[str]:
        return [
            f"prometheus {family}{f.chunk.describe()}: {f.error}"
            for family, failed in sorted(self.failures.items())
            for f in failed
        ]

    def failure_for(self, family: str, key: PodKey, found: bool) -> str | None:
        """Why the series of pod ``key`` in ``family`` may be missing: a failed chunk covering it, or, when
        none of its series were found, any failed chunk (it may hold them under other labels)."""
        failed = self.failures.get(family, [])
        for f in failed:
            if f.covers(key):
                return f.error
        return failed[0].error if failed and not found else None


def range_query(family: str, selector: str, window_seconds: float) -> str:
    """``family{selector}[Ns]``: every raw sample of the last N seconds, nothing computed."""
    if not _NAME.fullmatch(family):
        raise ValueError(f"{family!r} is not a metric name")
    seconds = max(1, math.ceil(window_seconds))
    return f"{family}{{{selector}}}[{seconds}s]" if selector else f"{family}[{seconds}s]"


def chunk_query(family: str, selector: str, chunk: Chunk) -> str:
    """The range selector of one chunk: the whole family's, with the chunk's matchers and time range."""
    if not _NAME.fullmatch(family):
        raise ValueError(f"{family!r} is not a metric name")
    matchers = ",".join([*([selector] if selector else []), *chunk.matchers()])
    window = f"{chunk.window_ms // 1000}s" if chunk.window_ms % 1000 == 0 else f"{chunk.window_ms}ms"
    return f"{family}{{{matchers}}}[{window}]" if matchers else f"{family}[{window}]"


def split(chunk: Chunk, keys: Collection[PodKey]) -> list[Chunk]:
    """Smaller chunks whose union is exactly ``chunk``'s series and samples, or [] when it cannot shrink."""
    mine = [k for k in keys if chunk.covers(k)]
    namespaces = sorted({ns for ns, _ in mine})
    if chunk.namespaces is None and not chunk.not_namespaces and namespaces:
        rest = replace(chunk, not_namespaces=frozenset(namespaces))
        if len(namespaces) == 1:
            return [*_pod_halves(replace(chunk, namespaces=frozenset(namespaces)), mine), rest]
        return [*_halves(namespaces, lambda part: replace(chunk, namespaces=part)), rest]
    if chunk.namespaces is not None and len(namespaces) > 1:
        return _halves(namespaces, lambda part: replace(chunk, namespaces=part))
    if chunk.namespaces is not None and len(namespaces) == 1 and chunk.pods is None and not chunk.not_pods:
        return _pod_halves(chunk, mine)
    if chunk.pods is not None and len(chunk.pods) > 1:
        return _halves(sorted(chunk.pods), lambda part: replace(chunk, pods=part))
    if chunk.window_ms >= 2 * MIN_WINDOW_MS:
        early = chunk.window_ms // 2
        # [end - w, end - w + early] and [end - w + early, end]: a sample on the seam comes twice, kept once
        return [replace(chunk, end_ms=chunk.end_ms - chunk.window_ms + early, window_ms=early),
                replace(chunk, window_ms=chunk.window_ms - early)]
    return []


def _pod_halves(chunk: Chunk, keys: list[PodKey]) -> list[Chunk]:
    pods = sorted({pod for ns, pod in keys if chunk.namespaces is None or ns in chunk.namespaces})
    if not pods:
        return []
    rest = replace(chunk, not_pods=frozenset(pods))
    if len(pods) == 1:
        return [replace(chunk, pods=frozenset(pods)), rest]
    return [*_halves(pods, lambda part: replace(chunk, pods=part)), rest]


def _halves(values: list[str], make: Callable[[frozenset[str]], Chunk]) -> list[Chunk]:
    middle = len(values) // 2
    return [make(frozenset(values[:middle])), make(frozenset(values[middle:]))]


def merge(parts: Iterable[list[RangeSeries]]) -> list[RangeSeries]:
    """The chunks' series as one answer: a series in several chunks (split in time) has each sample once."""
    by_labels: dict[tuple[tuple[str, str], ...], RangeSeries] = {}
    split_in_time: set[tuple[tuple[str, str], ...]] = set()
    for part in parts:
        for s in part:
            key = tuple(sorted(s.labels.items()))
            seen = by_labels.get(key)
            if seen is None:
                by_labels[key] = s
            else:
                seen.samples.extend(s.samples)
                split_in_time.add(key)
    for key in split_in_time:
        samples = by_labels[key].samples
        unique = {sample.timestamp_ms: sample for sample in samples}
        samples[:] = [unique[t] for t in sorted(unique)]
    return list(by_labels.values())


def _query_family(
    client: PrometheusClient,
    family: str,
    keys: Collection[PodKey],
    whole: Chunk,
    result: FamilyResult,
    reduce: tuple[Sequence[int] | None, bool],
    fetched: Future[list[bytes]] | None = None,
) -> None:
    """``fetched``: the whole family's answer, already asked for (a list holding the body, taken once)."""
    pending = [whole]
    answered: list[list[RangeSeries]] = []
    queries = 0
    while pending:
        chunk = pending.pop(0)
        if queries >= MAX_QUERIES_PER_FAMILY:
            error = f"still too large after {queries} queries"
            result.failures.setdefault(family, []).append(ChunkFailure(chunk, error))
            continue
        queries += 1
        try:
            if fetched is not None and chunk is whole:
                answered.append(parse_matrix(fetched.result().pop(), *reduce))
            else:
                query = chunk_query(family, client.opts.selector, chunk)
                answered.append(client.query_ms(query, chunk.end_ms, *reduce))
        except PrometheusTooLarge as exc:
            smaller = split(chunk, keys)
            if smaller:
                pending[:0] = smaller
            else:
                result.failures.setdefault(family, []).append(ChunkFailure(chunk, str(exc)))
        except PrometheusError as exc:
            result.failures.setdefault(family, []).append(ChunkFailure(chunk, str(exc)))
    result.queries[family] = queries
    if answered:
        result.series[family] = answered[0] if len(answered) == 1 else merge(answered)


def query_families(
    client: PrometheusClient,
    families: Iterable[str] | Mapping[str, Collection[PodKey]],
    at: datetime,
    window_seconds: float,
    progress: Callable[[int, int], None] | None = None,
    *,
    cuts: Iterable[datetime] | None = None,
    last_only: Collection[str] = (),
) -> FamilyResult:
    """Each family once (in chunks if it must be); a failing family is recorded and the others still answer.

    ``families`` maps each family to the pods that need it (what chunks split by); a plain list of
    names is chunked by time only. With ``cuts`` (the instants counting will start from: checkpoints,
    pod starts), each series keeps only the samples counting from them needs (``reduce_samples``);
    families in ``last_only`` keep each series' last sample. Every sample is still read and checked.
    """
    wanted: Mapping[str, Collection[PodKey]] = (
        families if isinstance(families, Mapping) else {name: () for name in families}
    )
    names = sorted(wanted)
    whole = Chunk(end_ms=round(at.timestamp() * 1000), window_ms=max(1, math.ceil(window_seconds)) * 1000)
    result = FamilyResult()
    start_ms = whole.end_ms - whole.window_ms
    cuts_ms = (
        sorted({ms for ms in (round(c.timestamp() * 1000) for c in cuts) if start_ms <= ms <= whole.end_ms})
        if cuts is not None
        else None
    )
    queries = [chunk_query(family, client.opts.selector, whole) for family in names]

    def fetch(i: int) -> list[bytes]:
        return [client.fetch(queries[i], whole.end_ms)]

    # The next family's answer is on its way while this one is decoded (one ahead: one more body held).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prometheus") as pool:
        ahead = pool.submit(fetch, 0) if names else None
        for done, family in enumerate(names, 1):
            fetched, ahead = ahead, pool.submit(fetch, done) if done < len(names) else None
            _query_family(client, family, wanted[family], whole, result, (cuts_ms, family in last_only), fetched)
            if progress is not None:
                progress(done, len(names))
    return result


__all__ = [
    "Chunk",
    "ChunkFailure",
    "FamilyResult",
    "chunk_query",
    "merge",
    "query_families",
    "range_query",
    "split",
]

"""Scrape pod endpoints through the API server's pod proxy, concurrently, each endpoint once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import ApiError, ForbiddenError
from .client import KubeClient
from .discovery import Endpoint
from .resources import pod_proxy_path

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ScrapeResult:
    endpoint: Endpoint
    text: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.text is not None


def scrape_one(client: KubeClient, endpoint: Endpoint, timeout: float, max_bytes: int) -> ScrapeResult:
    path = pod_proxy_path(endpoint.namespace, endpoint.pod, endpoint.port, endpoint.path)
    try:
        status, body = client.stream_get(path, timeout=timeout, max_bytes=max_bytes)
    except ForbiddenError:
        return ScrapeResult(
            endpoint,
            None,
            f"forbidden: this identity may not get pods/proxy in namespace {endpoint.namespace} "
            "(bind the infercost-pod-proxy Role there, see deploy/rbac/)",
        )
    except ApiError as exc:
        return ScrapeResult(
            endpoint, None, str(exc).removeprefix(f"cannot reach the Kubernetes API at {client.server}: ")
        )
    if status != 200:
        snippet = body.decode("utf-8", "replace").strip().splitlines()[:1]
        return ScrapeResult(endpoint, None, f"HTTP {status}{': ' + snippet[0][:120] if snippet else ''}")
    try:
        return ScrapeResult(endpoint, body.decode("utf-8"), None)
    except UnicodeDecodeError:
        return ScrapeResult(endpoint, None, "response is not UTF-8 text")


def scrape_all(
    client: KubeClient,
    endpoints: Iterable[Endpoint],
    *,
    concurrency: int = 16,
    timeout: float = 5.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> dict[Endpoint, ScrapeResult]:
    unique = sorted(set(endpoints), key=lambda e: (e.namespace, e.pod, e.port, e.path))
    results: dict[Endpoint, ScrapeResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for done, result in enumerate(pool.map(lambda e: scrape_one(client, e, timeout, max_bytes), unique), 1):
            results[result.endpoint] = result
            if progress is not None:
                progress(done, len(unique))
    return results

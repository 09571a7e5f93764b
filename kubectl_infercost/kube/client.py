"""The Kubernetes API through the ``kubernetes`` package's ``ApiClient``, with our error classes.

Requests go through the ApiClient's connection pool (sized to ``--concurrency``), TLS, proxy and
credential hooks. We send the bytes ourselves because money must stay exact: bodies are encoded
with Decimal digits (the package would ``json.dumps`` them through float) and responses are
decoded with ``parse_float=Decimal``. Pod-proxy scrapes stream and stop at a size cap and a total
deadline. 429, 5xx and timeouts are retried with bounded backoff that honours ``Retry-After``; a
401 refreshes the credentials once and retries.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _string
from typing import Any
from urllib.parse import urlencode

from .. import __version__
from ..errors import (
    ApiError,
    ApiUnreachableError,
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    UnauthorizedError,
)
from .config import ClusterConfig

JSON = dict[str, Any]
# urllib3's PoolManager.request shape: (method, url, *, body, headers, timeout, ...) -> a streaming response.
Transport = Callable[..., Any]
USER_AGENT = f"kubectl-infercost/{__version__}"
FIELD_MANAGER = "kubectl-infercost"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def loads(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


def _decimal_text(value: Decimal) -> str:
    """Exact JSON number text of a finite Decimal (no exponent, no float on the way)."""
    if not value.is_finite():
        raise ValueError(f"cannot encode {value} as a JSON number")
    text = format(value, "f")
    return text if text not in ("-0", "-0.0") else "0"


def _encoder(out: list[str]) -> Callable[[Any], None]:
    """A writer of JSON text into ``out``: the exact types first (a status holds tens of thousands of
    values), the C string escaper of ``json``, subclasses last."""
    add = out.append

    def encode(obj: Any) -> None:
        kind = type(obj)
        if kind is str:
            add(_string(obj))
        elif kind is dict:
            sep = "{"
            for key, value in obj.items():
                add(sep)
                add(_string(key if type(key) is str else str(key)))
                add(":")
                encode(value)
                sep = ","
            add("}" if sep == "," else "{}")
        elif kind is list or kind is tuple:
            sep = "["
            for value in obj:
                add(sep)
                encode(value)
                sep = ","
            add("]" if sep == "," else "[]")
        elif kind is int:
            add(int.__repr__(obj))
        elif kind is Decimal:
            add(_decimal_text(obj))
        elif isinstance(obj, dict | list | tuple):
            encode(dict(obj) if isinstance(obj, dict) else list(obj))
        else:
            add(_decimal_text(obj) if isinstance(obj, Decimal) else json.dumps(obj))

    return encode


_ITEMS = b'"items":'


def _continue_token(payload: bytes) -> str | None:
    """The continue token of a list page from its head alone (None when the head does not say)."""
    end = payload.find(_ITEMS, 0, 8192)
    if end < 0:
        return None
    try:
        head = loads(payload[:end] + b'"items":[]}')
    except ValueError:
        return None
    meta = head.get("metadata") if isinstance(head, dict) else None
    token = meta.get("continue") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def dumps(obj: Any) -> bytes:
    """JSON with Decimals written as their exact digits."""
    out: list[str] = []
    _encoder(out)(obj)
    return "".join(out).encode()


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded backoff: ``attempts`` tries in all, doubling from ``base`` up to ``cap`` seconds."""

    attempts: int = 4
    base: float = 0.25
    cap: float = 4.0
    max_retry_after: float = 10.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.max_retry_after)
            except ValueError:
                pass
        return float(min(self.cap, self.base * 2**attempt))


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidObjectError,
    429: TooManyRequestsError,
}
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_PATH = re.compile(r"^/(?:api/v1|apis/[^/]+/[^/]+)(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<rest>.*))?$")


def request_target(method: str, path: str) -> tuple[str, str, str | None]:
    """(verb, resource, namespace) of an API path, as RBAC names them (``pods/proxy``, ``list``)."""
    m = _PATH.match(path.split("?", 1)[0])
    if not m:
        return _VERBS.get(method, method.lower()), path, None
    ns, rest = m.group("ns"), (m.group("rest") or "")
    parts = [p for p in rest.split("/") if p]
    if m.group("ns") is None and path.startswith("/api/v1/namespaces") and not parts:
        return ("list" if method == "GET" else _VERBS.get(method, method.lower())), "namespaces", None
    if not parts:
        return _VERBS.get(method, method.lower()), rest, ns
    resource = parts[0]
    if len(parts) >= 3:
        resource = f"{resource}/{parts[2]}"
    verb = _VERBS.get(method, method.lower())
    if method == "GET" and len(parts) == 1:
        verb = "list"
    return verb, resource, ns


def _api_error(status: int, body: bytes, what: str, config: ClusterConfig, method: str, path: str) -> ApiError:
    reason = None
    try:
        doc = loads(body)
        message = doc.get("message") or ""
        reason = doc.get("reason")
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace").strip()[:300]
    if status == 401:
        message = f"the API server rejected the credentials of {config.describe()}" + (
            f" ({message})" if message and message.lower() != "unauthorized" else ""
        )
    if status == 403 and not message:
        verb, resource, namespace = request_target(method, path)
        where = f"in namespace {namespace}" if namespace else "at the cluster scope"
        message = f"{config.describe()} may not {verb} {resource} {where}"
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(f"{what}: {message or f'HTTP {status}'} (HTTP {status})", status=status, reason=reason)


def _tls_reason(text: str) -> str:
    # ssl's messages end in "(_ssl.c:1006)": say what failed, not where in CPython.
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text)
    m = re.search(r"\[SSL: [A-Z_]+\] ([^'\"]+)", text)
    return f"TLS: {m.group(1).strip().rstrip(')')}" if m else f"TLS: {text}"


def transport_reason(exc: BaseException) -> str:
    """A short, lower-case reason for a failed connection (no library noise)."""
    import urllib3.exceptions as u3

    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 10:
        seen += 1
        if isinstance(cause, u3.SSLError) or type(cause).__name__ in ("SSLError", "SSLCertVerificationError"):
            return _tls_reason(str(cause))
        if isinstance(cause, u3.TimeoutError | TimeoutError) and not isinstance(cause, u3.NewConnectionError):
            return "timed out"
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror).lower()
        nxt = getattr(cause, "reason", None)
        cause = nxt if isinstance(nxt, BaseException) else (cause.__cause__ or cause.__context__)
    text = str(exc).split(": ", 1)[-1]
    return text.lower() or type(exc).__name__


class KubeClient:
    """One API server, one identity. Thread-safe: the pool and the credential hooks are."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        timeout: float | None = 30.0,
        max_connections: int = 64,
        retry: RetryPolicy | None = None,
        transport: Transport | None = None,
    ) -> None:
        from kubernetes.client import ApiClient

        self.config = config
        self.timeout = timeout or None  # 0: no timeout, as kubectl
        self.retry = retry or RetryPolicy()
        self._configuration = config.api_configuration()
        self._configuration.connection_pool_maxsize = max_connections
        self._api = ApiClient(self._configuration)
        self._api.user_agent = USER_AGENT
        # The ApiClient's pool; unit tests inject a transport with the same call shape instead.
        self._send: Transport = transport or self._api.rest_client.pool_manager.request
        self._refresh_lock = threading.Lock()
        self._credentials_generation = 0

    @property
    def server(self) -> str:
        return self.config.server

    def close(self) -> None:
        self._api.rest_client.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ transport

    def _headers(self, method: str, path: str, accept: str, content_type: str | None) -> Any:
        from urllib3 import HTTPHeaderDict

        headers: dict[str, str] = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        self._api.update_params_for_auth(headers, [], ["BearerToken"], path, method, None)
        merged = HTTPHeaderDict(self._api.default_headers)
        for key, value in headers.items():
            merged[key] = value
        for key, value in self.config.impersonation:
            merged.add(key, value)  # Impersonate-Group repeats, one header per group
        return merged

    def _open(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None,
        accept: str,
        content_type: str | None,
        timeout: float | None,
    ) -> Any:
        import urllib3

        headers = self._headers(method, path, accept, content_type if body is not None else None)
        try:
            return self._send(
                method,
                self._configuration.host + path,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(total=timeout) if timeout else urllib3.Timeout(connect=None, read=None),
                preload_content=False,
                redirect=False,
                retries=urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.1),
            )
        except urllib3.exceptions.HTTPError as exc:
            raise ApiUnreachableError(self.server, transport_reason(exc)) from exc

    def _refresh_credentials(self, generation: int) -> bool:
        """After a 401: new credentials once per generation, however many threads saw the 401."""
        with self._refresh_lock:
            if generation != self._credentials_generation:
                return True  # another thread already refreshed
            if not self.config.credentials.refresh(self._configuration):
                return False
            self._credentials_generation += 1
            return True

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        what: str | None = None,
    ) -> Any:
        if params:
            path = f"{path}?{urlencode(params)}"
        data = dumps(body) if body is not None else None
        what = what or f"{method} {path}"
        return self._decoded(*self._exchange(method, path, data, content_type), what, method, path)

    def _exchange(self, method: str, path: str, data: bytes | None, content_type: str) -> tuple[int, bytes]:
        """The final status and body of a request, after the retries and the credentials refresh."""
        # Whether a failed attempt may be sent again: never a POST that may have been processed.
        idempotent = method != "POST"
        refreshed = False
        attempt = 0
        while True:
            generation = self._credentials_generation
            try:
                response = self._open(
                    method, path, body=data, accept="application/json", content_type=content_type, timeout=self.timeout
                )
            except ApiUnreachableError:
                if attempt + 1 >= self.retry.attempts:
                    raise
                time.sleep(self.retry.delay(attempt, None))
                attempt += 1
                continue
            try:
                payload = response.read()
            except Exception as exc:  # urllib3 read errors: the body never arrived whole
                import urllib3

                if not isinstance(exc, urllib3.exceptions.HTTPError | OSError):
                    raise
                if not idempotent or attempt + 1 >= self.retry.attempts:
                    raise ApiUnreachableError(self.server, transport_reason(exc)) from exc
                time.sleep(self.retry.delay(attempt, None))
                attempt += 1
                continue
            finally:
                response.release_conn()
            status = response.status
            if status == 401 and not refreshed and self._refresh_credentials(generation):
                refreshed = True
                continue
            if status in RETRY_STATUSES and (idempotent or status == 429) and attempt + 1 < self.retry.attempts:
                time.sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))
                attempt += 1
                continue
            return status, payload

    def _decoded(self, status: int, payload: bytes, what: str, method: str, path: str) -> Any:
        """A final answer's JSON body (None when empty), or its error."""
        if status >= 400:
            raise _api_error(status, payload, what, self.config, method, path)
        if not payload:
            return None
        try:
            return loads(payload)
        except ValueError as exc:
            raise ApiError(f"{what}: the API server sent a body that is not JSON") from exc

    def get(self, path: str, *, params: Mapping[str, str] | None = None, what: str | None = None) -> Any:
        return self.request("GET", path, params=params, what=what)

    def list_items(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        what: str | None = None,
        page_size: int | None = 500,
        keep: Callable[[JSON], JSON] | None = None,
    ) -> list[JSON]:
        """All items of a collection, in pages of ``page_size`` (None: one request), following ``continue``.

        Pages bound one response's size (kubectl's ``--chunk-size`` 500, for Pods and Nodes). A single
        request serves a consistent list from the API server's watch cache, where continued pages are
        each an etcd read: 2,000 UsageReports list in 0.22 s at once against 1.0 s in pages of 500.
        ``keep`` trims each item as its page arrives. The next page is asked for as soon as the
        continue token is read from this page's head (the API server writes metadata before items),
        so the API server prepares it while this one is decoded.
        """
        items: list[JSON] = []
        params: dict[str, str] = {"limit": str(page_size)} if page_size else {}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector

        def fetch(token: str | None) -> tuple[int, bytes]:
            query = {**params, "continue": token} if token else params
            return self._exchange("GET", f"{path}?{urlencode(query)}" if query else path, None, "application/json")

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list") as pool:
            token: str | None = None
            ahead: tuple[str, Future[tuple[int, bytes]]] | None = None
            while True:
                status, payload = ahead[1].result() if ahead is not None else fetch(token)
                early = _continue_token(payload) if status == 200 and page_size else None
                ahead = (early, pool.submit(fetch, early)) if early else None
                page = self._decoded(status, payload, what or f"GET {path}", "GET", path)
                del payload
                page_items = page.get("items") or []
                items.extend(page_items if keep is None else map(keep, page_items))
                token = (page.get("metadata") or {}).get("continue")
                if not token:
                    return items
                if ahead is not None and ahead[0] != token:
                    wait([ahead[1]])  # the head said otherwise than the whole page: its answer is not used
                    ahead = None

    def merge_patch(self, path: str, patch: JSON, *, what: str | None = None) -> Any:
        return self.request("PATCH", path, body=patch, content_type="application/merge-patch+json", what=what)

    def apply(self, path: str, obj: JSON, *, force: bool = True, dry_run: bool = False, what: str | None = None) -> Any:
        """Server-side apply (JSON is valid YAML for apply-patch)."""
        params = {"fieldManager": FIELD_MANAGER, "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        return self.request(
            "PATCH", path, body=obj, params=params, content_type="application/apply-patch+yaml", what=what
        )

    def delete(self, path: str, *, what: str | None = None) -> Any:
        return self.request("DELETE", path, what=what)

    def stream_get(
        self, path: str, *, timeout: float, max_bytes: int, deadline: float | None = None
    ) -> tuple[int, bytes]:
        """GET a raw body within ``timeout`` seconds in total and ``max_bytes`` (pod-proxy scrapes).

        Returns (status, body) whatever the status (a pod's 503 is its answer, not ours to retry);
        raises ApiUnreachableError when there is no answer in time, ApiError past ``max_bytes``,
        and ForbiddenError/UnauthorizedError when the API server refuses us.
        """
        stop = time.monotonic() + timeout if deadline is None else deadline
        refreshed = False
        while True:
            generation = self._credentials_generation
            remaining = stop - time.monotonic()
            if remaining <= 0:
                raise ApiUnreachableError(self.server, f"timed out after {timeout:g}s")
            response = self._open(
                "GET", path, body=None, accept="text/plain, */*", content_type=None, timeout=remaining
            )
            try:
                if response.status == 401 and not refreshed and self._refresh_credentials(generation):
                    refreshed = True
                    continue
                body = b"".join(self._chunks(response, stop, timeout, max_bytes, path))
            finally:
                response.release_conn()
            if response.status in (401, 403):
                raise _api_error(response.status, body, f"GET {path}", self.config, "GET", path)
            return response.status, body

    def _chunks(self, response: Any, stop: float, timeout: float, max_bytes: int, path: str) -> Iterator[bytes]:
        """The body as it arrives; read1 returns after one socket read, so a trickle meets the deadline."""
        import urllib3

        size = 0
        try:
            while chunk := response.read1(65536):
                size += len(chunk)
                if size > max_bytes:
                    response.close()
                    raise ApiError(f"GET {path}: response larger than {max_bytes} bytes")
                if time.monotonic() > stop:
                    response.close()
                    raise ApiUnreachableError(self.server, f"timed out after {timeout:g}s")
                yield chunk
        except urllib3.exceptions.HTTPError as exc:
            raise ApiUnreachableError(self.server, transport_reason(exc)) from exc

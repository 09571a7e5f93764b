"""A small, fast Kubernetes API client on httpx, with our error classes.

JSON is decoded with ``parse_float=Decimal`` so money never passes through float.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from .. import __version__
from ..errors import (
    ApiError,
    ApiUnreachableError,
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    NotFoundError,
)
from .config import ClusterConfig

JSON = dict[str, Any]
USER_AGENT = f"kubectl-infercost/{__version__}"
FIELD_MANAGER = "kubectl-infercost"


def loads(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


def _decimal_default(value: object) -> object:
    if isinstance(value, Decimal):
        # Money is rounded to 6 dp on write, so a float holds it exactly as written.
        return float(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=_decimal_default, separators=(",", ":")).encode()


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidObjectError,
}


def _api_error(response: httpx.Response, what: str) -> ApiError:
    reason = None
    try:
        body = loads(response.content)
        message = body.get("message") or response.reason_phrase
        reason = body.get("reason")
    except ValueError:
        message = response.text.strip()[:300] or response.reason_phrase
    cls = _STATUS_ERRORS.get(response.status_code, ApiError)
    return cls(f"{what}: {message} (HTTP {response.status_code})", status=response.status_code, reason=reason)


class KubeClient:
    """One API server, one identity. Thread-safe (httpx pools connections)."""

    def __init__(self, config: ClusterConfig, *, timeout: float = 30.0, max_connections: int = 64) -> None:
        self.config = config
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        ssl_ctx = config.ssl_context()  # first: an exec plugin may also supply the token
        token = config.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=config.server,
            headers=headers,
            verify=ssl_ctx,
            timeout=timeout,
            proxy=config.proxy_url,
            trust_env=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    @property
    def server(self) -> str:
        return self.config.server

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        headers = {"Content-Type": content_type} if body is not None else None
        content = dumps(body) if body is not None else None
        try:
            response = self._http.request(method, path, content=content, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise ApiUnreachableError(self.server, _reason(exc)) from exc
        if response.status_code >= 400:
            raise _api_error(response, what or f"{method} {path}")
        if not response.content:
            return None
        try:
            return loads(response.content)
        except ValueError as exc:
            raise ApiError(f"{what or path}: the API server sent a body that is not JSON") from exc

    def get(self, path: str, *, params: Mapping[str, str] | None = None, what: str | None = None) -> Any:
        return self.request("GET", path, params=params, what=what)

    def list_items(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        what: str | None = None,
    ) -> list[JSON]:
        """All items of a collection, following ``continue`` tokens."""
        items: list[JSON] = []
        params: dict[str, str] = {"limit": "500"}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        while True:
            page = self.get(path, params=params, what=what)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            params["continue"] = token

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

    def stream_get(self, path: str, *, timeout: float, max_bytes: int) -> tuple[int, bytes]:
        """GET a raw body with a per-request timeout and a size cap (for pod-proxy scrapes).

        Returns (status, body); raises ApiUnreachableError when there is no answer, and
        ApiError when the body exceeds ``max_bytes``.
        """
        try:
            with self._http.stream(
                "GET", path, timeout=httpx.Timeout(timeout), headers={"Accept": "text/plain, */*"}
            ) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise ApiError(f"GET {path}: response larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return response.status_code, b"".join(chunks)
        except httpx.TimeoutException as exc:
            raise ApiUnreachableError(self.server, f"timed out after {timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise ApiUnreachableError(self.server, _reason(exc)) from exc


def _reason(exc: httpx.TransportError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror).lower()
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    return text.split("] ")[-1].lower() if "] " in text else text

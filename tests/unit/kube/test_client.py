"""KubeClient over an injected transport: error classes, retries, Retry-After, 401 refresh, exact JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kubectl_infercost.errors import (
    ApiUnreachableError,
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    UnauthorizedError,
)
from kubectl_infercost.kube.client import KubeClient, RetryPolicy, dumps, loads, request_target
from kubectl_infercost.kube.config import ClusterConfig, Credentials

from ..engine.fakeapi import Reply


def Response(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> Reply:
    reply = Reply(status, body)
    reply.headers = headers or {}
    return reply


class Script:
    """A transport answering from a list; records each request's method, URL and headers."""

    def __init__(self, *answers: Reply | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, method: str, url: str, **kw: Any) -> Reply:
        self.calls.append((method, url, kw["headers"]))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class CountingCredentials(Credentials):
    def __init__(self, refreshable: bool = True) -> None:
        self.refreshes = 0
        self.refreshable = refreshable
        self.token = "old"

    def configure(self, configuration: Any) -> None:
        configuration.api_key["BearerToken"] = f"Bearer {self.token}"

    def refresh(self, configuration: Any) -> bool:
        self.refreshes += 1
        self.token = "new"
        self.configure(configuration)
        return self.refreshable


def make(script: Script, creds: Credentials | None = None, **config: Any) -> KubeClient:
    cfg = ClusterConfig(server="https://k:6443", context="ctx", user_name="alice", credentials=creds or Credentials())
    for key, value in config.items():
        setattr(cfg, key, value)
    return KubeClient(cfg, transport=script, retry=RetryPolicy(attempts=3, base=0.0, cap=0.0))


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("kubectl_infercost.kube.client.time.sleep", slept.append)
    return slept


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, InvalidObjectError),
    ],
)
def test_status_codes_become_our_error_classes(status: int, error: type[Exception]) -> None:
    body = b'{"kind":"Status","message":"usagereports.finops.infercost.ai \\"x\\" is forbidden","reason":"R"}'
    with pytest.raises(error, match=rf"list usagereports: .* \(HTTP {status}\)"):
        make(Script(Response(status, body))).get("/apis/g/v/usagereports", what="list usagereports")


def test_429_and_5xx_are_retried_then_raised_with_their_class(no_sleep: list[float]) -> None:
    script = Script(Response(429, headers={"Retry-After": "3"}), Response(503), Response(200, b'{"a":1}'))
    assert make(script).get("/api/v1/nodes") == {"a": 1}
    assert no_sleep == [3.0, 0.0]  # Retry-After honoured, then the (zeroed) backoff
    with pytest.raises(TooManyRequestsError):
        make(Script(Response(429), Response(429), Response(429))).get("/api/v1/nodes")
    with pytest.raises(ServerError):
        make(Script(Response(500), Response(502), Response(504))).get("/api/v1/nodes")


def test_retry_after_is_capped() -> None:
    assert RetryPolicy(max_retry_after=10).delay(0, "3600") == 10
    assert RetryPolicy(base=0.25, cap=4).delay(5, None) == 4


def test_a_post_is_not_retried_after_a_5xx_but_after_a_429() -> None:
    with pytest.raises(ServerError):
        make(Script(Response(503), Response(201))).request("POST", "/api/v1/namespaces/a/events", body={})
    assert make(Script(Response(429), Response(201, b"{}"))).request("POST", "/x", body={}) == {}


def test_unreachable_is_retried_then_names_the_server() -> None:
    import urllib3

    refused = urllib3.exceptions.NewConnectionError(
        urllib3.connection.HTTPConnection("127.0.0.1"), "Failed to establish a new connection: [Errno 111] refused"
    )
    script = Script(refused, refused, refused)
    with pytest.raises(ApiUnreachableError, match="cannot reach the Kubernetes API at https://k:6443"):
        make(script).get("/api/v1/nodes")
    assert len(script.calls) == 3


def test_401_refreshes_once_and_retries_with_the_new_token() -> None:
    creds = CountingCredentials()
    script = Script(Response(401), Response(200, b"{}"))
    assert make(script, creds).get("/api/v1/nodes") == {}
    assert [c[2]["authorization"] for c in script.calls] == ["Bearer old", "Bearer new"]
    assert creds.refreshes == 1


def test_401_after_refresh_names_context_and_user() -> None:
    creds = CountingCredentials()
    with pytest.raises(UnauthorizedError, match="rejected the credentials of context 'ctx', user 'alice'"):
        make(Script(Response(401), Response(401)), creds).get("/api/v1/nodes")
    assert creds.refreshes == 1


def test_impersonation_headers_repeat_per_group() -> None:
    script = Script(Response(200))
    imp = [("Impersonate-User", "viewer"), ("Impersonate-Group", "g1"), ("Impersonate-Group", "g2")]
    make(script, impersonation=imp).get("/api/v1/nodes")
    headers = script.calls[0][2]
    assert headers.getlist("Impersonate-Group") == ["g1", "g2"]
    assert headers["Impersonate-User"] == "viewer"


def test_stream_get_caps_size_and_returns_a_pods_own_error_status() -> None:
    from kubectl_infercost.errors import ApiError

    assert make(Script(Response(503, b"down"))).stream_get("/p", timeout=5, max_bytes=100) == (503, b"down")
    with pytest.raises(ApiError, match="larger than 3 bytes"):
        make(Script(Response(200, b"abcd"))).stream_get("/p", timeout=5, max_bytes=3)
    with pytest.raises(ForbiddenError):
        make(Script(Response(403, b'{"message":"forbidden"}'))).stream_get("/p", timeout=5, max_bytes=100)


def test_json_keeps_decimals_exact_both_ways() -> None:
    huge = Decimal("114155251141552511.735525")
    assert dumps({"hourly": huge, "n": 3, "s": "x", "l": [Decimal("0.000001")]}) == (
        b'{"hourly":114155251141552511.735525,"n":3,"s":"x","l":[0.000001]}'
    )
    assert loads(b'{"hourly":114155251141552511.735525}')["hourly"] == huge


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/v1/namespaces/a/pods/p:8000/proxy/metrics", ("get", "pods/proxy", "a")),
        ("GET", "/apis/finops.infercost.ai/v1alpha1/usagereports", ("list", "usagereports", None)),
        ("PUT", "/apis/g/v/namespaces/a/usagereports/r/status", ("update", "usagereports/status", "a")),
        ("POST", "/api/v1/namespaces/a/events", ("create", "events", "a")),
        ("GET", "/api/v1/namespaces", ("list", "namespaces", None)),
    ],
)
def test_request_target_names_verb_resource_namespace(method: str, path: str, expected: tuple[str, str, str]) -> None:
    assert request_target(method, path) == expected


def test_a_403_without_a_message_names_verb_resource_and_namespace() -> None:
    with pytest.raises(ForbiddenError, match="context 'ctx', user 'alice' may not get pods/proxy in namespace a"):
        make(Script(Response(403, b""))).stream_get("/api/v1/namespaces/a/pods/p:80/proxy/m", timeout=5, max_bytes=9)


def test_list_items_follows_continue_tokens_in_pages_of_the_given_size() -> None:
    script = Script(
        Response(200, b'{"items": [{"n": 1}, {"n": 2}], "metadata": {"continue": "t1"}}'),
        Response(200, b'{"items": [{"n": 3}], "metadata": {}}'),
    )
    items = make(script).list_items("/api/v1/pods", page_size=2)
    assert items == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [url for _, url, _ in script.calls] == [
        "https://k:6443/api/v1/pods?limit=2",
        "https://k:6443/api/v1/pods?limit=2&continue=t1",
    ]


def test_list_items_asks_for_the_next_page_from_the_head_and_trusts_only_the_whole_page() -> None:
    script = Script(
        Response(200, b'{"kind":"PodList","metadata":{"continue":"t1"},"items":[{"n":1}]}'),
        # a head that says one token and a whole page that says another (a repeated key: the last wins)
        Response(200, b'{"metadata":{"continue":"x"},"items":[{"n":2}],"metadata":{"continue":"t2"}}'),
        Response(200, b'{"metadata":{},"items":[{"n":"not asked for"}]}'),
        Response(200, b'{"metadata":{},"items":[{"n":3}]}'),
    )
    assert make(script).list_items("/api/v1/pods", page_size=1) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [url.split("?")[1] for _, url, _ in script.calls] == [
        "limit=1",
        "limit=1&continue=t1",
        "limit=1&continue=x",
        "limit=1&continue=t2",
    ]


def test_list_items_without_a_page_size_is_one_request_without_limit() -> None:
    script = Script(Response(200, b'{"items": [{"n": 1}], "metadata": {"resourceVersion": "7"}}'))
    assert make(script).list_items("/apis/g/v1/things", page_size=None, label_selector="a=b") == [{"n": 1}]
    assert [url for _, url, _ in script.calls] == ["https://k:6443/apis/g/v1/things?labelSelector=a%3Db"]

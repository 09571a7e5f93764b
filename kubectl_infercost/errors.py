"""One exception hierarchy and the only place exit codes are decided.

Adapters translate library errors into these (chained with ``from``); commands
never catch ``Exception``. ``__main__`` maps an error to its exit status once.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    API = 4
    SCRAPE = 5
    INVALID_DATA = 6


class InferCostError(Exception):
    """Base of every expected failure; its message is shown as ``error: <message>``."""

    exit_code: ExitCode = ExitCode.ERROR


class UsageError(InferCostError):
    """Bad flags or arguments."""

    exit_code = ExitCode.USAGE


class ConfigError(InferCostError):
    """Missing or unreadable kubeconfig, unknown context, unusable credentials."""

    exit_code = ExitCode.CONFIG


class ApiError(InferCostError):
    """The Kubernetes API answered with an error, or could not be reached."""

    exit_code = ExitCode.API

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class ApiUnreachableError(ApiError):
    """No answer from the API server (connection refused, DNS, TLS, timeout)."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot reach the Kubernetes API at {server}: {reason}")
        self.server = server


class UnauthorizedError(ApiError):
    """401: the credentials were rejected (even after one refresh)."""


class NotFoundError(ApiError):
    """404 from the API server."""


class CrdsNotInstalledError(NotFoundError):
    """Our CustomResourceDefinitions are absent: every command says the same thing."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"the infercost CRDs are not installed on this cluster ({kind} is unknown); "
            "run `kubectl infercost install`",
            status=404,
        )


class ConflictError(ApiError):
    """409 from the API server: the object changed since it was read."""


class ForbiddenError(ApiError):
    """403 from the API server."""


class InvalidObjectError(ApiError):
    """422 from the API server: the object failed server-side validation."""


class TooManyRequestsError(ApiError):
    """429: the API server throttled us (retried with its Retry-After first)."""


class ServerError(ApiError):
    """5xx: the API server failed (retried with backoff first)."""


class ScrapeError(InferCostError):
    """A metrics endpoint failed; recorded per endpoint, never fatal to a pass."""

    exit_code = ExitCode.SCRAPE


class InvalidDataError(InferCostError):
    """A custom resource or input file holds values we cannot use."""

    exit_code = ExitCode.INVALID_DATA


class CheckpointAheadError(InvalidDataError):
    """An evaluation instant (``--now``) earlier than a report's checkpoint: accounting never runs backwards."""

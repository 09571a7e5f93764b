"""Flags every command shares (kubectl's conventions) and how adapters are built from them.

Global flags are accepted both before and after the subcommand, as kubectl users
type them either way (``kubectl infercost -n team-a report`` or ``... report -n team-a``).
The argument rules here (durations, instants, namespaces) are pure and table-tested.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..kube.client import KubeClient
    from ..kube.config import ClusterConfig, Overrides

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_REQUEST_TIMEOUT = 30.0
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str, flag: str = "duration") -> float:
    """Seconds from a kubectl duration: ``0``, ``30`` (seconds), ``500ms``, ``5s``, ``1m30s``, ``1h``."""
    value = text.strip()
    if re.fullmatch(r"\d+", value):
        return float(value)
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(value):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not value or pos != len(value):
        raise UsageError(f"{flag} {text!r} is not a duration (use e.g. 0, 500ms, 30s, 5m, 1h30m)")
    return total


def parse_instant(text: str, flag: str = "--now") -> datetime:
    """An aware UTC instant from RFC 3339 (``2026-04-20T10:00:00Z``) or a date (midnight UTC)."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not an RFC 3339 time (e.g. 2026-04-20T10:00:00Z)") from None
    if parsed.tzinfo is None:
        raise UsageError(f"{flag} {text!r} has no UTC offset (e.g. 2026-04-20T10:00:00Z)")
    return parsed.astimezone(UTC)


def resolve_namespace(namespace: str | None, all_namespaces: bool, default: str | None) -> str | None:
    """The one namespace rule: -A is all (None), else -n, else ``default`` (the context's, or None = all)."""
    if all_namespaces and namespace:
        raise UsageError("--namespace and --all-namespaces are mutually exclusive")
    if all_namespaces:
        return None
    return namespace or default


@dataclass
class GlobalOptions:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    debug: bool = False
    server: str | None = None
    token: str | None = None
    user: str | None = None
    cluster: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = field(default_factory=tuple)
    impersonate_uid: str | None = None

    def overrides(self) -> Overrides:
        from dataclasses import fields

        from ..kube.config import Overrides

        return Overrides(**{f.name: getattr(self, f.name) for f in fields(Overrides)})

    def cluster_config(self) -> ClusterConfig:
        from ..kube.config import load_config

        return load_config(self.kubeconfig, self.context, overrides=self.overrides())

    def client(self, *, max_connections: int = 64, config: ClusterConfig | None = None) -> KubeClient:
        from ..kube.client import KubeClient

        return KubeClient(
            config or self.cluster_config(), timeout=self.request_timeout, max_connections=max_connections
        )

    def target_namespace(self, config: ClusterConfig) -> str | None:
        """None means all namespaces; the default is the context's namespace."""
        return resolve_namespace(self.namespace, self.all_namespaces, config.namespace)


def _duration_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    return None if value is None else parse_duration(value, "--request-timeout")


def _complete_namespaces(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from .completion import complete_namespaces

    return complete_namespaces(ctx, param, incomplete)


_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--kubeconfig",),
        {"metavar": "PATH", "help": "Path to the kubeconfig file (default $KUBECONFIG or ~/.kube/config)."},
    ),
    (("--context",), {"metavar": "NAME", "help": "The kubeconfig context to use."}),
    (
        ("-n", "--namespace"),
        {
            "metavar": "NS",
            "help": "Namespace scope (default: the context's namespace).",
            "shell_complete": _complete_namespaces,
        },
    ),
    (("-A", "--all-namespaces"), {"is_flag": True, "default": None, "help": "All namespaces."}),
    (
        ("--request-timeout",),
        {
            "metavar": "DURATION",
            "callback": _duration_option,
            "help": "Timeout of one API request, e.g. 5s, 1m; 0 means none (default 30s).",
        },
    ),
    (("-s", "--server"), {"metavar": "URL", "help": "The address of the Kubernetes API server."}),
    (("--token",), {"metavar": "TOKEN", "help": "Bearer token for authentication to the API server."}),
    (("--user",), {"metavar": "NAME", "help": "The kubeconfig user to use."}),
    (("--cluster",), {"metavar": "NAME", "help": "The kubeconfig cluster to use."}),
    (("--certificate-authority",), {"metavar": "PATH", "help": "Path to a cert file for the certificate authority."}),
    (("--client-certificate",), {"metavar": "PATH", "help": "Path to a client certificate file for TLS."}),
    (("--client-key",), {"metavar": "PATH", "help": "Path to a client key file for TLS."}),
    (
        ("--insecure-skip-tls-verify",),
        {"is_flag": True, "default": None, "help": "Do not verify the server's certificate (insecure)."},
    ),
    (("--tls-server-name",), {"metavar": "NAME", "help": "Server name to use for certificate validation."}),
    (("--as", "impersonate"), {"metavar": "USER", "help": "Username to impersonate for the operation."}),
    (
        ("--as-group", "impersonate_groups"),
        {"metavar": "GROUP", "multiple": True, "help": "Group to impersonate (repeatable)."},
    ),
    (("--as-uid", "impersonate_uid"), {"metavar": "UID", "help": "UID to impersonate for the operation."}),
    (("--debug",), {"is_flag": True, "default": None, "help": "Show tracebacks of errors."}),
]
_NAMES = (
    "kubeconfig",
    "context",
    "namespace",
    "all_namespaces",
    "request_timeout",
    "server",
    "token",
    "user",
    "cluster",
    "certificate_authority",
    "client_certificate",
    "client_key",
    "insecure_skip_tls_verify",
    "tls_server_name",
    "impersonate",
    "impersonate_groups",
    "impersonate_uid",
    "debug",
)


def _add_global_options(func: F, namespace_help: str | None = None) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        opts: GlobalOptions = ctx.ensure_object(GlobalOptions)
        for name in _NAMES:
            value = kwargs.pop(name, None)
            if value is not None and value != ():
                setattr(opts, name, value)
        return func(*args, **kwargs)

    for decls, attrs in reversed(_OPTIONS):
        if namespace_help and "--namespace" in decls:
            attrs = {**attrs, "help": namespace_help}
        wrapper = click.option(*decls, **attrs)(wrapper)
    return wrapper  # type: ignore[return-value]


def global_options(func: F) -> F:
    """Add the shared flags to a command and merge them into ``ctx.obj``."""
    return _add_global_options(func)


def global_options_with(*, namespace_help: str) -> Callable[[F], F]:
    """The shared flags, with a command's own wording of what -n defaults to."""
    return lambda func: _add_global_options(func, namespace_help)


def pass_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(click.get_current_context().ensure_object(GlobalOptions), *args, **kwargs)

    return wrapper


def output_option(choices: tuple[str, ...], default: str) -> Callable[[F], F]:
    return click.option(
        "-o",
        "--output",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )

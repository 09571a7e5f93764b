"""Flags every command shares (kubectl's conventions) and how adapters are built from them.

Global flags are accepted both before and after the subcommand, as kubectl users
type them either way (``kubectl infercost -n team-a report`` or ``... report -n team-a``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..kube.client import KubeClient
    from ..kube.config import ClusterConfig

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class GlobalOptions:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float = 30.0
    debug: bool = False

    def cluster_config(self) -> ClusterConfig:
        from ..kube.config import load_config

        return load_config(self.kubeconfig, self.context)

    def client(self) -> KubeClient:
        from ..kube.client import KubeClient

        return KubeClient(self.cluster_config(), timeout=self.request_timeout)

    def target_namespace(self, config: ClusterConfig) -> str | None:
        """None means all namespaces."""
        if self.all_namespaces:
            if self.namespace:
                raise UsageError("--namespace and --all-namespaces are mutually exclusive")
            return None
        return self.namespace or config.namespace


_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("--kubeconfig",),
        {"metavar": "PATH", "help": "Path to the kubeconfig file (default $KUBECONFIG or ~/.kube/config)."},
    ),
    (("--context",), {"metavar": "NAME", "help": "The kubeconfig context to use."}),
    (("-n", "--namespace"), {"metavar": "NS", "help": "Namespace scope (default: the context's namespace)."}),
    (("-A", "--all-namespaces"), {"is_flag": True, "default": None, "help": "All namespaces."}),
    (
        ("--request-timeout",),
        {"type": float, "metavar": "SECONDS", "help": "Timeout of one API request (default 30)."},
    ),
    (("--debug",), {"is_flag": True, "default": None, "help": "Show tracebacks of errors."}),
]
_NAMES = ("kubeconfig", "context", "namespace", "all_namespaces", "request_timeout", "debug")


def _add_global_options(func: F, namespace_help: str | None = None) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        opts: GlobalOptions = ctx.ensure_object(GlobalOptions)
        for name in _NAMES:
            value = kwargs.pop(name, None)
            if value is not None:
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

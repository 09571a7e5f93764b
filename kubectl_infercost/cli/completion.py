"""Shell completion: ``kubectl infercost completion bash|zsh|fish`` and kubectl's plugin completion.

Both use click's completion machinery. The shell scripts complete the ``kubectl-infercost``
executable; ``kubectl infercost <TAB>`` goes through kubectl (>= 1.26), which runs the
``kubectl_complete-infercost`` helper shipped beside the binary, which runs
``kubectl-infercost __complete ARGS... INCOMPLETE`` and reads Cobra's format: one
``value<TAB>help`` per line, then ``:<directive>``.

Namespaces and ``--period`` labels come from the cluster (one LIST, short timeout); any failure
there completes nothing rather than printing into the user's prompt.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem, ShellComplete, get_completion_class

from .common import GlobalOptions

PROG_NAME = "kubectl-infercost"
COMPLETE_VAR = "_KUBECTL_INFERCOST_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
# One API request per completion: a shell user waits for it.
_REQUEST_TIMEOUT = 3.0
# Cobra's ShellCompDirective values (spf13/cobra completions.go).
_DIRECTIVE_DEFAULT = 0
_DIRECTIVE_NO_FILE = 4


@click.command(short_help="Print a shell completion script (bash, zsh or fish).")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script of SHELL for the kubectl-infercost executable.

    \b
    bash:  source <(kubectl-infercost completion bash)
    zsh:   source <(kubectl-infercost completion zsh)
    fish:  kubectl-infercost completion fish | source

    `kubectl infercost <TAB>` needs no script: kubectl (1.26 or later) runs the
    kubectl_complete-infercost helper shipped with the plugin, if it is on PATH.
    """
    from . import root

    cls = get_completion_class(shell)
    if cls is None:  # click ships all three; kept for the type checker
        raise click.UsageError(f"no completion support for {shell}")
    click.echo(cls(root, {}, PROG_NAME, COMPLETE_VAR).source(), nl=False)


def _options_of(ctx: click.Context) -> GlobalOptions:
    """The global flags typed so far on the command line (root first, the subcommand wins)."""
    chain: list[click.Context] = []
    current: click.Context | None = ctx
    while current is not None:
        chain.append(current)
        current = current.parent
    opts = GlobalOptions(request_timeout=_REQUEST_TIMEOUT)
    names = [f.name for f in dataclasses.fields(GlobalOptions) if f.name not in ("request_timeout", "debug")]
    for each in reversed(chain):
        for name in names:
            value = each.params.get(name)
            if value is not None and value != ():
                setattr(opts, name, value)
    return opts


def _list(ctx: click.Context, path_of: Callable[[str | None], str]) -> list[dict[str, Any]]:
    """LIST one collection for a completion; nothing on any error (no cluster, no rights, bad kubeconfig)."""
    opts = _options_of(ctx)
    try:
        config = opts.cluster_config()
        with opts.client(config=config) as client:
            return list(client.list_items(path_of(opts.target_namespace(config))))
    except Exception:  # a completion must never print a traceback into the user's shell
        return []


def complete_namespaces(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from ..kube.resources import NAMESPACES

    items = _list(ctx, lambda _namespace: NAMESPACES.collection())
    names = sorted(str((item.get("metadata") or {}).get("name")) for item in items)
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def period_labels(reports: list[dict[str, Any]]) -> list[str]:
    """Every period label the reports hold (current and history), and the months they fall in, newest first."""
    labels: set[str] = set()
    for report in reports:
        status = report.get("status") or {}
        for period in [status, *(status.get("history") or [])]:
            label = period.get("period")
            start = period.get("periodStart")
            if isinstance(label, str) and label:
                labels.add(label)
            if isinstance(start, str) and len(start) >= 7:
                labels.add(start[:7])
    return sorted(labels, reverse=True)


def complete_periods(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from ..kube.resources import USAGE_REPORTS

    reports = _list(ctx, USAGE_REPORTS.collection)
    return [CompletionItem(label) for label in period_labels(reports) if label.startswith(incomplete)]


class KubectlPluginComplete(ShellComplete):
    """The protocol of kubectl's plugin completion (a Cobra ``__complete`` answer)."""

    name = "kubectl"
    source_template = ""

    def get_completion_args(self) -> tuple[list[str], str]:
        raise NotImplementedError  # arguments come from kubectl, see complete_for_kubectl

    def answer(self, args: list[str]) -> str:
        """Completions of the last argument (the word being typed, '' after a space)."""
        *done, incomplete = args or [""]
        items = self.get_completions(done, incomplete)
        if any(item.type in ("file", "dir") for item in items):
            return f":{_DIRECTIVE_DEFAULT}\n"  # a path: let the shell complete file names
        lines = [self.format_completion(item) for item in items]
        lines.append(f":{_DIRECTIVE_NO_FILE}")
        return "\n".join(lines) + "\n"

    def format_completion(self, item: CompletionItem) -> str:
        return f"{item.value}\t{item.help}" if item.help else str(item.value)


def complete_for_kubectl(cli: click.Command, args: list[str]) -> int:
    """``kubectl-infercost __complete ARGS... INCOMPLETE``: print the Cobra-format answer."""
    click.echo(KubectlPluginComplete(cli, {}, PROG_NAME, COMPLETE_VAR).answer(args), nl=False)
    return 0


def complete_for_shell(cli: click.Command) -> int:
    """The shell scripts' request (``_KUBECTL_INFERCOST_COMPLETE=bash_complete`` and so on)."""
    from click.shell_completion import shell_complete

    return shell_complete(cli, {}, PROG_NAME, COMPLETE_VAR, os.environ[COMPLETE_VAR])

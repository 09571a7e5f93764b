"""Global flags work before and after the subcommand, like kubectl's."""

from __future__ import annotations

import click
import pytest

from kubectl_infercost.cli.common import GlobalOptions, global_options, pass_options
from kubectl_infercost.errors import UsageError
from kubectl_infercost.kube.config import ClusterConfig

seen: list[GlobalOptions] = []


@click.group()
@global_options
def grp() -> None:
    pass


@grp.command()
@global_options
@pass_options
def probe(opts: GlobalOptions) -> None:
    seen.append(opts)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["probe"], (None, None, None, False)),
        (["-n", "team-a", "probe"], ("team-a", None, None, False)),
        (["probe", "-n", "team-a"], ("team-a", None, None, False)),
        (["--context", "prod", "probe", "--namespace", "b"], ("b", "prod", None, False)),
        (["-n", "a", "probe", "-n", "b"], ("b", None, None, False)),
        (["probe", "-A", "--kubeconfig", "/k"], (None, None, "/k", True)),
    ],
)
def test_flag_placement(argv: list[str], expected: tuple[object, ...]) -> None:
    seen.clear()
    grp.main(args=argv, standalone_mode=False)
    o = seen[0]
    assert (o.namespace, o.context, o.kubeconfig, o.all_namespaces) == expected


@pytest.mark.parametrize(
    ("namespace", "all_ns", "expected"),
    [(None, False, "ctx-ns"), ("x", False, "x"), (None, True, None)],
)
def test_target_namespace(namespace: str | None, all_ns: bool, expected: str | None) -> None:
    cfg = ClusterConfig(server="https://k", context="c", namespace="ctx-ns")
    assert GlobalOptions(namespace=namespace, all_namespaces=all_ns).target_namespace(cfg) == expected


def test_namespace_and_all_namespaces_conflict() -> None:
    cfg = ClusterConfig(server="https://k", context="c")
    with pytest.raises(UsageError, match="mutually exclusive"):
        GlobalOptions(namespace="x", all_namespaces=True).target_namespace(cfg)

"""Global flags work before and after the subcommand, like kubectl's."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import pytest

from kubectl_infercost.cli.common import (
    GlobalOptions,
    global_options,
    parse_duration,
    parse_instant,
    pass_options,
    resolve_namespace,
)
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


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("30", 30.0), ("5s", 5.0), ("500ms", 0.5), ("1m30s", 90.0), ("1h", 3600.0), ("1.5s", 1.5)],
)
def test_kubectl_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "s", "1h-2m", "-1s", "5 s"])
def test_bad_durations_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="is not a duration"):
        parse_duration(text, "--request-timeout")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-20T10:00:00Z", datetime(2026, 4, 20, 10, tzinfo=UTC)),
        ("2026-04-20T12:00:00+02:00", datetime(2026, 4, 20, 10, tzinfo=UTC)),
        ("2026-04-20", datetime(2026, 4, 20, tzinfo=UTC)),
    ],
)
def test_instants(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["2026-04-20T10:00:00", "yesterday", "2026-13-01"])
def test_bad_instants(text: str) -> None:
    with pytest.raises(UsageError):
        parse_instant(text)


@pytest.mark.parametrize(
    ("namespace", "all_ns", "default", "expected"),
    [(None, False, "ctx", "ctx"), ("a", False, "ctx", "a"), (None, True, "ctx", None), (None, False, None, None)],
)
def test_one_namespace_rule(namespace: str | None, all_ns: bool, default: str | None, expected: str | None) -> None:
    assert resolve_namespace(namespace, all_ns, default) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["--as", "viewer", "--as-group", "g1", "probe", "--as-group", "g2", "--request-timeout", "5s"],
        ["probe", "--as=viewer", "--as-group=g2", "--request-timeout=5s"],
    ],
)
def test_auth_flags_before_or_after(argv: list[str]) -> None:
    seen.clear()
    grp.main(args=argv, standalone_mode=False)
    o = seen[0]
    assert (o.impersonate, o.impersonate_groups[-1], o.request_timeout) == ("viewer", "g2", 5.0)


def test_global_flags_around_export_focus() -> None:
    from kubectl_infercost.cli import root

    for argv in (["-n", "a", "export", "focus", "--help"], ["export", "-n", "a", "focus", "--help"]):
        with pytest.raises(SystemExit) as done:
            root.main(args=argv, prog_name="kubectl infercost")
        assert done.value.code == 0

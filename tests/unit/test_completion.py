"""Shell completion through click's machinery: the kubectl plugin protocol and the shell scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.cli.completion import period_labels

REPO = Path(__file__).resolve().parents[2]


def complete(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """``kubectl-infercost __complete ARGS...`` as kubectl runs it; a kubeconfig that points nowhere."""
    done = subprocess.run(
        [sys.executable, "-m", "kubectl_infercost", "__complete", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home", "PYTHONPATH": str(REPO), **(env or {})},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.splitlines()


def test_subcommands_with_help_then_the_no_file_directive() -> None:
    lines = complete("re")
    assert lines[-1] == ":4"
    assert [line.split("\t")[0] for line in lines[:-1]] == ["reconcile", "report"]
    assert lines[1].startswith("report\tCosts, tokens")
    assert complete("ba") == ["backfill\tWrite history before accountingSince from Prometheus.", ":4"]
    assert [x.split("\t")[0] for x in complete("backfill", "--st")] == ["--step", ":4"]


def test_flags_and_choices() -> None:
    assert [x.split("\t")[0] for x in complete("report", "-o", "")] == ["table", "wide", "json", "yaml", ":4"]
    assert [x.split("\t")[0] for x in complete("export", "focus", "--focus-v")] == ["--focus-version", ":4"]
    assert complete("completion", "") == ["bash", "zsh", "fish", ":4"]
    assert complete("reconcile", "--pricing-file", "") == [":0"]  # a path: the shell completes file names


def test_cluster_values_without_a_cluster_complete_nothing_silently(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-kubeconfig")
    assert complete("report", "-n", "", env={"KUBECONFIG": missing}) == [":4"]
    assert complete("export", "focus", "--period", "2026", env={"KUBECONFIG": missing}) == [":4"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_drive_the_executable(shell: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kubectl_infercost", "completion", shell],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert "_KUBECTL_INFERCOST_COMPLETE" in done.stdout
    assert "kubectl-infercost" in done.stdout


def test_bash_script_protocol() -> None:
    """What the sourced bash function sends: COMP_WORDS/COMP_CWORD and the instruction variable."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "COMP_WORDS": "kubectl-infercost export fo",
        "COMP_CWORD": "2",
        "_KUBECTL_INFERCOST_COMPLETE": "bash_complete",
    }
    done = subprocess.run(
        [sys.executable, "-m", "kubectl_infercost"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["plain,focus"]


def test_period_labels_newest_first_with_their_months() -> None:
    reports: list[dict[str, Any]] = [
        {
            "status": {
                "period": "2026-05-02",
                "periodStart": "2026-05-02T00:00:00Z",
                "history": [
                    {"period": "2026-05-01", "periodStart": "2026-05-01T00:00:00Z"},
                    {"period": "2026-04-30", "periodStart": "2026-04-30T00:00:00Z"},
                ],
            }
        },
        {"status": {"period": "2026-W18", "periodStart": "2026-04-27T00:00:00Z"}},
        {"spec": {}},  # never reconciled: no status
    ]
    assert period_labels(reports) == ["2026-W18", "2026-05-02", "2026-05-01", "2026-05", "2026-04-30", "2026-04"]


def python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter on the source tree."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        check=True,
    )


@pytest.mark.parametrize(
    "args", [["version"], ["--help"], ["report", "--help"], ["export", "focus", "--help"], ["__complete", "rep"]]
)
def test_startup_paths_import_no_heavy_module(args: list[str]) -> None:
    """`version`, `--help` and static completions stay fast: no client, validation, YAML or Arrow imports."""
    probe = (
        "import sys\n"
        "from kubectl_infercost.__main__ import main\n"
        f"main({args!r})\n"
        "heavy = ('pydantic', 'httpx', 'kubernetes', 'pyarrow', 'yaml', 'tabulate', 'matplotlib', 'boto3',\n"
        "         'botocore')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = python(probe)
    assert done.stderr.strip() == "[]"


def test_pip_console_script_answers_like_the_archive_helper() -> None:
    """``kubectl_complete-infercost rep`` (pip's console script) is ``kubectl-infercost __complete rep``."""
    probe = (
        "import sys\n"
        "from kubectl_infercost.__main__ import complete\n"
        "sys.argv = ['kubectl_complete-infercost', 'rep']\n"
        "sys.exit(complete())\n"
    )
    done = python(probe)
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == ["report", ":4"]

"""``kubectl infercost version``. Imports nothing heavier than click: it is the start-up benchmark."""

from __future__ import annotations

import json
import platform
import sys

import click

from .. import buildinfo
from .common import global_options, output_option


def version_info() -> dict[str, str]:
    return {
        "pluginVersion": buildinfo.VERSION,
        "gitCommit": buildinfo.COMMIT,
        "buildDate": buildinfo.BUILD_DATE,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "frozen": str(bool(getattr(sys, "frozen", False))).lower(),
    }


@click.command()
@output_option(("text", "json"), "text")
@global_options
def version(output: str) -> None:
    """Print the release version, its commit and build date, Python and platform."""
    info = version_info()
    if output == "json":
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(f"kubectl-infercost v{info['pluginVersion']}")
        click.echo(f"commit {info['gitCommit']}, built {info['buildDate']}")
        click.echo(f"Python {info['python']} ({info['platform']})")

"""click commands only: parse flags, build adapters, call the core, call one writer."""

from __future__ import annotations

import click

from .board import board
from .common import global_options
from .completion import completion
from .export import export
from .install import install, uninstall
from .reconcile import reconcile
from .report import report
from .version import version


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@global_options
def root() -> None:
    """What on-prem LLM inference really costs, per namespace and model.

    GPUs are amortized, powered (DCGM energy x PUE x tariff) and shared; inference
    servers count tokens. Every number lives in three CRDs: CostProfile,
    UsageReport and TokenBudget.
    """


root.add_command(version)
root.add_command(install)
root.add_command(uninstall)
root.add_command(reconcile)
report.add_command(board)
root.add_command(report)
root.add_command(export)
root.add_command(completion)

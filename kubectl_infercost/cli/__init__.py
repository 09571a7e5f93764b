"""click commands only: parse flags, build adapters, call the core, call one writer.

Each subcommand's module is imported when that subcommand runs (or when help or completion
lists it): ``export focus`` never pays for the reconciler's, the board's or Prometheus' imports.
"""

from __future__ import annotations

import importlib

import click

from .common import global_options

# name -> (module, attribute); ``--help`` lists them alphabetically, as click does.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "version": ("version", "version"),
    "install": ("install", "install"),
    "uninstall": ("install", "uninstall"),
    "reconcile": ("reconcile", "reconcile"),
    "backfill": ("backfill", "backfill"),
    "report": ("report", "report"),
    "export": ("export", "export"),
    "completion": ("completion", "completion"),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 -- click.Group's signature
        return sorted({*SUBCOMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002 -- click.Group's signature
        if cmd_name not in self.commands and cmd_name in SUBCOMMANDS:
            module, attribute = SUBCOMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
            if cmd_name == "report":
                from .board import board

                command.add_command(board)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@global_options
def root() -> None:
    """What on-prem LLM inference really costs, per namespace and model.

    GPUs are amortized, powered (DCGM energy x PUE x tariff) and shared; inference
    servers count tokens. Every number lives in three CRDs: CostProfile,
    UsageReport and TokenBudget.
    """

"""``kubectl infercost install`` and ``uninstall``: the three CRDs."""

from __future__ import annotations

import click

from ..errors import InferCostError
from .common import GlobalOptions, global_options, pass_options


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the CRD manifests instead of applying them.")
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for Established.")
@global_options
@pass_options
def install(opts: GlobalOptions, dry_run: bool, timeout: float) -> None:
    """Install or update the CostProfile, UsageReport and TokenBudget CRDs (server-side apply)."""
    from ..kube import crds

    if dry_run:
        click.echo(crds.manifests_yaml(), nl=False)
        return
    with opts.client() as client:
        results = crds.install(client, timeout=timeout, progress=click.echo)
    if all(r.action == "unchanged" for r in results):
        click.echo("CRDs unchanged: nothing to do")
    else:
        click.echo("CRDs established")


@click.command()
@click.option("--yes", is_flag=True, help="Delete even when CostProfiles, UsageReports or TokenBudgets exist.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for deletion.")
@global_options
@pass_options
def uninstall(opts: GlobalOptions, yes: bool, timeout: float) -> None:
    """Delete the CRDs and, with them, every CostProfile, UsageReport and TokenBudget."""
    from ..kube import crds

    with opts.client() as client:
        counts = crds.count_objects(client)
        total = sum(counts.values())
        summary = ", ".join(f"{n} {res.plural}" for res, n in counts.items())
        if total and not yes:
            raise InferCostError(
                f"refusing to uninstall: {summary} would be deleted with the CRDs; pass --yes to delete them"
            )
        if total:
            click.echo(f"deleting {summary}", err=True)
        crds.uninstall(client, timeout=timeout, progress=click.echo)

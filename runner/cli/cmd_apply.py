from __future__ import annotations

from pathlib import Path

import typer

from runner.cli.common import cluster_location, console, err_console, errors_as_exit, print_plan
from runner.cli.reporter import ConsoleReporter
from runner.engine.reconcile.local import apply_local


def apply(
    cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>"),
    allow_destroy: bool = typer.Option(False, "--allow-destroy", help="Allow deleting VMs removed from the spec"),
) -> None:
    """Plan and apply a working copy now (the service does this on pushes to the protected branch)."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        outcome = apply_local(root, name, ConsoleReporter(console), allow_destroy=allow_destroy)
    if outcome.plan is not None:
        print_plan(outcome.plan)
    if not outcome.ok:
        err_console.print(f"[red]failed:[/] {outcome.summary() if outcome.plan else outcome.error}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]{outcome.summary()}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(apply)

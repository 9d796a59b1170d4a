from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from runner.cli.common import cluster_location, errors_as_exit
from runner.engine.commands.doctor import Result, build_context, failed, run_checks
from runner.engine.reconcile.target_settings import TargetSettings

STYLE = {Result.OK: "green", Result.WARN: "yellow", Result.FAIL: "red", Result.SKIP: "dim"}


def doctor(
    cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>"),
) -> None:
    """Check a real installation before the first apply (read-only): Proxmox, factory, talosctl, keys, forge."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        rows = run_checks(build_context(root, name, TargetSettings()))
    console = Console()  # made now, not at import: the table fits the terminal the command runs in
    table = Table(title=f"runner doctor: cluster {name}", show_lines=False)
    for column in ("check", "result", "detail", "how to fix"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.check, f"[{STYLE[row.result]}]{row.result.value}[/]", row.detail, row.fix)
    console.print(table)
    if failed(rows):
        n = sum(1 for row in rows if row.result is Result.FAIL)
        console.print(f"[red]{n} check{'s' if n != 1 else ''} failed[/]", highlight=False)
        raise typer.Exit(1)
    console.print("[green]all checks passed[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(doctor)

"""`runner restore clusters/<name> --snapshot <id>`: Talos' etcd disaster recovery from a stored snapshot."""

from __future__ import annotations

from pathlib import Path

import typer

from runner.cli.common import cluster_location, console, errors_as_exit
from runner.engine.commands.recovery import restore as restore_cluster


def restore(
    cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>"),
    snapshot: str = typer.Option(..., "--snapshot", help="The snapshot id (see `runner backup list`)"),
    force: bool = typer.Option(False, "--force", help="Restore even though etcd still has quorum (loses newer data)"),
) -> None:
    """Reset every controller's etcd and bootstrap it from a snapshot; refuses while etcd has quorum."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        info = restore_cluster(
            root, name, snapshot, force=force, log=lambda m: console.print(m, highlight=False, markup=False)
        )
    console.print(f"[green]cluster {name} restored from {info.id}[/] (taken {info.taken_at})", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(restore)

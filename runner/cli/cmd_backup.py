"""`runner backup list [cluster]`, `runner backup now clusters/<name>`: etcd snapshots in `backup_dir`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from runner.cli.common import cluster_location, errors_as_exit
from runner.engine.commands.recovery import backup_now
from runner.engine.reconcile.backups import BackupStore
from runner.engine.reconcile.target_settings import TargetSettings

backup_app = typer.Typer(help="etcd snapshots: list them, take one now.", no_args_is_help=True)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, unit = float(n) / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


@backup_app.command("list")
def list_backups(
    cluster: str | None = typer.Argument(None, help="Only this cluster (a name or clusters/<name>)"),
) -> None:
    """The snapshots in backup_dir, newest first: time, size, cluster, Kubernetes and Talos versions."""
    settings = TargetSettings()
    name = Path(cluster).name if cluster else None
    infos = BackupStore(settings.backup_dir).snapshots(name)
    if not infos:
        _console().print(f"no etcd snapshots in {settings.backup_dir}" + (f" for {name}" if name else ""))
        return
    table = Table(title=f"etcd snapshots in {settings.backup_dir}")
    for column in ("id", "cluster", "taken at (UTC)", "size", "kubernetes", "talos", "from", "why"):
        table.add_column(column)
    for i in infos:
        table.add_row(
            i.id,
            i.cluster,
            i.taken_at,
            _size(i.size),
            i.kubernetes_version or "-",
            i.talos_version or "-",
            i.controller,
            i.reason,
        )
    _console().print(table)


@backup_app.command("now")
def now(cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory")) -> None:
    """Take an etcd snapshot now from a healthy controller (encrypted, stored, older ones pruned)."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        info, pruned = backup_now(root, name)
    _console().print(
        f"[green]snapshot {info.id}[/] of {name} from {info.controller}: {_size(info.size)}"
        + (f"; deleted {len(pruned)} older" if pruned else ""),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")


def _console() -> Console:
    return Console()  # made per call, not at import: the table fits the terminal the command runs in

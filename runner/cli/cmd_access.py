"""`runner status`, `runner kubeconfig`, `runner talosconfig`: operator access derived from the secrets."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import typer
from rich.table import Table

from runner.cli.common import cluster_location, console, errors_as_exit
from runner.core.planner import plan as make_plan
from runner.core.secret import Secret
from runner.core.snapshot import snapshot as make_snapshot
from runner.engine.reconcile.local import Access, access, local_engine
from runner.engine.reconcile.observe import observe
from runner.engine.reconcile.source import DirSource

ClusterDir = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>")


def _write(text: str, output: Path | None) -> None:
    if output is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # credentials: owner-only
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    console.print(f"wrote {output} (mode 0600)", highlight=False)


OutputFile = typer.Option(None, "--output", "-o", help="Write to this file (0600) instead of stdout")


def _emit(cluster_dir: Path, output: Path | None, credential: Callable[[Access], Secret]) -> None:
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        result = access(root, name)
    _write(credential(result).reveal(), output)


def kubeconfig(cluster_dir: Path = ClusterDir, output: Path | None = OutputFile) -> None:
    """Print an admin kubeconfig for the cluster (VIP endpoint once the runner switched to it)."""
    _emit(cluster_dir, output, lambda creds: creds.kubeconfig)


def talosconfig(cluster_dir: Path = ClusterDir, output: Path | None = OutputFile) -> None:
    """Print a talosconfig (os:admin client certificate signed by the cluster's OS CA)."""
    _emit(cluster_dir, output, lambda creds: creds.talosconfig)


def status(cluster_dir: Path = ClusterDir) -> None:
    """Observe the cluster now and show nodes, endpoint, Flux and what a plan would change."""
    root, name = cluster_location(cluster_dir)
    engine = local_engine()
    with errors_as_exit():
        _, conns, desired, _ = engine.prepare(DirSource(root), name)
        try:
            observed = observe(desired, conns, engine.store.get(name), engine.store)
        finally:
            conns.close()
    snap = make_snapshot(desired, observed, make_plan(desired, observed))
    table = Table(title=f"cluster {name}: endpoint {snap['endpoint']}")
    for column in ("node", "role", "ip", "vmid", "vm", "talos", "version", "in sync"):
        table.add_column(column)
    for n in snap["nodes"]:
        table.add_row(
            n["name"],
            n["role"],
            n["ip"],
            str(n["vmid"]),
            n["vm"],
            n["talos"],
            n["talos_version"] or "-",
            "yes" if n["in_sync"] else "no",
        )
    console.print(table)
    flux = snap["flux_version"] or "not installed"
    ready = "Ready" if snap["kustomizations_ready"] else "not Ready"
    console.print(
        f"Flux {flux}, Kustomizations {ready}; hand-off {'recorded' if snap['handoff'] else 'pending'}; "
        f"{len(snap['pending_steps'])} pending steps",
        highlight=False,
    )
    for line in snap["conflicts"] + snap["drift"]:
        console.print(f"[yellow]{line}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(kubeconfig)
    app.command()(talosconfig)

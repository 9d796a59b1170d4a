from __future__ import annotations

from pathlib import Path

import typer

from runner.cli.common import cluster_location, console, err_console, errors_as_exit
from runner.core.errors import SpecInvalid
from runner.core.flux_settings import cluster_settings
from runner.engine.commands.key_separation import repository_findings
from runner.engine.commands.platform_check import platform_findings
from runner.engine.reconcile.load import load_cluster
from runner.engine.reconcile.source import DirSource


def validate(
    cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>"),
) -> None:
    """Check cluster.yaml (schema and semantics), that Flux's age key cannot open the machine secrets, and the
    Flux tree the cluster enables (dependencies, chart values, manifests, ${vars}); every problem is reported as
    file:line:col: field: message."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        loaded = load_cluster(DirSource(root), name, decrypt=None)
        findings = repository_findings(root, name)
        if findings:
            raise SpecInvalid([f.problem() for f in findings])
        c = loaded.cluster
        flux_problems = platform_findings(root, name, cluster_settings(c), c.kubernetes.version, c.network.vip_owner)
        if flux_problems:
            raise SpecInvalid(flux_problems)
    for warning in loaded.warnings:
        err_console.print(str(warning), markup=False, highlight=False)
    console.print(
        f"[green]ok[/] {loaded.spec_file}: cluster {c.name}, {len(c.controllers)} controllers, "
        f"{len(c.workers)} workers, Talos {c.talos.version}, Kubernetes {c.kubernetes.version}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(validate)

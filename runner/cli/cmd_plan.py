from __future__ import annotations

import enum
from pathlib import Path

import typer

from runner.cli.common import cluster_location, errors_as_exit, print_plan
from runner.core.derive import derive
from runner.core.planner import plan as make_plan
from runner.core.render import render_json, render_markdown
from runner.core.state import Observed
from runner.engine.reconcile.load import flux_release_of, load_cluster
from runner.engine.reconcile.local import plan_live
from runner.engine.reconcile.source import DirSource


class Format(enum.StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def plan(
    cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>"),
    offline: bool = typer.Option(False, "--offline", help="Plan against an empty observed state (no API calls)"),
    output: Format = typer.Option(Format.text, "--output", "-o", help="text, markdown or json"),
) -> None:
    """Show what the runner would change."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        if not offline:
            result = plan_live(root, name)
        else:
            loaded = load_cluster(DirSource(root), name, decrypt=None)
            result = make_plan(derive(loaded.cluster, flux_version=flux_release_of(loaded.cluster)), Observed())
    if output is Format.json:
        print(render_json(result))
    elif output is Format.markdown:
        print(render_markdown(result))
    else:
        print_plan(result)


def register(app: typer.Typer) -> None:
    app.command()(plan)

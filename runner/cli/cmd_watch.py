"""`runner watch`: re-plan a working copy on every save (offline by default, `--live` against the real systems)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from runner.cli.common import cluster_location, console, print_plan
from runner.engine.commands.watch import ClusterWatch, Planner, Replan, offline_planner
from runner.engine.reconcile.local import plan_live


def watch(
    cluster_dir: Annotated[Path, typer.Argument(help="The cluster directory, clusters/<name>")] = Path("clusters/home"),
    debounce: Annotated[
        float, typer.Option("--debounce", min=0.0, help="Seconds of quiet after a save before re-planning")
    ] = 0.3,
    live: Annotated[
        bool, typer.Option("--live", help="Plan against the real systems (needs secrets) instead of offline")
    ] = False,
) -> None:
    """Re-validate and re-plan on every save of the cluster's files; Ctrl-C stops."""
    root, name = cluster_location(cluster_dir)
    planner: Planner = plan_live if live else offline_planner()
    mode = "live" if live else "offline, against an empty observed state"
    console.print(f"watching clusters/{name} ({mode}); Ctrl-C stops", highlight=False, markup=False)
    forever = threading.Event()
    try:
        with ClusterWatch(root, name, planner, _show, debounce=debounce):
            while not forever.wait(1.0):  # a timed wait keeps Ctrl-C prompt on every platform
                pass
    except KeyboardInterrupt:
        console.print("stopped watching", highlight=False, markup=False)
    raise typer.Exit(0)


def _show(replan: Replan) -> None:
    when = time.strftime("%H:%M:%S")
    why = "start" if not replan.changed else f"saved {', '.join(replan.changed)}"
    console.rule(f"plan {replan.number} · {when} · {why}", style="dim")
    if replan.plan is not None:
        print_plan(replan.plan)
    else:
        for line in replan.problems:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        n = len(replan.problems)
        console.print(f"{n} problem{'s' if n != 1 else ''}; still watching", highlight=False, markup=False)
    console.file.flush()


def register(app: typer.Typer) -> None:
    app.command()(watch)

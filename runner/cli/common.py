"""Shared CLI plumbing: locating a cluster directory, turning runner errors into clean exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console

from runner.core.errors import Permanent, RunnerError, SpecInvalid, Transient
from runner.core.render.terminal import render_terminal
from runner.core.steps import Plan

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


def cluster_location(cluster_dir: Path) -> tuple[Path, str]:
    """(repository root, cluster name) for a path like clusters/home."""
    cluster_dir = cluster_dir.resolve() if not cluster_dir.is_absolute() else cluster_dir
    if cluster_dir.parent.name != "clusters":
        raise typer.BadParameter(f"{cluster_dir} is not a clusters/<name> directory")
    if not cluster_dir.is_dir():
        raise typer.BadParameter(f"{cluster_dir} does not exist")
    return cluster_dir.parent.parent, cluster_dir.name


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Every runner error ends the command with its message and exit code 1, never a traceback."""
    try:
        yield
    except SpecInvalid as exc:
        for problem in exc.problems:
            err_console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        n = len(exc.errors)
        err_console.print(f"[red]{n} error{'s' if n != 1 else ''}[/]; nothing was changed", highlight=False)
        raise typer.Exit(1) from None
    except (Permanent, Transient, RunnerError) as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None


def print_plan(plan: Plan) -> None:
    """A plan as the terminal shows it: boxes sized to the console, colour only on a real terminal."""
    console.print(
        render_terminal(plan, width=console.width, color=console.is_terminal), end="", markup=False, highlight=False
    )

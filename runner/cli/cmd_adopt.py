from __future__ import annotations

import enum
import json
from pathlib import Path

import typer

from runner.cli.common import cluster_location, console, errors_as_exit
from runner.core.adoption import render_markdown, render_text


class Format(enum.StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def adopt(
    cluster_dir: Path = typer.Argument(Path("clusters/home"), help="The cluster directory, clusters/<name>"),
    output: Format = typer.Option(Format.text, "--output", "-o", help="text, markdown or json"),
    apply: bool = typer.Option(False, "--apply", help="Tag the VMs and record the cluster (needs --confirm)"),
    confirm: str = typer.Option("", "--confirm", help="The digest of the report you read"),
) -> None:
    """Report how a running cluster differs from the spec (read-only); with --apply, take it over."""
    from runner.engine.commands.adopt import adopt_apply, adoption_report

    root, name = cluster_location(cluster_dir)
    if apply and not confirm:
        raise typer.BadParameter("--apply needs --confirm <digest> (printed by `runner adopt`)")
    with errors_as_exit():
        report = adopt_apply(root, name, confirm) if apply else adoption_report(root, name)
    if output is Format.json:
        print(json.dumps(report.as_json(), indent=2, sort_keys=True))
    elif output is Format.markdown:
        print(render_markdown(report), end="")
    else:
        print(render_text(report), end="")
    if apply:
        console.print(f"adopted {name}: VMs tagged, bootstrap and endpoint {report.endpoint} recorded")
    raise typer.Exit(0 if report.adoptable else 1)


def register(app: typer.Typer) -> None:
    app.command()(adopt)

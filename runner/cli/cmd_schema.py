from __future__ import annotations

from pathlib import Path

import typer

from runner.cli.common import console
from runner.core.schema import SCHEMA_PATH, cluster_schema_text


def schema(
    write: bool = typer.Option(False, "--write", help=f"Write {SCHEMA_PATH} instead of printing it"),
    root: Path = typer.Option(Path("."), help="Repository root"),
) -> None:
    """Print (or write) the JSON Schema of cluster.yaml that editors use via the yaml-language-server modeline."""
    text = cluster_schema_text()
    if write:
        (root / SCHEMA_PATH).write_text(text)
        console.print(f"wrote {SCHEMA_PATH}")
    else:
        print(text, end="")


def register(app: typer.Typer) -> None:
    app.command()(schema)

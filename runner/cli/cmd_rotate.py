"""`runner rotate flux-key clusters/<name>`: a new Flux age key, written into the working copy to commit."""

from __future__ import annotations

from pathlib import Path

import typer

from runner.cli.common import cluster_location, console, errors_as_exit
from runner.engine.commands.rotate import rotate_flux_key

rotate_app = typer.Typer(help="Rotate keys: the cluster's Flux key (the operator's own key: see the README).")


@rotate_app.command("flux-key")
def flux_key(
    cluster_dir: Path = typer.Argument(..., help="The cluster directory, clusters/<name>"),
    age_key_file: Path | None = typer.Option(
        None, help="The runner's (operator's) age key (default: SOPS_AGE_KEY_FILE or sops' default path)"
    ),
) -> None:
    """New Flux key: flux/**.sops.yaml re-encrypted to it (sops updatekeys + rotate), .sops.yaml and
    cluster.yaml name its public half, the secrets file holds its private half. Commit and push; the runner
    then replaces the cluster's sops-age Secret and waits for Flux to be Ready again."""
    root, name = cluster_location(cluster_dir)
    with errors_as_exit():
        result = rotate_flux_key(root, name, key_file=age_key_file)
    old = result.old_recipient or "none"
    console.print(f"Flux key of {name}: {old} -> [bold]{result.new_recipient}[/]", highlight=False)
    for rel in result.changed:
        console.print(f"  changed {rel}", highlight=False)
    console.print(
        "review, then: git commit -am 'Rotate the Flux key' && git push\n"
        "the runner replaces the sops-age Secret once the commit lands; old revisions in git history still open "
        "with the old key, so rotate at their source any value that key may have exposed",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(rotate_app, name="rotate")

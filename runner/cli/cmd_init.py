from __future__ import annotations

import os
from pathlib import Path

import typer

from runner.cli.common import console, errors_as_exit
from runner.core.secret import Secret
from runner.engine.commands.init import PLACEHOLDER, init_cluster


def init(
    cluster_dir: Path = typer.Argument(..., help="The cluster directory to create secrets for, clusters/<name>"),
    talos_secrets: Path | None = typer.Option(
        None,
        help=(
            "Import the cluster's secrets instead of generating: a `talosctl gen secrets` file, Terraform's "
            "talos_machine_secrets (machine_secrets object or `terraform output -json`) or a controlplane config"
        ),
    ),
    age_key_file: Path | None = typer.Option(
        None, help="The runner's age key, which opens the secrets (default: SOPS_AGE_KEY_FILE or sops' default path)"
    ),
    flux_age_key_file: Path | None = typer.Option(
        None, help="Use this age key as the cluster's Flux key instead of creating one (never the runner's key)"
    ),
    proxmox_token_id: str | None = typer.Option(None, help="Proxmox API token id, user@realm!tokenid"),
) -> None:
    """Create the cluster's encrypted secrets file: Talos secrets bundle, Proxmox token, headscale key and
    the cluster's Flux key (a second age key: Flux gets it, never the runner's own).

    Secret values are taken from RUNNER_INIT_PROXMOX_TOKEN_SECRET and RUNNER_INIT_TAILSCALE_AUTH_KEY when set
    (never from flags, which end up in shell history); otherwise placeholders to fill in with `sops <file>`.
    """
    cluster_dir = cluster_dir.resolve()
    if cluster_dir.parent.name != "clusters":
        raise typer.BadParameter(f"{cluster_dir} is not a clusters/<name> directory")
    token = os.environ.get("RUNNER_INIT_PROXMOX_TOKEN_SECRET")
    ts_key = os.environ.get("RUNNER_INIT_TAILSCALE_AUTH_KEY")
    with errors_as_exit():
        result = init_cluster(
            cluster_dir.parent.parent,
            cluster_dir.name,
            key_file=age_key_file,
            flux_key_file=flux_age_key_file,
            talos_secrets=talos_secrets,
            proxmox_token_id=proxmox_token_id,
            proxmox_token_secret=Secret(token) if token else None,
            tailscale_auth_key=Secret(ts_key) if ts_key else None,
        )
    if result.key_created:
        console.print(f"created age key {result.key.path} (public {result.key.public}); back it up", highlight=False)
    if result.sops_config_created:
        console.print("wrote .sops.yaml with a creation rule for clusters/*/secrets.sops.yaml", highlight=False)
    console.print(
        f"Flux key {result.flux_recipient}: its private half is flux.ageKey in the secrets file (the runner "
        "hands it to Flux as the sops-age Secret); flux/**.sops.yaml are encrypted to it",
        highlight=False,
    )
    if not result.flux_recipient_in_spec:
        console.print(
            f"add under flux: in {cluster_dir / 'cluster.yaml'}:  ageRecipient: {result.flux_recipient}",
            highlight=False,
        )
    what = "imported" if result.imported_bundle else "generated"
    console.print(f"[green]wrote[/] {result.secrets_file} (Talos secrets bundle {what}, encrypted)", highlight=False)
    if not token or not ts_key:
        console.print(f"fill in the {PLACEHOLDER} values with: sops {result.secrets_file}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(init)

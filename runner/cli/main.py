"""`runner` command line: thin wrappers that parse, call the engine, render."""

from __future__ import annotations

import typer

from runner.cli import (
    cmd_access,
    cmd_adopt,
    cmd_apply,
    cmd_backup,
    cmd_doctor,
    cmd_init,
    cmd_lab,
    cmd_plan,
    cmd_restore,
    cmd_rotate,
    cmd_schema,
    cmd_serve,
    cmd_validate,
    cmd_watch,
)

app = typer.Typer(
    name="runner",
    help="GitOps runner for Proxmox + Talos Kubernetes clusters.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (
    cmd_init,
    cmd_validate,
    cmd_doctor,
    cmd_plan,
    cmd_apply,
    cmd_serve,
    cmd_lab,
    cmd_access,
    cmd_schema,
    cmd_watch,
    cmd_rotate,
    cmd_backup,
    cmd_restore,
    cmd_adopt,
):
    module.register(app)


if __name__ == "__main__":
    app()

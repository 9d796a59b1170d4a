"""The checks `runner doctor` runs, in the order their rows are shown.

Adding a check: write `def my_check(ctx: DoctorContext) -> list[Row]` in the module of its group (or a
new module here) and add it to CHECKS below.
"""

from __future__ import annotations

from runner.engine.commands.doctor import csi, factory, forge, proxmox, secrets, service, talosctl
from runner.engine.commands.doctor.model import Check

CHECKS: tuple[Check, ...] = (
    secrets.age_key,
    secrets.key_separation,
    proxmox.pve_version,
    proxmox.token_privileges,
    proxmox.image_storage,
    proxmox.bridge,
    proxmox.vmids,
    csi.csi_token,
    factory.image_factory,
    talosctl.talosctl_version,
    forge.forge_token,
    service.webhook_secret,
)

"""Which talosctl release the twin's talosctl imitates: the shim names it (TALOSCTL_TWIN_VERSION), v1.11.2
when it does not. What differs between releases lives here.

`upgrade` (siderolabs/talos cmd/talosctl/cmd/talos/upgrade.go):
- v1.11.6 / v1.12.11: `--preserve` hidden but accepted; no `--drain`.
- v1.13.9: `--drain` (default true) cordons and evicts client-side and forces `--wait`; `--drain-timeout`
  (nodedrain.DefaultDrainTimeout, 5m), `--no-reboot` (turns drain off), `--legacy`, `--progress`,
  `--namespace`; `--force`, `--insecure`, `--preserve`, `--stage` are deprecated (cobra prints a line on
  stderr when one is set). Against a node outside `>1.13.0-alpha.2 <2.0.0` it falls back to the legacy
  MachineService.Upgrade, and drains nothing.
"""

from __future__ import annotations

import os

from runner.lab.talos.flags import Flag

VERSION_ENV = "TALOSCTL_TWIN_VERSION"
DEFAULT = "v1.11.2"
DEPRECATED_UPGRADE_FLAGS = ("force", "insecure", "preserve", "stage")
DEPRECATION = "legacy flag for MachineService.Upgrade fallback, to be removed in Talos 1.18"


def client_tag() -> str:
    return os.environ.get(VERSION_ENV) or DEFAULT


def minor(tag: str) -> tuple[int, int]:
    major, minor_, *_ = tag.lstrip("v").split("-")[0].split(".")
    return int(major), int(minor_)


def streams_upgrades(tag: str) -> bool:
    """talosctl v1.13 and later: the LifecycleService upgrade with a client-side drain."""
    return minor(tag) >= (1, 13)


def new_upgrade_api(node_version: str) -> bool:
    """talosUpgradeAPIVersionRange `>1.13.0-alpha.2 <2.0.0`: nodes that serve LifecycleService.Upgrade."""
    return minor(node_version) >= (1, 13)


def upgrade_flags(tag: str, track: list[Flag]) -> list[Flag]:
    common = [
        *track,
        Flag("force", "bool", False, "f"),
        Flag("image", "string", f"ghcr.io/siderolabs/installer:{tag}", "i"),
        Flag("insecure", "bool", False),
        Flag("reboot-mode", "string", "default", "m"),
        Flag("stage", "bool", False, "s"),
        Flag("preserve", "bool", False, "p"),  # hidden in v1.11 and v1.12, still accepted
    ]
    if not streams_upgrades(tag):
        return common
    return [
        *common,
        Flag("drain", "bool", True),
        Flag("drain-timeout", "duration", 300.0),
        Flag("no-reboot", "bool", False),
        Flag("legacy", "bool", False),
        Flag("progress", "string", "auto"),
        Flag("namespace", "string", "system"),
    ]

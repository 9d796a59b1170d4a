"""`talosctl` for the lab: the command line of one talosctl release (v1.11 unless the shim names another,
see client_release), answered by the node twins.

Run as `python -m runner.lab.talos.talosctl ...` with TALOS_TWIN_URL pointing at the control server
(`install_talosctl_shim` writes a `talosctl` executable that does exactly that).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from runner.lab.talos import actions
from runner.lab.talos.client import CallFailed
from runner.lab.talos.client_release import DEPRECATED_UPGRADE_FLAGS, DEPRECATION, client_tag, streams_upgrades
from runner.lab.talos.commands import GLOBAL_FLAGS, NOT_SIMULATED, command_tree
from runner.lab.talos.flags import Command, Parsed, UsageError, parse

ACTIONS: dict[str, Callable[[Parsed], None]] = {
    "apply-config": actions.apply_config,
    "bootstrap": actions.bootstrap,
    "version": actions.version,
    "get": actions.get,
    "etcd": actions.etcd,
    "kubeconfig": actions.kubeconfig,
    "upgrade": actions.upgrade,
    "reboot": actions.reboot,
    "reset": actions.reset,
    "health": actions.health,
    "service": actions.service,
}


def usage(path: list[str], cmd: Command) -> str:
    lines = ["Usage:", f"  {' '.join(['talosctl', *path])} [flags]"]
    if cmd.children:
        lines += ["", "Available Commands:", *[f"  {name}" for name in sorted(cmd.children)]]
    lines += [
        "",
        "Flags:",
        *[f"  {f.label}" for f in cmd.flags],
        "",
        "Global Flags:",
        *[f"  {f.label}" for f in GLOBAL_FLAGS],
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tag = client_tag()
    root = command_tree(tag)
    try:
        parsed = parse(root, argv, GLOBAL_FLAGS)
    except UsageError as e:
        # cobra's SilenceErrors root: talosctl prints the error, then usage for flag/arg/command errors.
        print(str(e), file=sys.stderr)
        print(file=sys.stderr)
        print(usage([], root), file=sys.stderr)
        return 1
    if parsed.values.get("help") or not parsed.command.runnable:
        print(usage(parsed.path, parsed.command))
        return 0
    name = parsed.path[0]
    if name == "upgrade" and streams_upgrades(tag):
        for flag in DEPRECATED_UPGRADE_FLAGS:
            if flag in parsed.explicit:  # cobra's MarkDeprecated notice
                print(f"Flag --{flag} has been deprecated, {DEPRECATION}", file=sys.stderr)
    if name in NOT_SIMULATED:
        print(f"talosctl {name} is not simulated by the node twins", file=sys.stderr)
        return 1
    try:
        ACTIONS[name](parsed)
    except CallFailed as e:
        print(e.text, file=sys.stderr)  # cobra's root prints err.Error() with Fprintln
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

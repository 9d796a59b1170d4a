"""The talosctl v1.11 command tree (names, flags, defaults, arg counts) the twin accepts.

Taken from the v1.11 CLI reference and the cobra definitions in cmd/talosctl at tag v1.11.2.
Commands listed in `NOT_SIMULATED` exist in real talosctl; the twin knows them (so they are not
"unknown command") but answers that it does not simulate them.
"""

from __future__ import annotations

from runner.lab.talos.client_release import DEFAULT, upgrade_flags
from runner.lab.talos.flags import Command, Flag

GLOBAL_FLAGS = [
    Flag("talosconfig", "string", ""),
    Flag("nodes", "strings", [], "n"),
    Flag("endpoints", "strings", [], "e"),
    Flag("cluster", "string", ""),
    Flag("context", "string", ""),
    Flag("siderov1-keys-dir", "string", ""),
    Flag("help", "bool", False, "h"),
]

MINUTE = 60.0
_track = [
    Flag("debug", "bool", False),
    Flag("timeout", "duration", 30 * MINUTE),
    Flag("wait", "bool", True),
]
APPLY_MODES = ("auto", "interactive", "no-reboot", "reboot", "staged", "try")

SIMULATED = [
    Command(
        "apply-config",
        [
            Flag("cert-fingerprint", "strings", []),
            Flag("config-patch", "array", [], "p"),
            Flag("dry-run", "bool", False),
            Flag("file", "string", "", "f"),
            Flag("insecure", "bool", False, "i"),
            Flag("mode", "enum", "auto", "m", APPLY_MODES),
            Flag("timeout", "duration", 1 * MINUTE),
        ],
        args=(0, 1),
        aliases=("apply",),
    ),
    Command("bootstrap", [Flag("recover-from", "string", ""), Flag("recover-skip-hash-check", "bool", False)]),
    Command(
        "health",
        [
            Flag("control-plane-nodes", "strings", []),
            Flag("init-node", "string", ""),
            Flag("k8s-endpoint", "string", ""),
            Flag("run-e2e", "bool", False),
            Flag("server", "bool", True),
            Flag("wait-timeout", "duration", 20 * MINUTE),
            Flag("worker-nodes", "strings", []),
        ],
    ),
    Command(
        "kubeconfig",
        [Flag("force", "bool", False, "f"), Flag("force-context-name", "string", ""), Flag("merge", "bool", True, "m")],
        args=(0, 1),
    ),
    Command(
        "version",
        [
            Flag("client", "bool", False),
            Flag("insecure", "bool", False, "i"),
            Flag("short", "bool", False),
            Flag("json", "bool", False),
        ],
    ),
    Command(
        "get",
        [
            Flag("insecure", "bool", False, "i"),
            Flag("namespace", "string", ""),
            Flag("output", "string", "table", "o"),
            Flag("watch", "bool", False, "w"),
        ],
        args=(1, 2),
    ),
    Command(
        "etcd",
        runnable=False,
        children={
            "members": Command("members"),
            "leave": Command("leave"),
            "remove-member": Command("remove-member", args=(1, 1)),
            "snapshot": Command("snapshot", args=(1, 1)),
        },
    ),
    Command("upgrade", upgrade_flags(DEFAULT, _track)),  # replaced per release by command_tree
    Command("reboot", [*_track, Flag("mode", "string", "default", "m")]),
    Command("service", args=(0, 2)),
    Command(
        "reset",
        [
            *_track,
            Flag("graceful", "bool", True),
            Flag("insecure", "bool", False),
            Flag("reboot", "bool", False),
            Flag("system-labels-to-wipe", "strings", []),
            Flag("user-disks-to-wipe", "strings", []),
            Flag("wipe-mode", "enum", "all", None, ("all", "system-disk", "user-disks")),
        ],
    ),
]

NOT_SIMULATED = [
    "cgroups",
    "cluster",
    "completion",
    "config",
    "conformance",
    "containers",
    "copy",
    "dashboard",
    "dmesg",
    "edit",
    "events",
    "gen",
    "image",
    "inject",
    "inspect",
    "list",
    "logs",
    "machineconfig",
    "memory",
    "meta",
    "mounts",
    "netstat",
    "patch",
    "pcap",
    "processes",
    "read",
    "restart",
    "rollback",
    "rotate-ca",
    "shutdown",
    "stats",
    "support",
    "time",
    "upgrade-k8s",
    "usage",
    "validate",
    "wipe",
]


def command_tree(tag: str = DEFAULT) -> Command:
    """The tree of the talosctl release `tag` (client_release says where releases differ)."""
    root = Command("talosctl", runnable=False)
    for cmd in SIMULATED:
        root.children[cmd.name] = Command("upgrade", upgrade_flags(tag, _track)) if cmd.name == "upgrade" else cmd
    for name in NOT_SIMULATED:
        root.children[name] = Command(name, args=(0, None))
    return root

"""Which talosctl drives which Talos nodes, and which of several to use for a cluster whose nodes run
different minors (during an upgrade across minors).

The rule: a talosctl of minor N drives nodes of minor N and N-1. Sidero's install guide says talosctl should
match the Talos the nodes run (docs.siderolabs.com, talos/v1.13 "talosctl"); each talosctl keeps the calls of
the previous minor working, e.g. talosctl v1.13's `upgrade` falls back to the legacy MachineService.Upgrade
for nodes older than 1.13 (siderolabs/talos cmd/talosctl/cmd/talos/upgrade.go@v1.13.9,
talosUpgradeAPIVersionRange). Newer nodes than the client are not driven: their API and config documents
are the client's future. So during a move from N-1 to N, talosctl N drives every node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Minor = tuple[int, int]


def drives(client: Minor, node: Minor) -> bool:
    return node[0] == client[0] and client[1] - 1 <= node[1] <= client[1]


def driven_text(client: Minor) -> str:
    return f"Talos v{client[0]}.{client[1] - 1} and v{client[0]}.{client[1]}"


def choose_talosctl(clients: Iterable[Minor], nodes: Iterable[Minor]) -> Minor | None:
    """The newest client that drives every node minor; None when none does."""
    wanted = set(nodes)
    fitting = [c for c in clients if all(drives(c, n) for n in wanted)]
    return max(fitting) if fitting else None


def parse_minor_key(key: str) -> Minor:
    """`1.12` or `v1.12` (a settings key) -> (1, 12); ValueError otherwise."""
    parts = key.strip().lstrip("v").split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{key!r} is not a Talos minor like 1.12")
    return int(parts[0]), int(parts[1])


def no_talosctl_message(clients: Mapping[Minor, str], nodes: Iterable[Minor]) -> str:
    minors = ", ".join(f"v{a}.{b}" for a, b in sorted(set(nodes)))
    have = ", ".join(f"v{a}.{b}" for a, b in sorted(clients)) or "none"
    return (
        f"no configured talosctl drives every node (nodes run Talos {minors}; talosctl_paths has {have}; "
        "a talosctl drives its own minor and the one before): add one to talosctl_paths"
    )

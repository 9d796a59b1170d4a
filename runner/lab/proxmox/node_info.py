"""Read-only node views: /access/permissions, /nodes/{node}/network and /nodes/{node}/storage.

- /access/permissions (pve-access-control API2/AccessControl.pm `permissions`): with `path`, exactly
  `{path: {privilege: propagate}}` of the caller (or of a token it owns); without, every ACL path and
  the top-level ones, leaving out paths without privileges.
- /nodes/{node}/network (pve-manager API2/Network.pm `index`): user=all; interfaces of the node, `type`
  filters (`bridge`, `any_bridge`).
- /nodes/{node}/storage (pve-storage API2/Storage/Status.pm `index`): only storages the caller has
  Datastore.Audit or Datastore.AllocateSpace on; `content` as a comma list.
"""

from __future__ import annotations

from typing import Any

from runner.lab.proxmox.access import normalize_path
from runner.lab.proxmox.state import GIB, ProxmoxTwinState

Params = dict[str, Any]
TOP_LEVEL = ("/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms")


def permissions(state: ProxmoxTwinState, params: Params, user: str) -> dict[str, dict[str, int]]:
    who = str(params.get("userid") or user)
    if who != user and who.partition("!")[0] != user:
        state.access.check(user, "/access", ["Sys.Audit"])
    if path := params.get("path"):
        held = state.access.permissions(who, normalize_path(str(path)))
        return {str(path): {p: int(prop) for p, prop in sorted(held.items())}}
    found: dict[str, dict[str, int]] = {}
    for acl_path in sorted({*TOP_LEVEL, *state.access.acl}):
        if held := state.access.permissions(who, acl_path):
            found[acl_path] = {p: int(prop) for p, prop in sorted(held.items())}
    return found


def network(state: ProxmoxTwinState, params: Params, user: str) -> list[dict[str, Any]]:
    kind = params.get("type")
    rows: list[dict[str, Any]] = []
    if kind in (None, "eth"):
        rows.append({"iface": "eno1", "type": "eth", "active": 1, "exists": 1, "method": "manual", "priority": 1})
    if kind in (None, "bridge", "any_bridge", "any_local_bridge"):
        for i, bridge in enumerate(sorted(state.bridges)):
            rows.append(
                {
                    "iface": bridge,
                    "type": "bridge",
                    "active": 1,
                    "autostart": 1,
                    "bridge_ports": "eno1" if i == 0 else "",
                    "bridge_stp": "off",
                    "bridge_fd": "0",
                    "method": "static" if i == 0 else "manual",
                    "families": ["inet"],
                    "priority": 2 + i,
                }
            )
    return rows


def node_storages(state: ProxmoxTwinState, params: Params, user: str) -> list[dict[str, Any]]:
    wanted, content = params.get("storage"), params.get("content")
    rows = []
    for name in sorted(state.storages):
        storage = state.storages[name]
        if wanted and name != wanted:
            continue
        if content and not set(str(content).split(",")) & storage.content:
            continue
        if not state.access.has(user, f"/storage/{name}", ["Datastore.Audit", "Datastore.AllocateSpace"], any_=True):
            continue
        rows.append(
            {
                "storage": name,
                "type": storage.type,
                "content": ",".join(sorted(storage.content)),
                "active": 1,
                "enabled": 1,
                "shared": 0,
                "total": 512 * GIB,
                "used": 16 * GIB,
                "avail": 496 * GIB,
                "used_fraction": 0.03125,
            }
        )
    return rows

"""Before an apply changes anything: does the Proxmox token hold every privilege the plan may use?

The same check as `runner doctor`'s "token privileges", run once per process for a given target (URL,
token, paths): GET /version (the privileges asked for are that release's) and a handful of
GET /access/permissions calls the first time, nothing after. A failure is not
remembered, so the next run asks again once the operator has granted the privilege.
"""

from __future__ import annotations

import threading

from runner.core.errors import Permanent
from runner.core.spec import Cluster
from runner.drivers.proxmox.api import ProxmoxInspect
from runner.drivers.proxmox.privileges import Need, needs, release_of

_passed: set[tuple[object, ...]] = set()
_lock = threading.Lock()


def missing_privileges(inspect: ProxmoxInspect, wanted: list[Need]) -> list[Need]:
    """The needs the token's effective privileges (user ∩ token) do not cover; one call per distinct path."""
    held: dict[str, dict[str, bool]] = {}

    def on(path: str) -> dict[str, bool]:
        if path not in held:
            held[path] = inspect.permissions(path)
        return held[path]

    missing = []
    for need in wanted:
        if need.privilege in on(need.path):
            continue
        if need.instead and all(p in on(need.instead[0]) for p in need.instead[1]):
            continue
        missing.append(need)
    return missing


class MissingPrivileges(Permanent):
    pass


def check_privileges(inspect: ProxmoxInspect, cluster: Cluster, url: str, token_id: str) -> None:
    spec = cluster.proxmox
    vmids = [n.vmid for n in cluster.nodes]
    key = (url, token_id, spec.node, spec.storage, spec.image_storage, spec.bridge, tuple(vmids))
    with _lock:
        if key in _passed:
            return
    version = inspect.version()
    try:
        release = release_of(version)
    except ValueError as exc:
        raise MissingPrivileges(f"refusing to apply: the Proxmox API answered {exc} - nothing was changed") from exc
    wanted = needs(spec.node, spec.storage, spec.image_storage, spec.bridge, vmids, release)
    missing = missing_privileges(inspect, wanted)
    if missing:
        listed = "; ".join(f"{n.privilege} on {n.path} (to {n.why})" for n in missing)
        raise MissingPrivileges(
            f"refusing to apply: the Proxmox token {token_id} lacks {listed} on PVE {version} - nothing was "
            "changed; grant them "
            "(README: Prepare your Proxmox host) or run `runner doctor` for every check"
        )
    with _lock:
        _passed.add(key)


def forget() -> None:
    """Drop what passed (tests that change a token's privileges between runs in one process)."""
    with _lock:
        _passed.clear()

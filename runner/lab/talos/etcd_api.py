"""etcd-related calls of the secure machine API: bootstrap, members, leave, remove-member."""

from __future__ import annotations

from typing import Any

from runner.lab.talos import etcd_snapshot, rpc
from runner.lab.talos.lab import TalosLab
from runner.lab.talos.node import SimNode


def controlplane_only(node: SimNode, api: str) -> None:
    if not node.is_controlplane:
        raise rpc.RpcError("Unimplemented", f"{api} is only available on control plane nodes")


def bootstrap(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    """machined's Bootstrap (v1alpha1_server.go): refused only once etcd wrote its data directory. Until etcd
    runs (Preparing), a second call passes that check and restarts etcd in bootstrap mode (BootstrapEtcd)."""
    lab.bootstrap_calls.append(node.ip)
    if node.config is None or node.config.machine_type == "worker":
        raise rpc.RpcError("FailedPrecondition", "bootstrap can only be performed on a control plane node")
    if node.etcd_data:
        raise rpc.RpcError("AlreadyExists", "etcd data directory is not empty")
    if p.get("recover_data"):
        etcd_snapshot.recover(lab, node, p)
    lab.start_bootstrap(node)
    return {}


def members(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    controlplane_only(node, "member list")
    if not lab.etcd_started(node):
        raise rpc.RpcError("Unknown", "context deadline exceeded")  # the local etcd is not serving yet
    assert node.config is not None
    members = sorted(lab.members(node.config.cluster_id).values(), key=lambda m: m.ip)
    return {
        "members": [
            {"id": f"{m.id:016x}", "hostname": m.hostname, "peer_urls": m.peer_urls, "client_urls": m.client_urls}
            for m in members
        ]
    }


def leave(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    controlplane_only(node, "etcd leave")
    member = lab.member_of(node)
    assert node.config is not None
    if member is None or node.etcd_stopped:
        raise rpc.RpcError("Unknown", "failed to create etcd client: context deadline exceeded")
    members = lab.members(node.config.cluster_id)
    if len(members) == 1:
        raise rpc.RpcError(
            "Unknown", "failed to leave cluster: etcdserver: re-configuration failed due to not enough started members"
        )
    del members[member.id]
    node.etcd_data, node.etcd_stopped = False, True
    return {}


def remove_member(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    controlplane_only(node, "etcd remove member")
    assert node.config is not None
    members = lab.members(node.config.cluster_id)
    member = members.pop(int(p["member_id"], 16), None)
    if member is None:
        raise rpc.RpcError("NotFound", "etcdserver: member not found")
    removed = lab.nodes.get(member.ip)
    if removed is not None:
        removed.etcd_stopped = True
    return {}


def service(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    """`talosctl service etcd`: state and health as machined reports them (health "?" until first checked)."""
    if p.get("id") != "etcd" or not node.is_controlplane:
        return {"services": []}
    if lab.member_of(node) is None or node.etcd_stopped:
        state, health = "Preparing", "?"
    elif not lab.etcd_started(node):
        state, health = "Running", "?"
    else:
        state, health = "Running", "OK" if lab.etcd_healthy(node) else "Fail"
    return {"services": [{"id": "etcd", "state": state, "health": health}]}


def check_upgrade(lab: TalosLab, node: SimNode) -> None:
    """Talos' own check before upgrading a controller (etcd ValidateForUpgrade): every member healthy.

    This is Talos protecting itself on `upgrade` only; a reboot or a config that reboots is not checked,
    so keeping quorum across those is the caller's job.
    """
    member = lab.member_of(node)
    if member is not None:
        assert node.config is not None
        for other in lab.members(node.config.cluster_id).values():
            peer = lab.nodes.get(other.ip)
            if other.ip != node.ip and (peer is None or not lab.etcd_healthy(peer)):
                raise rpc.RpcError(
                    "Unknown",
                    f"error validating etcd for upgrade: etcd member {other.id:016x} is not healthy; "
                    "all members must be healthy to perform an upgrade: context deadline exceeded",
                )

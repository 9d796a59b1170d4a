"""etcd snapshots and recovery on the node twins: `etcd snapshot`, `bootstrap --recover-from`, EPHEMERAL wipes.

In the lab, etcd's data is the Kubernetes twin's object store plus the membership the Talos lab keeps. The
world hands the lab an `EtcdStore` (plain callbacks: dump, load, clear) so a snapshot really contains the
cluster's objects and a recovery really brings them back; the twin itself knows nothing of Kubernetes.

The file has etcd's shape where the client looks at it: the payload padded to 512-byte blocks, then the
sha256 of everything before it (talosctl refuses a download whose size % 512 != 32, and bootstrap
--recover-from checks the hash unless --recover-skip-hash-check).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runner.lab.talos import rpc
from runner.lab.talos.lab import TalosLab
from runner.lab.talos.node import SimNode

FORMAT = "lab-etcd-snapshot/1"
BLOCK = 512


@dataclass(frozen=True)
class EtcdStore:
    dump: Callable[[], dict[str, Any]]  # the keyspace as plain data
    load: Callable[[dict[str, Any]], None]  # replace the keyspace with a dump
    clear: Callable[[], None]  # the data is gone (every member's data directory wiped)


def encode(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, sort_keys=True).encode()
    body += b" " * (-len(body) % BLOCK)
    return body + hashlib.sha256(body).digest()


def decode(data: bytes, skip_hash_check: bool) -> dict[str, Any]:
    body, digest = data[:-32], data[-32:]
    if len(data) % BLOCK != 32 or (not skip_hash_check and hashlib.sha256(body).digest() != digest):
        raise rpc.RpcError("Unknown", "failed to recover etcd from snapshot: snapshot file integrity check failed")
    try:
        payload = json.loads(body)
    except ValueError as e:
        raise rpc.RpcError("Unknown", "failed to recover etcd from snapshot: invalid database") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise rpc.RpcError("Unknown", "failed to recover etcd from snapshot: invalid database")
    return payload


def _healthy_member(lab: TalosLab, node: SimNode) -> str:
    if not node.is_controlplane:
        raise rpc.RpcError("Unimplemented", "etcd snapshot is only available on control plane nodes")
    if lab.member_of(node) is None or node.etcd_stopped or node.faults.etcd_snapshot_fails:
        raise rpc.RpcError("Unknown", "failed to create etcd client: context deadline exceeded")
    assert node.config is not None
    return node.config.cluster_id


def snapshot(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    """machine.EtcdSnapshot: the whole keyspace, as any healthy member holds all of it."""
    cluster_id = _healthy_member(lab, node)
    store = lab.etcd_store
    objects = store.dump() if store is not None else {}
    members = sorted(m.hostname for m in lab.members(cluster_id).values())
    payload = {"format": FORMAT, "cluster_id": cluster_id, "members": members, "keyspace": objects}
    return {"data": base64.b64encode(encode(payload)).decode()}


def recover(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> None:
    """bootstrap with recover_etcd: the data directory is restored from the uploaded snapshot."""
    payload = decode(base64.b64decode(p["recover_data"]), bool(p.get("recover_skip_hash_check")))
    assert node.config is not None
    if payload["cluster_id"] != node.config.cluster_id:
        # A snapshot of another cluster would restore fine in etcd; the lab keeps one store, so refuse loudly.
        raise rpc.RpcError("FailedPrecondition", "the snapshot belongs to another cluster")
    if lab.etcd_store is not None:
        lab.etcd_store.load(payload["keyspace"])


def wipe_ephemeral(lab: TalosLab, node: SimNode) -> None:
    """reset --system-labels-to-wipe=EPHEMERAL: config and install stay; etcd's data directory goes."""
    member = lab.member_of(node)
    if member is not None:
        assert node.config is not None
        members = lab.members(node.config.cluster_id)
        del members[member.id]
        if not members and lab.etcd_store is not None:
            lab.etcd_store.clear()  # the last copy of the data is gone
    node.etcd_data = node.etcd_stopped = False


def lose_etcd(lab: TalosLab, cluster_id: str) -> None:
    """A lab fault: every controller's etcd data is gone at once (disk loss, corruption); nothing answers."""
    with lab.lock:
        for node in lab.nodes.values():
            if node.config is not None and node.config.cluster_id == cluster_id and node.is_controlplane:
                # the data directory is not empty but unusable: bootstrap refuses it until the node is reset
                node.etcd_data, node.etcd_stopped = True, True
        lab.members(cluster_id).clear()
        if lab.etcd_store is not None:
            lab.etcd_store.clear()

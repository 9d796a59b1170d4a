"""The node APIs the fake `talosctl` calls: maintenance service and the secure machine API.

Each handler returns JSON-able data or raises `rpc.RpcError`/`rpc.TransportError`. Secure calls carry
the target nodes in metadata like talosctl does, so node errors come back wrapped per node (`NodeError`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.lab.talos import (
    apply_verdict,
    checks,
    etcd_api,
    etcd_snapshot,
    kubeconfig,
    machineconfig,
    pki,
    resources,
    rpc,
    upgrade_rules,
)
from runner.lab.talos.lab import ClientCreds, TalosLab
from runner.lab.talos.node import SimNode

READ_ROLES = {"os:admin", "os:operator", "os:reader", "os:etcd:backup"}


@dataclass
class NodeError(Exception):
    node: str
    error: rpc.RpcError | rpc.TransportError


@dataclass
class Call:
    method: str
    endpoint: str
    nodes: list[str]
    creds: ClientCreds
    params: dict[str, Any] = field(default_factory=dict)


def _require(roles: set[str], allowed: set[str]) -> None:
    if not roles & allowed:
        raise rpc.not_authorized()


def _apply(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    try:
        config = machineconfig.load(p["data"], node.version)
    except (machineconfig.ConfigDecodeError, machineconfig.ConfigInvalid) as e:
        raise rpc.RpcError("InvalidArgument", str(e)) from e
    assert node.config is not None
    mode = p.get("mode", "auto")
    # machined's CanApplyImmediate decides; its diff of the running config is the dry run's answer.
    problem = apply_verdict.immediate_problem(node.config.documents, config.documents)
    if mode in ("try", "no-reboot") and problem:
        raise rpc.RpcError("InvalidArgument", problem)
    if mode == "auto":
        mode = "reboot" if problem else "no-reboot"
    details = {
        "no-reboot": "Applied configuration without a reboot",
        "try": "Applied configuration without a reboot",
        "staged": "Staged configuration to be applied after the next reboot",
        "reboot": "Applied configuration with a reboot",
    }[mode]
    if p.get("dry_run"):
        diff = apply_verdict.config_diff(node.config.documents, config.documents) or "No changes."
        return {"mode_details": f"Dry run summary:\n{details} (skipped in dry-run).\nConfig diff:\n\n{diff}"}
    if mode == "staged":
        node.staged_config = config
    elif mode == "reboot":
        node.staged_config = config
        node.start_reboot(lab.clock(), lab.delays)
    else:
        node.config = config
    return {"mode_details": details}


def _kubeconfig(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    etcd_api.controlplane_only(node, "kubeconfig")
    assert node.config is not None
    return {"kubeconfig": kubeconfig.admin_kubeconfig(node.config)}


def _upgrade(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    image = p["image"]
    version = machineconfig.image_version(image)
    if version is None:
        raise rpc.RpcError("Unknown", f'error validating installer image "{image}": invalid reference format')
    if not p.get("force"):
        etcd_api.check_upgrade(lab, node)
    if not lab.installer_available(image):
        raise rpc.RpcError("Unknown", installer_missing(image))
    refused = upgrade_rules.preflight_error(node.version, version)
    if refused is not None:
        # the installer's pre-flight runs in the upgrade sequence, after the ack: the node stays as it was
        node.upgrade_failures.append(refused)
        return {"ack": "Upgrade request received"}
    node.pending_version, node.pending_image = version, image
    node.start_reboot(lab.clock(), lab.delays)
    return {"ack": "Upgrade request received"}


def installer_missing(image: str) -> str:
    # Talos pulls the installer before it upgrades; the factory's registry answers 404 for a schematic it
    # does not know (image-factory internal/frontend/http/registry.go, handleManifest).
    return f'error validating installer image "{image}": failed to pull installer image: {image}: not found'


def _reboot(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    node.start_reboot(lab.clock(), lab.delays)
    return {}


def _reset(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    member = lab.member_of(node)
    if p.get("graceful", True) and member is not None:
        assert node.config is not None
        if len(lab.members(node.config.cluster_id)) == 1:
            raise rpc.RpcError(
                "Unknown",
                "failed to leave cluster: etcdserver: re-configuration failed due to not enough started members",
            )
        del lab.members(node.config.cluster_id)[member.id]
    labels = set(p.get("system_labels") or ())
    if labels and "STATE" not in labels:
        etcd_snapshot.wipe_ephemeral(lab, node)  # only the listed partitions: the config on STATE stays
    else:
        node.wipe()
    if p.get("reboot"):
        node.phase, node.deadline = "booting", lab.clock() + lab.delays.boot
    else:
        node.power_off()
    return {}


def _version(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    return {"tag": node.version, "sha": "", "built": "", "go_version": "go1.24.6", "os": "linux", "arch": "amd64"}


def _get(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    rtype = resources.resolve_type(p["type"])
    if rtype is None:
        raise rpc.RpcError("Unknown", f'resource "{p["type"]}" is not registered')
    found = resources.list_resources(lab, node, rtype)
    if p.get("id"):
        found = [r for r in found if r["metadata"]["id"] == p["id"]]
        if not found:
            raise rpc.RpcError("NotFound", f"resource {rtype}({p['id']}@undefined) doesn't exist")
    return {"resources": [{"node": node.ip, **r} for r in found]}


def _health(lab: TalosLab, node: SimNode, p: dict[str, Any]) -> Any:
    return {"checks": checks.run(lab, p.get("control_plane_nodes", []), p.get("worker_nodes", []))}


Handler = Callable[[TalosLab, SimNode, dict[str, Any]], Any]
ADMIN = {"os:admin"}
SECURE: dict[str, tuple[Handler, set[str]]] = {
    "apply": (_apply, ADMIN),
    "bootstrap": (etcd_api.bootstrap, ADMIN),
    "etcd_members": (etcd_api.members, READ_ROLES),
    "service": (etcd_api.service, READ_ROLES),
    "etcd_leave": (etcd_api.leave, ADMIN),
    "etcd_remove_member": (etcd_api.remove_member, ADMIN),
    "etcd_snapshot": (etcd_snapshot.snapshot, ADMIN | {"os:etcd:backup"}),
    "kubeconfig": (_kubeconfig, ADMIN),
    "upgrade": (_upgrade, ADMIN | {"os:operator"}),
    "reboot": (_reboot, ADMIN | {"os:operator"}),
    "reset": (_reset, ADMIN),
    "version": (_version, READ_ROLES),
    "get": (_get, READ_ROLES),
    "health": (_health, READ_ROLES),
}


def secure_call(lab: TalosLab, endpoint: SimNode, call: Call) -> list[Any]:
    """Run `call` on every target node through the endpoint's apid (which proxies to other nodes)."""
    handler, allowed = SECURE[call.method]
    assert call.creds.cert is not None
    _require(pki.roles(call.creds.cert), allowed)
    results = []
    for ip in call.nodes:
        if ip == endpoint.ip:
            target = endpoint
        else:
            try:
                target = lab.connect(ip, call.creds)
            except rpc.TransportError as e:
                raise NodeError(ip, e) from e
        try:
            results.append(handler(lab, target, call.params))
        except rpc.RpcError as e:
            raise NodeError(ip, e) from e
    return results

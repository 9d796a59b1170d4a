"""Checks of the Proxmox host: version, the token's privileges, image storage content, bridge, VMIDs.

All read-only: GET /version, /access/permissions?path=..., /nodes/{node}/storage, /nodes/{node}/network,
/cluster/resources.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from runner.core.errors import RunnerError
from runner.core.state import MANAGED_TAG
from runner.drivers.proxmox.privileges import ROLE, Need, needs, release_of
from runner.engine.commands.doctor.model import Check, DoctorContext, Result, Row, failed, passed
from runner.engine.reconcile.preflight import missing_privileges

MIN_VERSION = (8, 4)  # download-url with content=import of a .qcow2 file: pve-storage 8.3.6, PVE 8.4
SETUP = "see README: Prepare your Proxmox host"


def cluster_needs(ctx: DoctorContext, release: tuple[int, int]) -> list[Need]:
    spec = ctx.cluster.proxmox
    vmids = [n.vmid for n in ctx.cluster.nodes]
    return needs(spec.node, spec.storage, spec.image_storage, spec.bridge, vmids, release)


def _unavailable(ctx: DoctorContext, check: str) -> list[Row] | None:
    if ctx.secrets is None:
        return [Row(check, Result.SKIP, "needs the Proxmox token from the secrets file", "fix the age key check first")]
    if ctx.proxmox_unreachable is not None:
        return [Row(check, Result.SKIP, "the Proxmox API did not answer", "fix the proxmox version check first")]
    return None


def proxmox_check(name: str, fix: str = "") -> Callable[[Check], Check]:
    """A check of the host: skipped while the token or the API is missing; an API error is its failure row."""

    def wrap(body: Check) -> Check:
        @functools.wraps(body)
        def run(ctx: DoctorContext) -> list[Row]:
            if skipped := _unavailable(ctx, name):
                return skipped
            try:
                return body(ctx)
            except RunnerError as exc:
                return failed(name, str(exc), fix)

        return run

    return wrap


@proxmox_check("proxmox version")
def pve_version(ctx: DoctorContext) -> list[Row]:
    try:
        version = ctx.proxmox.version()
    except RunnerError as exc:
        ctx.proxmox_unreachable = str(exc)
        return failed("proxmox version", str(exc), "check proxmox.url, the CA and the API token")
    match = re.match(r"(\d+)\.(\d+)", version)
    if not match or (int(match.group(1)), int(match.group(2))) < MIN_VERSION:
        return failed(
            "proxmox version",
            f"PVE {version}: downloading a .qcow2 image as content 'import' needs PVE 8.4 or newer",
            "upgrade the host to PVE 8.4 or newer (apt update && apt full-upgrade)",
        )
    return passed("proxmox version", f"PVE {version}")


@proxmox_check("token privileges", SETUP)
def token_privileges(ctx: DoctorContext) -> list[Row]:
    """The privileges of the release the host runs (PVE 9 has no VM.Monitor; VM.GuestAgent.* is new)."""
    version = ctx.proxmox.version()
    try:
        release = release_of(version)
    except ValueError:
        detail = f"PVE {version!r} names no release"
        return [Row("token privileges", Result.SKIP, detail, "see the proxmox version check")]
    missing = missing_privileges(ctx.proxmox, cluster_needs(ctx, release))
    token = ctx.secrets.proxmox_token_id if ctx.secrets else ""
    if not missing:
        return passed("token privileges", f"{token} has every privilege the runner uses on PVE {version}")
    return [
        Row(
            "token privileges",
            Result.FAIL,
            f"{token} lacks {need.privilege} on {need.path} (needed to {need.why}), a privilege of PVE {version}",
            f"add it to the role: pveum role modify {ROLE} --append 1 --privs {need.privilege}, "
            f"or grant the role on {need.path} to the user and the token ({SETUP})",
        )
        for need in missing
    ]


@proxmox_check("image storage", SETUP)
def image_storage(ctx: DoctorContext) -> list[Row]:
    spec = ctx.cluster.proxmox
    content = ctx.proxmox.storage_content(spec.node, spec.image_storage)
    if content is None:
        detail = (
            f"storage {spec.image_storage!r} does not exist on {spec.node}, or the token cannot see it "
            "(that needs Datastore.AllocateSpace or Datastore.Audit on it)"
        )
        return failed("image storage", detail, f"check proxmox.imageStorage ({SETUP})")
    if "import" not in content:
        return [
            Row(
                "image storage",
                Result.FAIL,
                f"storage {spec.image_storage!r} lacks content type 'import' (has {','.join(sorted(content))})",
                f"pvesm set {spec.image_storage} --content {','.join(sorted(content | {'import'}))}",
            )
        ]
    return passed("image storage", f"{spec.image_storage} holds content type 'import'")


@proxmox_check("bridge")
def bridge(ctx: DoctorContext) -> list[Row]:
    spec = ctx.cluster.proxmox
    found = ctx.proxmox.bridges(spec.node)
    if spec.bridge not in found:
        have = ", ".join(sorted(found)) or "none"
        return failed(
            "bridge",
            f"bridge {spec.bridge!r} does not exist on {spec.node} (bridges: {have})",
            "set proxmox.bridge to an existing bridge, or create it (System > Network on the node)",
        )
    return passed("bridge", f"{spec.bridge} exists on {spec.node}")


@proxmox_check("vmids")
def vmids(ctx: DoctorContext) -> list[Row]:
    existing = {vm.vmid: vm for vm in ctx.proxmox.list_vms()}
    rows = []
    for node in ctx.cluster.nodes:
        vm = existing.get(node.vmid)
        if vm is not None and MANAGED_TAG not in vm.tags:
            rows.append(
                Row(
                    "vmids",
                    Result.FAIL,
                    f"VMID {node.vmid} ({node.name}) is held by a VM the runner does not own: {vm.name!r}",
                    f"give {node.name} another vmid in cluster.yaml, or move that VM",
                )
            )
    ours = sum(1 for n in ctx.cluster.nodes if n.vmid in existing)
    return rows or [Row("vmids", Result.OK, f"{len(ctx.cluster.nodes)} VMIDs free or ours ({ours} exist already)")]

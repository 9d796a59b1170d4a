"""Proxmox CSI's own token: only the privileges the plugin documents, and never the runner's token.

The token lives in the Flux tree (CSI_CONFIG, SOPS, encrypted to the Flux key and to the operator's key, so
doctor opens it with the runner's key). Its privileges are read as that token (GET /access/permissions, every
path it holds anything on). Token ids and secrets are compared by digest and never shown.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ruamel.yaml import YAML

from runner.core.errors import RunnerError
from runner.core.secret import Secret
from runner.drivers.sops import SopsCli
from runner.engine.commands.doctor.model import DoctorContext, Result, Row, failed, passed

CHECK = "csi token"
CSI_CONFIG = "flux/infrastructure/storage/proxmox-csi-config.sops.yaml"
FIX = "see README: Proxmox CSI's own token"
# proxmox-csi-plugin v0.19.1 docs/install.md: `pveum role add CSI -privs "..."` (without replication)
DOCUMENTED = frozenset(
    {"VM.Audit", "VM.Config.Disk", "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit"}
)
# What its calls need: volumes on the storage (Content.pm create, Status.pm read_status), disks on the VMs.
NEEDED = (("storage", "Datastore.AllocateSpace"), ("storage", "Datastore.Audit"), ("vms", "VM.Config.Disk"))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def csi_credentials(ctx: DoctorContext) -> tuple[str, Secret, str]:
    """(token id, token secret, region) of the first cluster in the CSI's cloud config."""
    path = ctx.root / CSI_CONFIG
    doc = SopsCli(age_key_file=ctx.settings.age_key_file).decrypt(path.read_bytes(), CSI_CONFIG)
    text = str((doc.get("stringData") or {}).get("config.yaml", ""))
    config: Any = YAML(typ="safe").load(text) or {}
    clusters = config.get("clusters") or [{}]
    first = clusters[0]
    if not first.get("token_id") or not first.get("token_secret"):
        raise RunnerError(f"{CSI_CONFIG}: stringData.config.yaml: clusters[0] needs token_id and token_secret")
    return str(first["token_id"]), Secret(str(first["token_secret"])), str(first.get("region", ""))


def csi_token(ctx: DoctorContext) -> list[Row]:
    if not (ctx.root / CSI_CONFIG).exists():
        return [Row(CHECK, Result.SKIP, f"{CSI_CONFIG} does not exist (no Proxmox CSI)")]
    if ctx.secrets is None or ctx.proxmox_unreachable is not None:
        return [Row(CHECK, Result.SKIP, "needs the runner's secrets and a Proxmox API that answers")]
    try:
        token_id, secret, region = csi_credentials(ctx)
    except RunnerError as exc:
        return failed(CHECK, str(exc), FIX)
    if region != ctx.cluster.proxmox.node:
        # the runner labels every node topology.kubernetes.io/region=<proxmox.node>; the plugin picks its
        # Proxmox cluster by that label, so another region here means no claim is ever provisioned
        return failed(
            CHECK,
            f"{CSI_CONFIG}: clusters[0].region is {region!r}, but the nodes are labelled "
            f"topology.kubernetes.io/region={ctx.cluster.proxmox.node}",
            f"set region: {ctx.cluster.proxmox.node} in the CSI's cloud config ({FIX})",
        )
    ours = ctx.secrets
    if _digest(token_id) == _digest(ours.proxmox_token_id) or _digest(secret.reveal()) == _digest(
        ours.proxmox_token_secret.reveal()
    ):
        return failed(
            CHECK,
            f"the CSI's token in {CSI_CONFIG} is the runner's own token: a pod in the cluster would hold the "
            "runner's power over every VM",
            f"create a separate user and token for the CSI and put it there ({FIX})",
        )
    return _privileges(ctx, token_id, secret)


def _privileges(ctx: DoctorContext, token_id: str, secret: Secret) -> list[Row]:
    from runner.drivers.proxmox import ProxmoxDriver

    spec = ctx.cluster.proxmox
    ca = ctx.settings.proxmox_ca_bundle or spec.ca_bundle
    driver = ProxmoxDriver(
        ctx.settings.proxmox_url or spec.url, token_id, secret, ca_bundle=str(ca) if ca else None,
        verify_tls=spec.verify_tls,
    )  # fmt: skip
    try:
        held = driver.all_permissions()
    except RunnerError as exc:
        return failed(CHECK, f"{token_id}: {exc}", FIX)
    finally:
        driver.close()
    rows = [
        Row(CHECK, Result.FAIL, f"{token_id} holds {privilege} on {path}, beyond what Proxmox CSI documents",
            f"grant the CSI role only ({', '.join(sorted(DOCUMENTED))}) ({FIX})")
        for path, privileges in sorted(held.items())
        for privilege in sorted(set(privileges) - DOCUMENTED)
    ]  # fmt: skip
    targets = {"storage": f"/storage/{spec.storage}", "vms": "/vms"}
    for where, privilege in NEEDED:
        if privilege not in held.get(targets[where], {}):
            rows.append(
                Row(CHECK, Result.FAIL, f"{token_id} lacks {privilege} on {targets[where]}",
                    f"pveum acl modify {targets[where]} ... --roles CSI ({FIX})")
            )  # fmt: skip
    return rows or passed(CHECK, f"{token_id} holds only the privileges Proxmox CSI documents, and is not ours")

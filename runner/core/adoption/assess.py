"""Judge a running cluster against the spec: the adoption report, and every reason to refuse it (pure).

The engine gathers what the systems say (`Live`), renders the configs the runner would apply (`Wanted`), and this
decides. A refusal names what differs and where, never a secret value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.core.adoption import machineconfig as mc
from runner.core.adoption.dryrun import parse_dry_run
from runner.core.adoption.helm import LiveRelease, WantedRelease, judge_releases
from runner.core.adoption.report import AdoptionReport, NodeReport, ReleaseReport
from runner.core.adoption.vms import vm_differences
from runner.core.derive import Desired, DesiredNode


@dataclass(frozen=True)
class LiveNode:
    """What the systems say about the machine of one spec node."""

    vm_config: Mapping[str, str] | None = None  # None: no VM with that VMID
    vm_status: str = ""
    talos_version: str | None = None  # None: Talos did not answer at the node's IP
    schematic: str | None = None
    config: Sequence[Mapping[str, Any]] | None = None  # plain documents: secret values stay in this process
    dry_run: str = ""


@dataclass(frozen=True)
class LiveEtcd:
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # controller -> "id hostname ip" seen
    health: Mapping[str, str] = field(default_factory=dict)  # controller -> etcd service HEALTH


@dataclass(frozen=True)
class Wanted:
    desired: Desired
    configs: Mapping[str, Sequence[Mapping[str, Any]]]  # node -> the runner's plain config documents
    interface: str
    vip_owner: str
    spec_file: str  # for messages: where the operator fixes a spec-side difference
    secrets_file: str
    releases: Sequence[WantedRelease] = ()
    pinned_macs: frozenset[str] = frozenset()  # nodes whose MAC the spec names (nodes[].mac)


def _version_note(live: str | None, wanted: str) -> str:
    return "same" if live in (None, "", wanted) else f"{live} → {wanted} (upgrade, reboots)"


def _node(dn: DesiredNode, live: LiveNode, wanted: Wanted, refusals: list[str]) -> NodeReport:
    where = f"{dn.name} ({dn.ip})"
    vm_changes: list[str] = []
    if live.vm_config is None:
        refusals.append(f"{where}: no VM {dn.vm.vmid} on the Proxmox host")
    else:
        vm_changes, vm_refusals = vm_differences(dn.vm, live.vm_config, dn.name in wanted.pinned_macs)
        refusals.extend(vm_refusals)
    if live.config is None or live.talos_version is None:
        if live.vm_config is not None and live.vm_status == "running":
            refusals.append(f"{where}: Talos does not answer at {dn.ip}; nothing to compare")
        return NodeReport(dn.name, dn.vm.vmid, dn.ip, tuple(vm_changes))
    docs = live.config
    host = mc.hostname(docs)
    if live.vm_config is not None and live.vm_status != "running":
        refusals.append(f"{where}: {dn.ip} answers as {host or 'a machine'} while VM {dn.vm.vmid} is {live.vm_status}")
    elif host and host != dn.name:
        refusals.append(f"{where}: {dn.ip} is answered by machine {host}, not VM {dn.vm.vmid} ({dn.name})")
    links = mc.interfaces(docs)
    if links and wanted.interface not in links:
        refusals.append(
            f"{where}: the live NIC is {', '.join(links)}, {wanted.spec_file} network.interface is {wanted.interface}"
        )
    vips = mc.talos_vips(docs) if dn.is_controller else ()
    if vips and wanted.vip_owner != "talos":
        refusals.append(
            f"{where}: Talos's built-in VIP {', '.join(vips)} is in use, {wanted.spec_file} network.vipOwner is "
            f"{wanted.vip_owner}"
        )
    elif dn.is_controller and not vips and wanted.vip_owner == "talos":
        refusals.append(
            f"{where}: no Talos VIP in the live config, {wanted.spec_file} network.vipOwner is talos "
            "(the VIP is held by something else, kube-vip say)"
        )
    comparison = mc.compare_configs(docs, wanted.configs[dn.name])
    verdict = parse_dry_run(live.dry_run)
    schematic = _version_note(live.schematic, dn.schematic_id)
    version = _version_note(live.talos_version, dn.talos_version)
    reboot = bool(verdict.reboot) or schematic != "same" or version != "same"
    return NodeReport(
        dn.name,
        dn.vm.vmid,
        dn.ip,
        tuple(vm_changes),
        comparison.changes,
        comparison.secrets,
        verdict.summary,
        schematic,
        version,
        reboot,
    )


def _cluster_refusals(desired: Desired, live: Mapping[str, LiveNode], wanted: Wanted) -> tuple[list[str], str]:
    """Secrets, cluster name, endpoint and mixed versions; and the endpoint the live configs name."""
    out: list[str] = []
    differ: dict[str, list[str]] = {}
    names: set[str] = set()
    endpoints: set[str] = set()
    talos: dict[str, list[str]] = {}
    kube: dict[str, list[str]] = {}
    for dn in desired.nodes:
        node = live[dn.name]
        if node.config is None:
            continue
        for what in mc.compare_configs(node.config, wanted.configs[dn.name]).secrets_differ:
            differ.setdefault(what, []).append(dn.name)
        names.add(mc.cluster_name(node.config))
        endpoints.add(mc.endpoint(node.config))
        talos.setdefault(node.talos_version or "?", []).append(dn.name)
        kube.setdefault(mc.kubelet_version(node.config) or "?", []).append(dn.name)
    if differ:
        listed = "; ".join(f"{what} (on {', '.join(nodes)})" for what, nodes in sorted(differ.items()))
        out.append(f"secrets: {wanted.secrets_file} does not match the live cluster (compared by digest): {listed}")
    for name in sorted(names - {desired.cluster}):
        out.append(f"cluster name: the live cluster is named {name}, {wanted.spec_file} name is {desired.cluster}")
    allowed = {desired.vip_endpoint, desired.initial_endpoint}
    for endpoint in sorted(endpoints - allowed):
        out.append(
            f"endpoint: the live configs name {endpoint}, the spec's are {desired.vip_endpoint} (network.vip) or "
            f"{desired.initial_endpoint} (the first controller)"
        )
    for what, seen in (("Talos", talos), ("Kubernetes", kube)):
        if len(seen) > 1:
            parts = ", ".join(f"{v} on {', '.join(n)}" for v, n in sorted(seen.items()))
            out.append(f"versions: {what} versions are mixed ({parts}); finish that upgrade first")
    endpoint = desired.vip_endpoint if desired.vip_endpoint in endpoints else desired.initial_endpoint
    return out, endpoint


def _etcd_refusals(desired: Desired, etcd: LiveEtcd) -> tuple[list[str], tuple[str, ...]]:
    out: list[str] = []
    views = {name: tuple(sorted(seen)) for name, seen in etcd.members.items()}
    distinct = set(views.values())
    if len(distinct) > 1:
        parts = "; ".join(f"{n} sees {len(v)} ({', '.join(m.split()[0] for m in v)})" for n, v in sorted(views.items()))
        out.append(f"etcd: the controllers disagree on the members: {parts}")
    for name, health in sorted(etcd.health.items()):
        if health != "OK":
            out.append(f"etcd: quorum unhealthy: {name} reports etcd HEALTH {health or '?'}")
    for c in desired.controllers:
        if c.name not in etcd.health and c.name not in etcd.members:
            out.append(f"etcd: {c.name} ({c.ip}) did not answer for etcd; quorum cannot be checked")
    members = tuple(sorted(" ".join(m.split()[1:]) for m in next(iter(distinct), ())))
    ips = {m.split()[-1] for m in members if m}
    wanted = {c.ip for c in desired.controllers}
    if len(distinct) == 1 and ips != wanted:
        out.append(
            f"etcd: the members are at {', '.join(sorted(ips)) or 'no address'}, the spec's controllers at "
            f"{', '.join(sorted(wanted))}"
        )
    return out, members


def assess(
    wanted: Wanted, live: Mapping[str, LiveNode], etcd: LiveEtcd, releases: Sequence[LiveRelease]
) -> AdoptionReport:
    desired = wanted.desired
    refusals: list[str] = []
    nodes = tuple(_node(dn, live[dn.name], wanted, refusals) for dn in desired.nodes)
    cluster_refusals, endpoint = _cluster_refusals(desired, live, wanted)
    etcd_refusals, members = _etcd_refusals(desired, etcd)
    verdicts = judge_releases(releases, wanted.releases)
    return AdoptionReport(
        cluster=desired.cluster,
        endpoint=endpoint,
        nodes=nodes,
        releases=tuple(ReleaseReport(v.chart, v.release, v.helmrelease, v.takeover, v.values) for v in verdicts),
        refusals=tuple([*refusals, *cluster_refusals, *etcd_refusals, *(v.refusal for v in verdicts if v.refusal)]),
        etcd_members=members,
    )

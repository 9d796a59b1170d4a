"""Semantic checks that the schema can't express: uniqueness, addressing, quorum, versions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from runner.core.errors import Problem, SpecInvalid
from runner.core.loader import Located, load_cluster
from runner.core.metanet import NIC_NAME, NODE_KERNEL_ARGS
from runner.core.spec import Cluster
from runner.core.versions import (
    compatibility_problem,
    flux_problem,
    flux_release_for,
    no_flux_release_problem,
    talos_problem,
)

EXTENSION_RE = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9.-]*$")


def _duplicates(cluster: Cluster, located: Located, attr: str) -> Iterable[Problem]:
    seen: dict[str, str] = {}
    for i, node in enumerate(cluster.nodes):
        value = getattr(node, attr)
        if value is None:
            continue
        key = str(value).lower()
        if key in seen:
            yield located.problem(("nodes", i, _alias(attr)), f"{value} is already used by {seen[key]}")
        else:
            seen[key] = node.name


def _alias(attr: str) -> str:
    return {"disk_gb": "diskGb"}.get(attr, attr)


def _flux_settings_problems(cluster: Cluster, located: Located) -> list[Problem]:
    """What the add-ons under flux/ read from the cluster-settings ConfigMap must be in cluster.yaml: Flux
    substitutes strictly, so one unset `${var}` fails its Kustomization and nothing after it is applied.
    The LoadBalancer range gives the ingress controller's Service (later the Gateway's) its address; the ACME
    contact registers cert-manager's Let's Encrypt account."""
    if cluster.flux is None:
        return []
    problems = []
    if cluster.network.load_balancers is None:
        problems.append(
            located.problem(
                ("network",),
                "loadBalancers is required with flux: the add-ons under flux/ give LoadBalancer Services "
                "addresses from it (e.g. loadBalancers: {start: 10.0.0.200, stop: 10.0.0.250}, inside the "
                "network, clear of the nodes, the VIP and the gateway)",
            )
        )
    if cluster.certificates is None:
        line, col = located.position(("flux",))
        problems.append(
            Problem(
                located.file,
                line,
                col,
                "certificates",
                "certificates.acmeEmail is required with flux: the Let's Encrypt ClusterIssuer under flux/ registers "
                "its ACME account with it (certificates: {acmeEmail: <an address you read>})",
            )
        )
    return problems


def _load_balancer_problems(cluster: Cluster, located: Located) -> list[Problem]:
    """The LoadBalancer range: inside the network, in order, and holding no address something else owns."""
    net = cluster.network
    lb = net.load_balancers
    if lb is None:
        return []
    where = ("network", "loadBalancers")
    problems = [
        located.problem((*where, end), f"{address} is outside the network {net.cidr}")
        for end, address in (("start", lb.start), ("stop", lb.stop))
        if address not in net.cidr
    ]
    if problems:
        return problems
    if lb.start > lb.stop:
        return [located.problem((*where, "stop"), f"{lb.stop} comes before the start {lb.start}")]
    span = f"the LoadBalancer range {lb.start}-{lb.stop}"
    for address, what in (
        (net.cidr.network_address, "the network address"),
        (net.cidr.broadcast_address, "the broadcast address"),
    ):
        if address in lb:
            problems.append(located.problem(where, f"{span} includes {what} {address}"))
    if net.gateway in lb:
        problems.append(located.problem(where, f"{span} includes the gateway {net.gateway}"))
    if net.vip in lb:
        problems.append(located.problem(where, f"{span} includes the VIP {net.vip}"))
    for i, node in enumerate(cluster.nodes):
        if node.ip in lb:
            problems.append(located.problem(("nodes", i, "ip"), f"{node.ip} ({node.name}) is inside {span}"))
    return problems


def _version_problems(
    cluster: Cluster, located: Located, flux_version: str | None, flux_releases: Sequence[str] = ()
) -> list[Problem]:
    """Talos the runner manages, Kubernetes that Talos supports, Kubernetes the installed Flux supports."""
    problems = []
    talos, kubernetes = cluster.talos.version, cluster.kubernetes.version
    why = talos_problem(talos)
    if why:
        problems.append(located.problem(("talos", "version"), why))
    why = compatibility_problem(talos, kubernetes)
    if why:
        problems.append(located.problem(("kubernetes", "version"), why))
    why = flux_problem(flux_version, kubernetes) if flux_version else None
    if not flux_version and flux_releases and cluster.flux and flux_release_for(kubernetes, flux_releases) is None:
        why = no_flux_release_problem(kubernetes, flux_releases)
    if why:
        problems.append(located.problem(("kubernetes", "version"), why))
    return problems


def semantic_problems(
    cluster: Cluster, located: Located, flux_version: str | None = None, flux_releases: Sequence[str] = ()
) -> list[Problem]:
    """Every problem of a loaded spec; `flux_version` is the Flux the runner installs, or else `flux_releases`
    the ones it can pick from for the spec's Kubernetes (neither: not checked)."""
    problems: list[Problem] = []
    for attr in ("name", "ip", "vmid", "mac"):
        problems += _duplicates(cluster, located, attr)

    net = cluster.network
    for i, node in enumerate(cluster.nodes):
        if node.ip not in net.cidr:
            problems.append(located.problem(("nodes", i, "ip"), f"{node.ip} is outside the network {net.cidr}"))
        elif node.ip in (net.cidr.network_address, net.cidr.broadcast_address):
            problems.append(located.problem(("nodes", i, "ip"), f"{node.ip} is not a usable host address"))
        if node.ip == net.gateway:
            problems.append(located.problem(("nodes", i, "ip"), f"{node.ip} is the gateway"))
        if node.ip == net.vip:
            problems.append(located.problem(("nodes", i, "ip"), f"{node.ip} is the VIP"))
    if net.gateway not in net.cidr:
        problems.append(located.problem(("network", "gateway"), f"{net.gateway} is outside the network {net.cidr}"))
    if net.vip not in net.cidr:
        problems.append(located.problem(("network", "vip"), f"{net.vip} is outside the network {net.cidr}"))
    if net.vip == net.gateway:
        problems.append(located.problem(("network", "vip"), f"{net.vip} is the gateway"))
    problems += _load_balancer_problems(cluster, located)
    problems += _flux_settings_problems(cluster, located)
    if net.interface != NIC_NAME:
        problems.append(
            located.problem(
                ("network", "interface"),
                f"{net.interface} is not the name the nodes' NIC has: the runner's images boot with "
                f"{' '.join(NODE_KERNEL_ARGS)} (Talos 'Predictable Interface Names' turned off), so a VM's one "
                f"virtio NIC is {NIC_NAME}; use interface: {NIC_NAME}",
            )
        )

    controllers = cluster.controllers
    if not controllers:
        problems.append(located.problem(("nodes",), "no node has role controlplane; a cluster needs at least one"))
    elif len(controllers) % 2 == 0:
        problems.append(
            located.problem(
                ("nodes",),
                f"{len(controllers)} controllers: an even etcd member count tolerates no more failures than "
                f"{len(controllers) - 1}; use an odd number",
                severity="warning",
            )
        )

    problems += _version_problems(cluster, located, flux_version, flux_releases)

    for i, ext in enumerate(cluster.talos.extensions):
        if not EXTENSION_RE.match(ext):
            problems.append(
                located.problem(
                    ("talos", "extensions", i), f"{ext!r} is not an extension name like 'siderolabs/qemu-guest-agent'"
                )
            )
    if len(set(cluster.talos.extensions)) != len(cluster.talos.extensions):
        problems.append(located.problem(("talos", "extensions"), "an extension is listed twice"))
    return problems


def validate_text(
    text: str, file: str, flux_version: str | None = None, flux_releases: Sequence[str] = ()
) -> tuple[Cluster, list[Problem]]:
    """Load and check a cluster.yaml: returns the cluster and its warnings, or raises SpecInvalid with everything.
    `flux_version` is the Flux the runner installs, whose minimum Kubernetes is checked (None: not checked)."""
    cluster, located = load_cluster(text, file)
    problems = semantic_problems(cluster, located, flux_version, flux_releases)
    if any(p.severity == "error" for p in problems):
        raise SpecInvalid(sorted(problems, key=lambda p: (p.line or 0, p.col or 0)))
    return cluster, problems

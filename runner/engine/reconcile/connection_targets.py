"""Where a run may send the runner's credentials: the connection targets of one cluster spec.

A plan reads the desired state from the commit it plans, but a pull request must not choose where the
runner sends the Proxmox token, its Talos os:admin client certificate, the kubeconfig derived from it, or
Flux's git credentials. Plans therefore connect only to the targets of the protected branch; a PR that
changes one sees the change listed as "applies after merge", and its new addresses are never contacted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from runner.core.errors import SpecInvalid
from runner.core.spec import Cluster
from runner.core.steps import Plan
from runner.engine.reconcile.load import load_cluster
from runner.engine.reconcile.source import Source


@dataclass(frozen=True)
class ConnectionTargets:
    cluster: str  # the cluster's name (the kubeconfig's context): the same on every branch
    proxmox_url: str
    proxmox_verify_tls: bool
    proxmox_ca_bundle: str | None
    image_factory_url: str
    flux_url: str | None
    nodes: tuple[tuple[str, str], ...]  # (name, address) of every node the runner may reach with its certificate
    vip: str

    @classmethod
    def of(cls, cluster: Cluster) -> ConnectionTargets:
        return cls(
            cluster=cluster.name,
            proxmox_url=cluster.proxmox.url,
            proxmox_verify_tls=cluster.proxmox.verify_tls,
            proxmox_ca_bundle=cluster.proxmox.ca_bundle,
            image_factory_url=cluster.image_factory.url,
            flux_url=cluster.flux.url if cluster.flux else None,
            nodes=tuple((n.name, str(n.ip)) for n in cluster.nodes),
            vip=str(cluster.network.vip),
        )

    @property
    def hosts(self) -> frozenset[str]:
        """Addresses that may receive the Talos client certificate or the kubeconfig."""
        return frozenset({ip for _, ip in self.nodes} | {self.vip})

    def changes_in(self, proposed: ConnectionTargets) -> list[str]:
        """What `proposed` (a PR's spec) changes of these targets, one line each, for the plan to show."""
        lines = []
        fields = [
            ("proxmox.url", self.proxmox_url, proposed.proxmox_url),
            ("proxmox.verifyTls", self.proxmox_verify_tls, proposed.proxmox_verify_tls),
            ("proxmox.caBundle", self.proxmox_ca_bundle, proposed.proxmox_ca_bundle),
            ("imageFactory.url", self.image_factory_url, proposed.image_factory_url),
            ("flux.url", self.flux_url, proposed.flux_url),
            ("network.vip", self.vip, proposed.vip),
        ]
        for name, now, then in fields:
            if now != then:
                lines.append(f"{name}: {_shown(now)} -> {_shown(then)}; this plan used {_shown(now)}")
        known = self.hosts
        for node, ip in proposed.nodes:
            if ip not in known:
                lines.append(f"nodes[{node}].ip: {ip} is a new address; it was not contacted")
        return lines


def _shown(value: object) -> str:
    return "(none)" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def targets_of(source: Source, name: str) -> ConnectionTargets | None:
    """The targets of the cluster's spec at `source` (the protected branch), read without decrypting."""
    try:
        return ConnectionTargets.of(load_cluster(source, name, None).cluster)
    except SpecInvalid:
        return None  # a new cluster, or a broken spec on the branch: nothing there may be trusted


def annotated(
    plan: Plan, trusted: ConnectionTargets | None, cluster: Cluster, offline: str | None, recorded: object
) -> Plan:
    """The plan with what it did not contact: targets the PR changes, and why it was planned offline."""
    after_merge = tuple(trusted.changes_in(ConnectionTargets.of(cluster))) if trusted else ()
    notes = plan.notes
    if offline:
        state = "the last recorded state" if recorded else "no recorded state (as if nothing existed yet)"
        notes += (f"planned offline ({offline}): nothing was contacted; observed state is {state}",)
    return dataclasses.replace(plan, after_merge=after_merge, notes=notes)

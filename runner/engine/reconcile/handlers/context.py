"""What every step handler receives: the run's desired state, its drivers (typed by their Protocols) and waits.

Handlers are plain functions `(StepContext, Step) -> message`, one module per outside system; the context
holds what they share, as resolvelib's resolver holds its provider. Every handler is idempotent: it checks first.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.core.derive import Desired, DesiredNode
from runner.core.spec import Cluster
from runner.core.steps import Step
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.configs import NodeConfig
from runner.engine.reconcile.flux_key import FluxKey
from runner.engine.reconcile.targets import Connections
from runner.engine.reconcile.waits import wait_until

if TYPE_CHECKING:  # the Kubernetes driver's libraries load on first use
    from runner.drivers.kube import KubeApi


@dataclass
class StepContext:
    cluster: Cluster
    desired: Desired
    conns: Connections
    configs: dict[str, NodeConfig]
    store: ClusterStateStore
    flux_key: Callable[[], FluxKey]  # the cluster's Flux key, checked not to open the machine secrets
    handoff: bool
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    log: Callable[[str], None] = print
    endpoint_configs: dict[str, NodeConfig] = dataclasses.field(default_factory=dict)  # naming the VIP
    age_recipients: tuple[str, ...] = ()  # who can open etcd snapshots (see etcd_snapshots.age_recipients)

    def node(self, step: Step) -> DesiredNode:
        return self.desired.node(str(step.params["node_name"]))

    def wait(self, check: Callable[[], object], what: str, timeout: float | None = None) -> object:
        s = self.conns.settings
        return wait_until(check, timeout=timeout or s.boot_timeout, what=what, poll=s.poll_seconds, cancel=self.cancel)

    def wait_stage(self, dn: DesiredNode, stages: tuple[str, ...], hint: str = "") -> str:
        return str(
            self.wait(
                lambda: st if (st := self.conns.talos.stage(dn.ip)) in stages else None,
                f"{dn.name} ({dn.ip}) reaching {' or '.join(stages)}{hint}",
            )
        )

    def address_hint(self) -> str:
        link = self.cluster.network.interface
        # Said for both cases: the handler cannot tell a node that never booted from one that went down.
        return (
            f" (its static address is configured on link {link}; a node whose NIC has another name "
            "never brings the address up; one that answered before has stopped: look at its console)"
        )

    def wait_node_healthy(self, dn: DesiredNode) -> None:
        """Back to running; a controller also healthy in etcd again, every member listed (quorum intact).

        Talos protects quorum only on `upgrade`; a reboot is not checked, and a rebooted member is listed
        long before it serves. Taking the next controller down before this one's etcd is healthy loses quorum.
        """
        self.wait_stage(dn, ("running",))
        if dn.is_controller:
            want = {c.ip for c in self.desired.controllers}
            self.wait(
                lambda: self.conns.talos.etcd_healthy(dn.ip) and want <= set(self.conns.talos.etcd_members(dn.ip)),
                f"etcd on {dn.name} healthy with all {len(want)} controllers",
            )

    def kube(self, endpoint: str | None = None) -> KubeApi:
        facts = self.store.get(self.desired.cluster)
        return self.conns.kube(endpoint or facts.endpoint or self.desired.initial_endpoint)

    @contextmanager
    def kube_session(self, endpoint: str | None = None) -> Iterator[KubeApi]:
        """A Kubernetes client for one handler, closed however the handler ends."""
        kube = self.kube(endpoint)
        try:
            yield kube
        finally:
            kube.close()

    def register_schematic(self, dn: DesiredNode) -> None:
        """The factory builds images and installers only for schematics it knows: register before any use."""
        with self.conns.image_factory() as factory:
            factory.ensure_schematic(dn.schematic)


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

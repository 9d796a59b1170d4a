"""Runs started from the command line on a local working copy (`runner plan`, `apply`, `status`, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.core.errors import Permanent
from runner.core.secret import Redactor, Secret
from runner.core.steps import Plan
from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.reconcile.executor import Reporter
from runner.engine.reconcile.outcome import NullReporter, Outcome
from runner.engine.reconcile.reconciler import Engine
from runner.engine.reconcile.source import DirSource
from runner.engine.reconcile.target_settings import TargetSettings


def local_engine(settings: TargetSettings | None = None) -> Engine:
    settings = settings or TargetSettings()
    return Engine(settings, ClusterStateStore(settings.store_url))


def plan_live(root: Path, name: str, settings: TargetSettings | None = None) -> Plan:
    """Plan a working copy against the real (or lab) systems; raises on any error before the plan exists."""
    outcome = local_engine(settings).reconcile(
        DirSource(root), name, apply=False, reporter=NullReporter(), redactor=Redactor()
    )
    if outcome.plan is None:
        raise Permanent(outcome.error or "no plan")
    return outcome.plan


def apply_local(
    root: Path, name: str, reporter: Reporter, *, allow_destroy: bool = False, settings: TargetSettings | None = None
) -> Outcome:
    return local_engine(settings).reconcile(
        DirSource(root), name, apply=True, reporter=reporter, redactor=Redactor(), allow_destroy=allow_destroy
    )


@dataclass(frozen=True)
class Access:
    """Client configs for operators, derived from the secrets bundle on demand (never stored)."""

    talosconfig: Secret
    kubeconfig: Secret
    endpoint: str


def access(root: Path, name: str, settings: TargetSettings | None = None) -> Access:
    """talosconfig and kubeconfig for the cluster, pointing at the VIP once the runner has switched to it."""
    engine = local_engine(settings)
    _, conns, desired, _ = engine.prepare(DirSource(root), name)
    try:
        endpoint = engine.store.get(name).endpoint or desired.initial_endpoint
        host = endpoint.split("://", 1)[-1].rsplit(":", 1)[0]
        controllers = [n.ip for n in desired.controllers]
        endpoints = [host, *[c for c in controllers if c != host]] if host != desired.vip else [host]
        talosconfig = conns.talos.talosconfig_yaml(endpoints, controllers)
        kubeconfig = conns.admin_kubeconfig(endpoint)
        return Access(talosconfig, kubeconfig, endpoint)
    finally:
        conns.close()

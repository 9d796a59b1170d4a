"""`runner adopt`: report on a running cluster (read-only), and on `--apply --confirm <digest>` take it over.

Taking over writes three things and nothing else: the VMs' tags (each write carries the digest of the config
it was read with, so a VM changed meanwhile fails the write), and in the runner's own records the bootstrap
(so no plan ever bootstraps this cluster), the endpoint the live configs name and the adoption itself.
No Talos call and no Kubernetes call writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import cast

from runner.core.adoption import AdoptionReport, Wanted, assess
from runner.core.errors import Permanent
from runner.core.state import MANAGED_TAG, SPEC_TAG_PREFIX
from runner.core.talos import parse_machine_config
from runner.drivers.proxmox.api import ProxmoxTagging
from runner.engine.commands.adopt import observe
from runner.engine.reconcile.configs import node_configs
from runner.engine.reconcile.local import local_engine
from runner.engine.reconcile.source import DirSource
from runner.engine.reconcile.target_settings import TargetSettings

ADOPTED_SPEC_TAG = f"{SPEC_TAG_PREFIX}adopted"  # not a spec hash: the next run reads the VM and plans what differs


def adoption_report(root: Path, name: str, settings: TargetSettings | None = None) -> AdoptionReport:
    """What `runner adopt` prints: every read, no write."""
    return _observe(root, name, settings)[0]


def _observe(root: Path, name: str, settings: TargetSettings | None) -> tuple[AdoptionReport, dict[int, str]]:
    """The report, and the PVE config digest of each spec VM as read for it."""
    engine = local_engine(settings)
    loaded, conns, desired, _ = engine.prepare(DirSource(root), name)
    try:
        assert loaded.secrets is not None
        vms = observe.observe_vms(desired, conns)
        # Every spec address is asked, whatever its VM's state: a stopped VM's address answered by another machine
        # is a refusal (assess), and only what answers there can show it.
        problems: list[str] = []
        talos = observe.observe_talos(desired, conns, list(vms), problems)
        # The runner's configs name the endpoint the live ones do when that is the VIP (what --apply records).
        live_endpoint = observe.live_endpoint(talos)
        endpoint = desired.vip_endpoint if live_endpoint == desired.vip_endpoint else desired.initial_endpoint
        # The configs the runner would apply once the cluster is adopted (so they keep `persist`, see node_configs).
        configs = node_configs(
            loaded.cluster, desired, loaded.secrets, conns.bundle, engine.rendered, endpoint, adopted=True
        )
        dry = observe.dry_runs(desired, conns, talos, configs)
        etcd = observe.observe_etcd(desired, conns, list(talos))
        releases = []
        if talos and not any("differ" in d for d in dry.values()):
            releases = observe.observe_releases(conns, endpoint)
        wanted = Wanted(
            desired=desired,
            configs={n: parse_machine_config(c.text.reveal()) for n, c in configs.items()},
            interface=loaded.cluster.network.interface,
            vip_owner=loaded.cluster.network.vip_owner,
            spec_file=f"clusters/{name}/cluster.yaml",
            secrets_file=f"clusters/{name}/secrets.sops.yaml",
            releases=observe.wanted_releases(root),
            pinned_macs=frozenset(n.name for n in loaded.cluster.nodes if n.mac),
        )
        report = assess(wanted, observe.nodes_of(desired, vms, talos, dry), etcd, releases)
        if problems:
            report = dataclasses.replace(report, refusals=(*report.refusals, *problems))
        digests = {dn.vm.vmid: str(config.get("digest", "")) for dn in desired.nodes if (config := vms[dn.name][0])}
        return report, digests
    finally:
        conns.close()


def adopt_apply(root: Path, name: str, confirm: str, settings: TargetSettings | None = None) -> AdoptionReport:
    """Tag the VMs and record the cluster, if the report is still the one with digest `confirm`."""
    report, digests = _observe(root, name, settings)
    if report.digest != confirm:
        raise Permanent(
            f"the adoption report changed since {confirm[:12]}… (it is now {report.digest}): nothing was written; "
            "run `runner adopt` again and read it"
        )
    if report.refusals:
        raise Permanent(f"adoption refused ({len(report.refusals)} reasons, see `runner adopt`): nothing was written")
    engine = local_engine(settings)
    _, conns, desired, _ = engine.prepare(DirSource(root), name)
    try:
        tagging = cast(ProxmoxTagging, conns.proxmox)
        by_name = {n.name: n for n in report.nodes}
        for dn in desired.nodes:
            spec_tag = f"{SPEC_TAG_PREFIX}{dn.vm.spec_hash}" if not by_name[dn.name].vm else ADOPTED_SPEC_TAG
            tags = (*(t for t in dn.vm.tags if not t.startswith(SPEC_TAG_PREFIX)), spec_tag)
            assert MANAGED_TAG in tags
            tagging.set_tags(dn.vm.node, dn.vm.vmid, tags, digests[dn.vm.vmid])
    finally:
        conns.close()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    # One write: the adoption, the endpoint in use and the bootstrap (never bootstrapped again).
    engine.store.record_adoption(name, report.digest, report.endpoint, now)
    return report

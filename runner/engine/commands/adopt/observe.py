"""Observe a running cluster for adoption: reads only (Proxmox GETs, talosctl get/version/etcd/dry-run, Kubernetes
lists); the one Talos call that carries a config is `apply-config --dry-run`, which applies nothing.

A node's config is dry-run only when the live config holds the same secrets as the runner's: a machine of
another cluster is never sent this cluster's secrets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.core.adoption import LiveEtcd, LiveNode, LiveRelease, WantedRelease, decode_release, wanted_release
from runner.core.adoption.machineconfig import compare_configs, endpoint
from runner.core.derive import Desired
from runner.core.errors import Permanent, RunnerError
from runner.core.talos import parse_machine_config
from runner.drivers.kube.api import HelmStorage
from runner.drivers.talos.api import TalosDryRun
from runner.engine.reconcile.configs import NodeConfig
from runner.engine.reconcile.targets import Connections


def observe_vms(desired: Desired, conns: Connections) -> dict[str, tuple[Mapping[str, str] | None, str]]:
    """node -> (VM config or None, VM status): one resources list, then one config GET per spec VM."""
    px = conns.proxmox
    vms = {vm.vmid: vm for vm in px.list_vms()}
    out: dict[str, tuple[Mapping[str, str] | None, str]] = {}
    for dn in desired.nodes:
        vm = vms.get(dn.vm.vmid)
        out[dn.name] = (px.vm_config(vm.node, vm.vmid), vm.status) if vm is not None else (None, "")
    return out


def _ask(what: str, call: Any, ips: Sequence[str], problems: list[str]) -> dict[str, Any]:
    try:
        return dict(call(ips))
    except Permanent as exc:
        problems.append(f"talos: {what} failed: {exc}")
    except RunnerError:
        pass
    return {}


def observe_talos(
    desired: Desired, conns: Connections, nodes: Sequence[str], problems: list[str]
) -> dict[str, dict[str, Any]]:
    """ip -> {version, schematic, config (plain documents)} for the addresses of `nodes` that answered."""
    talos = conns.talos
    ips = [dn.ip for dn in desired.nodes if dn.name in nodes]
    versions = _ask("version", talos.versions, ips, problems)
    schematics = _ask("get extensions", talos.schematics, ips, problems)
    configs = _ask("get machineconfig", talos.machine_configs, ips, problems)
    out: dict[str, dict[str, Any]] = {}
    for ip in ips:
        if ip in versions and ip in configs:
            docs = parse_machine_config(configs[ip].text.reveal())
            out[ip] = {"version": versions[ip], "schematic": schematics.get(ip), "config": docs}
    return out


def live_endpoint(talos: Mapping[str, Mapping[str, Any]]) -> str | None:
    found = {endpoint(t["config"]) for t in talos.values()}
    return next(iter(found)) if len(found) == 1 else None


def dry_runs(
    desired: Desired, conns: Connections, talos: Mapping[str, Mapping[str, Any]], configs: Mapping[str, NodeConfig]
) -> dict[str, str]:
    runner = cast(TalosDryRun, conns.talos)
    out: dict[str, str] = {}
    for dn in desired.nodes:
        live = talos.get(dn.ip)
        if live is None:
            continue
        wanted = parse_machine_config(configs[dn.name].text.reveal())
        if compare_configs(live["config"], wanted).secrets_differ:
            out[dn.name] = "not asked: the live secrets differ from the runner's"
            continue
        try:
            out[dn.name] = runner.apply_config_dry_run(dn.ip, configs[dn.name].text)
        except RunnerError as exc:
            out[dn.name] = f"Talos refused the config: {exc}"
    return out


def observe_etcd(desired: Desired, conns: Connections, answering: Sequence[str]) -> LiveEtcd:
    talos = conns.talos
    controllers = [c for c in desired.controllers if c.ip in answering]
    members: dict[str, tuple[str, ...]] = {}
    for c in controllers:
        try:
            members[c.name] = tuple(f"{m.id} {m.hostname} {m.ip}" for m in talos.etcd_member_details(c.ip))
        except RunnerError:
            continue
    try:
        services = talos.etcd_services([c.ip for c in controllers])
    except RunnerError:
        services = {}
    health = {c.name: services[c.ip].health for c in controllers if c.ip in services}
    return LiveEtcd(members, health)


def nodes_of(
    desired: Desired,
    vms: Mapping[str, tuple[Mapping[str, str] | None, str]],
    talos: Mapping[str, Mapping[str, Any]],
    dry: Mapping[str, str],
) -> dict[str, LiveNode]:
    out: dict[str, LiveNode] = {}
    for dn in desired.nodes:
        config, status = vms[dn.name]
        live = talos.get(dn.ip) or {}
        out[dn.name] = LiveNode(
            vm_config=config,
            vm_status=status,
            talos_version=live.get("version"),
            schematic=live.get("schematic"),
            config=live.get("config"),
            dry_run=dry.get(dn.name, ""),
        )
    return out


def observe_releases(conns: Connections, endpoint_url: str) -> list[LiveRelease]:
    kube = conns.kube(endpoint_url)
    try:
        secrets = cast(HelmStorage, kube).helm_release_secrets()
    finally:
        kube.close()
    return [r for s in secrets if (r := decode_release(s)) is not None]


def wanted_releases(root: Path) -> list[WantedRelease]:
    """The HelmReleases of the repository's Flux tree (flux/**.yaml, encrypted files left out)."""
    yaml = YAML(typ="safe", pure=True)
    out: list[WantedRelease] = []
    flux = root / "flux"
    for path in sorted(flux.rglob("*.yaml")) if flux.is_dir() else []:
        if path.name.endswith(".sops.yaml"):
            continue
        try:
            docs = list(yaml.load_all(path.read_text()))
        except (YAMLError, OSError):
            continue
        rel = str(path.relative_to(root))
        out += [wanted_release(d, rel) for d in docs if isinstance(d, dict) and d.get("kind") == "HelmRelease"]
    return out

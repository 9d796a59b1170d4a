"""Scripted drivers for step-handler tests: small fakes of the driver Protocols that tell a story in time.

`ScriptedTalos` implements `TalosApi`: each node answers from a script keyed by how often it was asked, so
a test can say "cp-02 answers `running` at once but its etcd is healthy only on the third check".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType

from runner.core.errors import Transient
from runner.core.schematic import Schematic, schematic_id
from runner.core.secret import Secret
from runner.core.state import TalosStage
from runner.drivers.talos import EtcdMember, TalosApi

_INSTALLER = re.compile(r"/[a-z0-9-]*installer/(?P<id>[0-9a-f]{64}):(?P<version>v\S+)$")


@dataclass
class ScriptedFactory:
    """`ensure_schematic` of the Image Factory driver: records what the factory knows."""

    known: set[str] = field(default_factory=set)

    def ensure_schematic(self, schematic: Schematic) -> str:
        sid = schematic_id(schematic)
        self.known.add(sid)
        return sid


class _FactoryContext(AbstractContextManager["ScriptedFactory"]):
    def __init__(self, factory: ScriptedFactory) -> None:
        self.factory = factory

    def __enter__(self) -> ScriptedFactory:
        return self.factory

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None


@dataclass
class ScriptedTalos:
    """A `TalosApi` whose answers come from per-node scripts; every call is recorded in order."""

    controllers: tuple[str, ...]
    factory: ScriptedFactory
    versions: dict[str, str] = field(default_factory=dict)
    # ip -> answers to successive etcd health checks after the node's last disruption (last one repeats)
    health_script: dict[str, list[bool]] = field(default_factory=dict)
    stages: dict[str, TalosStage] = field(default_factory=dict)  # ip -> what `stage` answers (default running)
    silent: set[str] = field(default_factory=set)  # nodes that answer nothing (crashed): stage unreachable, etcd fails
    calls: list[tuple[str, str]] = field(default_factory=list)
    applied: list[tuple[str, str, str]] = field(default_factory=list)  # (ip, mode, config text)
    _asked: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def _record(self, what: str, ip: str) -> None:
        self.calls.append((what, ip))

    def _disrupted(self, ip: str) -> None:
        self._asked[ip] = 0

    def _answer(self, what: str, ip: str) -> None:
        self._record(what, ip)
        if ip in self.silent:  # what talosctl says of a node that does not answer: retry later
            raise Transient(f"talosctl {what} on {ip}: rpc error: code = Unavailable desc = connection error")

    # --- TalosApi -------------------------------------------------------------------------------
    def apply_config(self, ip: str, config_yaml: Secret | str, insecure: bool, mode: str = "auto") -> str:
        self._record("apply_config", ip)
        self.applied.append((ip, mode, config_yaml.reveal() if isinstance(config_yaml, Secret) else config_yaml))
        return ""

    def stage(self, ip: str) -> TalosStage:
        self._record("stage", ip)
        return "unreachable" if ip in self.silent else self.stages.get(ip, "running")

    def bootstrap(self, ip: str) -> None:
        self._record("bootstrap", ip)

    def etcd_members(self, ip: str) -> list[str]:
        self._answer("etcd_members", ip)
        return list(self.controllers)  # a rebooted member is listed at once: membership says nothing of health

    def etcd_member_details(self, ip: str) -> list[EtcdMember]:
        return [EtcdMember(f"{i:016x}", f"cp-{i}", (f"https://{c}:2380",)) for i, c in enumerate(self.controllers)]

    def etcd_healthy(self, ip: str) -> bool:
        self._answer("etcd_healthy", ip)
        script = self.health_script.get(ip, [True])
        answer = script[min(self._asked[ip], len(script) - 1)]
        self._asked[ip] += 1
        return answer

    def etcd_leave(self, ip: str) -> None:
        self._record("etcd_leave", ip)

    def etcd_remove_member(self, ip: str, member_id: str) -> None:
        self._record("etcd_remove_member", ip)

    def health(self, controllers: Sequence[str], workers: Sequence[str], timeout: float) -> None:
        self._record("health", controllers[0])

    def kubeconfig(self, ip: str) -> Secret:
        return Secret("apiVersion: v1\nkind: Config\n")

    def version(self, ip: str) -> str:
        return self.versions.get(ip, "v1.11.2")

    def machine_config(self, ip: str) -> Secret:
        return Secret("")

    def schematic(self, ip: str) -> str | None:
        return None

    def upgrade(self, ip: str, image: str, preserve: bool = False) -> None:
        match = _INSTALLER.search(image)
        if match and match["id"] not in self.factory.known:
            # What the node does: it pulls the installer first, and the factory has no such schematic.
            raise AssertionError(f"{ip} pulled {image}, a schematic the factory was never told about")
        self._record("upgrade", ip)
        self.versions[ip] = match["version"] if match else self.versions.get(ip, "v1.11.2")
        self._disrupted(ip)

    def reboot(self, ip: str) -> None:
        self._record("reboot", ip)
        self._disrupted(ip)

    def reset(self, ip: str, graceful: bool = True, reboot: bool = False) -> None:
        self._record("reset", ip)

    def talosconfig_yaml(self, endpoints: Sequence[str], nodes: Sequence[str] = ()) -> Secret:
        return Secret("")


@dataclass
class ScriptedProxmox:
    talos: ScriptedTalos
    ips: dict[int, str]
    calls: list[tuple[str, int]] = field(default_factory=list)

    def reboot_vm(self, node: str, vmid: int) -> None:
        self.calls.append(("reboot_vm", vmid))
        self.talos._disrupted(self.ips[vmid])


@dataclass
class ScriptedKube:
    """The part of `KubeApi` the endpoint switch uses: whether the API server answers at the address asked."""

    ready: bool = True
    asked: int = 0

    def api_ready(self) -> bool:
        self.asked += 1
        return self.ready

    def close(self) -> None:
        return None


@dataclass
class Settings:
    boot_timeout: float = 2.0
    poll_seconds: float = 0.001
    flux_timeout: float = 2.0


@dataclass
class ScriptedConnections:
    """What a StepRunner reaches through `Connections`: the drivers, typed by their Protocols."""

    talos: TalosApi
    proxmox: ScriptedProxmox
    factory: ScriptedFactory
    settings: Settings = field(default_factory=Settings)
    kube_api: ScriptedKube = field(default_factory=ScriptedKube)
    kube_endpoints: list[str] = field(default_factory=list)  # every endpoint a Kubernetes client was made for

    def image_factory(self) -> _FactoryContext:
        return _FactoryContext(self.factory)

    def kube(self, endpoint: str) -> ScriptedKube:
        self.kube_endpoints.append(endpoint)
        return self.kube_api

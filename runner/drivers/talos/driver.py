"""Talos driver: every Talos API call goes through the `talosctl` CLI in a subprocess.

Each call writes a talosconfig (and, for apply, the machine config) into a fresh private directory
(0700, files 0600) inside the runner's one work root; it is removed when the call returns, and what a
killed process leaves there is swept when the next runner starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.core.errors import Permanent, Transient
from runner.core.secret import Redactor, Secret
from runner.core.state import TalosStage
from runner.drivers.talos import failures
from runner.drivers.talos.credentials import ClientCredentials, issue_admin_credentials, talosconfig_text
from runner.drivers.talos.etcd_backup import EtcdBackupCalls
from runner.drivers.talos.process import TalosctlResult, run_talosctl

log = logging.getLogger(__name__)
CONTEXT = "runner"
# MachineStatus stages (Talos runtime.MachineStage) folded into the runner's coarser view.
_STAGES: dict[str, TalosStage] = {
    "maintenance": "maintenance",
    "installing": "installing",
    "booting": "booting",
    "running": "running",
    "rebooting": "booting",
    "upgrading": "booting",
    "shuttingDown": "unreachable",
    "resetting": "unreachable",
}


@dataclass(frozen=True)
class EtcdMember:
    id: str  # 16 hex digits, as talosctl prints it
    hostname: str
    peer_urls: tuple[str, ...]

    @property
    def ip(self) -> str:
        return self.peer_urls[0].split("://", 1)[-1].rsplit(":", 1)[0].strip("[]") if self.peer_urls else ""


class TalosApi(Protocol):
    def apply_config(self, ip: str, config_yaml: Secret | str, insecure: bool, mode: str = "auto") -> str: ...
    def stage(self, ip: str) -> TalosStage: ...
    def bootstrap(self, ip: str) -> None: ...
    def etcd_members(self, ip: str) -> list[str]: ...
    def etcd_member_details(self, ip: str) -> list[EtcdMember]: ...
    def etcd_leave(self, ip: str) -> None: ...
    def etcd_remove_member(self, ip: str, member_id: str) -> None: ...
    def health(self, controllers: Sequence[str], workers: Sequence[str], timeout: float) -> None: ...
    def kubeconfig(self, ip: str) -> Secret: ...
    def version(self, ip: str) -> str: ...
    def machine_config(self, ip: str) -> Secret: ...
    def schematic(self, ip: str) -> str | None: ...
    def upgrade(self, ip: str, image: str, preserve: bool = False) -> None: ...
    def reboot(self, ip: str) -> None: ...
    def reset(self, ip: str, graceful: bool = True, reboot: bool = False) -> None: ...
    def talosconfig_yaml(self, endpoints: Sequence[str], nodes: Sequence[str] = ()) -> Secret: ...


class TalosctlDriver(EtcdBackupCalls):
    """`TalosApi` over a talosctl binary (the real one, or the lab's twin; the driver cannot tell)."""

    def __init__(
        self,
        ca_crt_pem: bytes,
        ca_key_pem: Secret,
        *,
        talosctl_path: str = "talosctl",
        timeout: float = 120.0,
        allowed_nodes: frozenset[str] | None = None,
    ) -> None:
        self.talosctl_path = talosctl_path
        self.allowed_nodes = allowed_nodes  # None: any; else the only addresses that get a talosconfig
        self.timeout = timeout
        self._ca_crt_pem, self._ca_key_pem = ca_crt_pem, ca_key_pem
        self._creds: ClientCredentials | None = None
        self._creds_lock = threading.Lock()
        self._secret_values = [ca_key_pem.reveal(), *ca_key_pem.reveal().splitlines()]

    # --- plumbing -------------------------------------------------------------------------------
    def _credentials(self) -> ClientCredentials:
        with self._creds_lock:
            now = dt.datetime.now(dt.UTC)
            if self._creds is None or self._creds.not_after - now < dt.timedelta(hours=1):
                self._creds = issue_admin_credentials(self._ca_crt_pem, self._ca_key_pem)
                key = self._creds.key_pem.reveal()
                self._secret_values += [key, *key.splitlines()]
            return self._creds

    def _run(
        self,
        ip: str,
        args: list[str],
        *,
        insecure: bool = False,
        files: dict[str, Secret] | None = None,
        timeout: float | None = None,
        extra_secrets: Sequence[str] = (),
    ) -> TalosctlResult:
        """talosctl against `ip` as both endpoint and node; secure calls get a fresh talosconfig."""
        if self.allowed_nodes is not None and ip not in self.allowed_nodes:
            raise Permanent(f"refusing to contact {ip}: it is not a node of the cluster's connection targets")
        files = dict(files or {})
        argv = []
        if not insecure:
            files["talosconfig"] = talosconfig_text(self._credentials(), [ip], [ip], CONTEXT)
            argv += ["--talosconfig", "{workdir}/talosconfig", "-e", ip]
        argv += ["-n", ip, *args]
        return run_talosctl(
            self.talosctl_path,
            argv,
            files=files,
            timeout=timeout or self.timeout,
            redact=Redactor([*self._secret_values, *extra_secrets]),
            what=f"talosctl {args[0]} on {ip}",
        )

    def _check(self, command: str, ip: str, result: TalosctlResult) -> None:
        if result.returncode != 0:
            raise failures.classify(command, ip, result.stderr, result.redact)

    def _call(self, ip: str, args: list[str], **kw: object) -> str:
        result = self._run(ip, args, **kw)  # type: ignore[arg-type]
        self._check(" ".join(a for a in args[:2] if not a.startswith("-")), ip, result)
        return result.stdout

    # --- TalosApi -------------------------------------------------------------------------------
    def apply_config(self, ip: str, config_yaml: Secret | str, insecure: bool, mode: str = "auto") -> str:
        config = config_yaml if isinstance(config_yaml, Secret) else Secret(config_yaml)
        args = ["apply-config", "--file", "{workdir}/machine.yaml", "--mode", mode]
        if insecure:
            args.append("--insecure")
        secrets = list(failures.config_secrets(config.reveal()))
        result = self._run(ip, args, insecure=insecure, files={"machine.yaml": config}, extra_secrets=secrets)
        self._check("apply-config", ip, result)
        return result.redact(result.stderr.strip())

    def stage(self, ip: str) -> TalosStage:
        """One secure `get machinestatus` for a configured node; a second, insecure one only if that
        fails the TLS handshake (a node in maintenance mode serves a self-signed certificate)."""
        result = self._run(ip, ["get", "machinestatus", "-o", "yaml"])
        if result.returncode == 0:
            return _stage_from_yaml(result.stdout)
        if failures.is_tls_failure(result.stderr):
            insecure = self._run(ip, ["get", "machinestatus", "--insecure", "-o", "yaml"], insecure=True)
            if insecure.returncode == 0:
                return _stage_from_yaml(insecure.stdout)
            self._check("get machinestatus", ip, result)
        error = failures.classify("get machinestatus", ip, result.stderr, result.redact)
        if isinstance(error, Transient):
            return "unreachable"
        raise error

    def bootstrap(self, ip: str) -> None:
        result = self._run(ip, ["bootstrap"])
        if result.returncode != 0 and "code = AlreadyExists" in result.stderr:
            log.info("etcd on %s is already bootstrapped", ip)
            return
        self._check("bootstrap", ip, result)

    def etcd_member_details(self, ip: str) -> list[EtcdMember]:
        out = self._call(ip, ["etcd", "members"])
        lines = [line.split() for line in out.splitlines() if line.strip()]
        if not lines:
            return []
        offset = 1 if lines[0][0] == "NODE" else 0
        return [EtcdMember(cols[offset], cols[offset + 1], tuple(cols[offset + 2].split(","))) for cols in lines[1:]]

    def etcd_members(self, ip: str) -> list[str]:
        """IP addresses of the etcd members, as seen from `ip`."""
        return [m.ip for m in self.etcd_member_details(ip)]

    def etcd_leave(self, ip: str) -> None:
        self._call(ip, ["etcd", "leave"])

    def etcd_remove_member(self, ip: str, member_id: str) -> None:
        self._call(ip, ["etcd", "remove-member", member_id])

    def health(self, controllers: Sequence[str], workers: Sequence[str], timeout: float) -> None:
        args = ["health", f"--wait-timeout={max(1, int(timeout))}s", "--server=false"]
        args += [f"--control-plane-nodes={','.join(controllers)}"]
        if workers:
            args += [f"--worker-nodes={','.join(workers)}"]
        self._call(controllers[0], args, timeout=timeout + 30)

    def kubeconfig(self, ip: str) -> Secret:
        result = self._run(ip, ["kubeconfig", "{workdir}/out-kubeconfig", "--force", "--merge=false"])
        self._check("kubeconfig", ip, result)
        if "out-kubeconfig" not in result.outputs:
            raise Permanent(f"talosctl kubeconfig on {ip} wrote no kubeconfig")
        return Secret(result.outputs["out-kubeconfig"])

    def version(self, ip: str) -> str:
        out = self._call(ip, ["version"])
        server = out.split("Server:", 1)[-1]
        for line in server.splitlines():
            if line.strip().startswith("Tag:"):
                return line.split(":", 1)[1].strip()
        raise Permanent(f"talosctl version on {ip}: no server version in the output")

    def machine_config(self, ip: str) -> Secret:
        out = self._call(ip, ["get", "machineconfig", "-o", "yaml"])
        try:
            docs = [d for d in YAML(typ="safe").load_all(out) if d]
        except YAMLError as e:
            raise Permanent(f"talosctl get machineconfig on {ip}: unreadable output") from e
        if not docs:
            raise Permanent(f"talosctl get machineconfig on {ip}: the node has no machine config")
        return Secret(str(docs[0]["spec"]))

    def schematic(self, ip: str) -> str | None:
        """The Image Factory schematic the node runs: the version of its `schematic` extension (None if not a
        factory image)."""
        out = self._call(ip, ["get", "extensions", "-o", "yaml"])
        try:
            docs = [d for d in YAML(typ="safe").load_all(out) if d]
        except YAMLError as e:
            raise Permanent(f"talosctl get extensions on {ip}: unreadable output") from e
        for doc in docs:
            meta = (doc.get("spec") or {}).get("metadata") or {}
            if meta.get("name") == "schematic":
                return str(meta.get("version"))
        return None

    def upgrade(self, ip: str, image: str, preserve: bool = False) -> None:
        self._call(ip, ["upgrade", "--image", image, "--wait=false", *(["--preserve"] if preserve else [])])

    def reboot(self, ip: str) -> None:
        self._call(ip, ["reboot", "--wait=false"])

    def reset(self, ip: str, graceful: bool = True, reboot: bool = False) -> None:
        self._call(
            ip, ["reset", f"--graceful={str(graceful).lower()}", f"--reboot={str(reboot).lower()}", "--wait=false"]
        )

    def talosconfig_yaml(self, endpoints: Sequence[str], nodes: Sequence[str] = ()) -> Secret:
        return talosconfig_text(self._credentials(), list(endpoints), list(nodes), CONTEXT)


def _stage_from_yaml(text: str) -> TalosStage:
    try:
        docs = [d for d in YAML(typ="safe").load_all(text) if d]
        stage = str(docs[0]["spec"]["stage"])
    except (YAMLError, LookupError, TypeError) as e:
        raise Permanent("talosctl get machinestatus: unreadable output") from e
    return _STAGES.get(stage, "booting")

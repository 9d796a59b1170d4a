"""Talos driver: every Talos API call goes through the `talosctl` CLI in a subprocess.

Each call writes a talosconfig (and, for apply, the machine config) into a fresh private directory
(0700, files 0600) inside the runner's one work root; it is removed when the call returns, and what a
killed process leaves there is swept when the next runner starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from runner.core.errors import Permanent, Transient
from runner.core.secret import Redactor, Secret
from runner.core.state import TalosStage
from runner.drivers.talos import batch, failures
from runner.drivers.talos.api import NodeConfig, NodeStatus
from runner.drivers.talos.clients import TalosctlClients
from runner.drivers.talos.credentials import ClientCredentials, issue_admin_credentials, talosconfig_text
from runner.drivers.talos.dry_run import DryRunCalls
from runner.drivers.talos.etcd_backup import EtcdBackupCalls
from runner.drivers.talos.etcd_calls import EtcdCalls
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


class TalosctlDriver(EtcdBackupCalls, EtcdCalls, DryRunCalls):
    """`TalosApi` over a talosctl binary (the real one, or the lab's twin; the driver cannot tell)."""

    def __init__(
        self,
        ca_crt_pem: bytes,
        ca_key_pem: Secret,
        *,
        talosctl_path: str = "talosctl",
        talosctl_paths: Mapping[tuple[int, int], str] | None = None,
        timeout: float = 120.0,
        allowed_nodes: frozenset[str] | None = None,
    ) -> None:
        self.talosctl_path = talosctl_path
        self.clients = TalosctlClients(talosctl_path, talosctl_paths)
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
        ip: str | Sequence[str],
        args: list[str],
        *,
        insecure: bool = False,
        files: dict[str, Secret] | None = None,
        timeout: float | None = None,
        extra_secrets: Sequence[str] = (),
    ) -> TalosctlResult:
        """talosctl with the node(s) `ip` as endpoints and nodes; secure calls get a fresh talosconfig.

        With several nodes talosctl balances over the endpoints that answer, so one that is down or in
        maintenance mode does not take the call with it."""
        ips = [ip] if isinstance(ip, str) else list(ip)
        refused = [n for n in ips if self.allowed_nodes is not None and n not in self.allowed_nodes]
        if refused:
            raise Permanent(f"refusing to contact {refused[0]}: it is not a node of the cluster's connection targets")
        files = dict(files or {})
        argv = []
        if not insecure:
            files["talosconfig"] = talosconfig_text(self._credentials(), ips, ips, CONTEXT)
            argv += ["--talosconfig", "{workdir}/talosconfig", "-e", ",".join(ips)]
        argv += ["-n", ",".join(ips), *args]
        return run_talosctl(
            self.clients.path(ips),
            argv,
            files=files,
            timeout=timeout or self.timeout,
            redact=Redactor([*self._secret_values, *extra_secrets]),
            what=f"talosctl {args[0]} on {', '.join(ips)}",
        )

    def _check(self, command: str, ip: str, result: TalosctlResult) -> None:
        if result.returncode != 0:
            raise failures.classify(command, ip, result.stderr, result.redact)

    def _call(self, ip: str, args: list[str], **kw: object) -> str:
        result = self._run(ip, args, **kw)  # type: ignore[arg-type]
        self._check(" ".join(a for a in args[:2] if not a.startswith("-")), ip, result)
        return result.stdout

    # --- TalosApi: observation, several nodes per talosctl run -----------------------------------
    def statuses(self, ips: Sequence[str]) -> dict[str, NodeStatus]:
        """One secure `get machinestatus` for all; a node it misses is asked on its own (insecure too, if
        it refused our certificate: maintenance mode), so only nodes that are not running cost extra."""
        if not ips:
            return {}
        command = "get machinestatus"
        result, asked, failed = self._get_run(command, ips, ["get", "machinestatus", "-o", "json"], tls_may_pass=True)
        docs = batch.by_node(command, result, asked)
        out = {ip: _status(docs[ip][0]) for ip in asked if ip in docs}
        missing = [ip for ip in asked if ip not in out]
        if missing:
            failed |= batch.failures_of(command, result, missing, tls_may_pass=True)
        for ip in ips:
            if ip not in out:
                # Without any output the first node may have failed the whole run: ask each on its own.
                ask = failed[ip].tls or not docs
                out[ip] = NodeStatus(self.stage(ip) if ask else "unreachable")
        return out

    def _get_run(
        self, command: str, ips: Sequence[str], args: list[str], *, tls_may_pass: bool = False
    ) -> tuple[TalosctlResult, list[str], dict[str, batch.NodeFailure]]:
        """`talosctl get` over `ips`: the run, the nodes it covered, and the leading nodes left out.

        talosctl resolves the resource type on the first node before it lists any, so a first node that
        does not answer (a controller that crashed: the bootstrap controller leads every list) would
        leave every other node unread. Such a node's failure is its own; the rest are asked without it."""
        left_out: dict[str, batch.NodeFailure] = {}
        asked = list(ips)
        while True:
            result = self._run(asked, args)
            lead = batch.lead_failure(command, result, asked, tls_may_pass=tls_may_pass)
            if lead is None:
                return result, asked, left_out
            left_out[asked[0]] = lead
            asked = asked[1:]

    def versions(self, ips: Sequence[str]) -> dict[str, str]:
        if not ips:
            return {}
        result = self._run(ips, ["version"])
        found = batch.version_blocks(result.stdout)
        self.clients.learn(found)
        self._raise_permanent("version", result, [ip for ip in ips if ip not in found])
        return {ip: found[ip] for ip in ips if ip in found}

    def schematics(self, ips: Sequence[str]) -> dict[str, str | None]:
        """The version of each node's `schematic` extension (None if not a factory image)."""
        docs, answered = self._get_many(ips, ["get", "extensions", "-o", "json"])
        out: dict[str, str | None] = {}
        for ip in answered:
            names = {d["spec"]["metadata"].get("name"): d["spec"]["metadata"] for d in docs.get(ip, [])}
            out[ip] = str(names["schematic"].get("version")) if "schematic" in names else None
        return out

    def config_versions(self, ips: Sequence[str]) -> dict[str, int]:
        if not ips:
            return {}
        result, asked, _ = self._get_run("get machineconfig", ips, ["get", "machineconfig"])  # versions only
        found = batch.table_versions(result.stdout)
        self._raise_permanent("get machineconfig", result, [ip for ip in asked if ip not in found])
        return {ip: found[ip] for ip in asked if ip in found}

    def machine_configs(self, ips: Sequence[str]) -> dict[str, NodeConfig]:
        docs, answered = self._get_many(ips, ["get", "machineconfig", "-o", "json"])
        return {
            ip: NodeConfig(int(docs[ip][0]["metadata"]["version"]), Secret(str(docs[ip][0]["spec"])))
            for ip in answered
            if docs.get(ip)
        }

    def _get_many(self, ips: Sequence[str], args: list[str]) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
        """Resources by node, and the nodes that answered (a node with no such resource prints nothing)."""
        if not ips:
            return {}, []
        command = " ".join(args[:2])
        result, asked, _ = self._get_run(command, ips, args)
        docs = batch.by_node(command, result, asked)
        if result.returncode == 0:
            return docs, asked
        batch.failures_of(command, result, [ip for ip in asked if ip not in docs])  # raises what will not pass
        return docs, [ip for ip in asked if ip in docs]

    def _raise_permanent(self, command: str, result: TalosctlResult, missing: list[str]) -> None:
        if missing and (result.returncode != 0 or result.stderr.strip()):
            batch.failures_of(command, result, missing)

    # --- TalosApi: one node -----------------------------------------------------------------------
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

    def version(self, ip: str) -> str:
        out = self._call(ip, ["version"])
        server = out.split("Server:", 1)[-1]
        for line in server.splitlines():
            if line.strip().startswith("Tag:"):
                tag = line.split(":", 1)[1].strip()
                self.clients.learn({ip: tag})
                return tag
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

    def bootstrap_manifests(self, ip: str) -> list[dict[str, Any]]:
        """The Kubernetes objects a controller renders as bootstrap manifests (`talosctl get manifests`), in
        manifest id order: what `talosctl upgrade-k8s` re-applies (they can hold the bootstrap token: never
        log them)."""
        out = self._call(ip, ["get", "manifests", "-o", "yaml"])
        try:
            docs = [d for d in YAML(typ="safe").load_all(out) if d]
        except YAMLError as e:
            raise Permanent(f"talosctl get manifests on {ip}: unreadable output") from e
        ordered = sorted(docs, key=lambda d: str((d.get("metadata") or {}).get("id", "")))
        return [obj for d in ordered for obj in d.get("spec") or [] if isinstance(obj, dict)]

    def upgrade(self, ip: str, image: str, preserve: bool = False) -> None:
        """Start the upgrade and return (the runner waits, and has drained the node itself before).

        From v1.13 talosctl drains the node client-side by default and then always waits (`--drain` forces
        `--wait`; upgrade.go@v1.13.9). The runner keeps its own drain: it honours PodDisruptionBudgets with its
        drain timeout, shows in the plan, and survives a runner restart; so it passes `--drain=false`, which
        earlier talosctl does not know (an unknown flag there)."""
        drain = ["--drain=false"] if self.clients.client_minor(self.clients.path([ip])) >= (1, 13) else []
        args = ["upgrade", "--image", image, "--wait=false", *drain, *(["--preserve"] if preserve else [])]
        self._call(ip, args)

    def talosconfig_yaml(self, endpoints: Sequence[str], nodes: Sequence[str] = ()) -> Secret:
        return talosconfig_text(self._credentials(), list(endpoints), list(nodes), CONTEXT)


def _status(doc: dict[str, Any]) -> NodeStatus:
    try:
        stage = str(doc["spec"]["stage"])
        booted = doc.get("metadata", {}).get("created")
    except (LookupError, TypeError) as e:
        raise Permanent("talosctl get machinestatus: unreadable output") from e
    return NodeStatus(_STAGES.get(stage, "booting"), str(booted) if booted else None)


def _stage_from_yaml(text: str) -> TalosStage:
    try:
        docs = [d for d in YAML(typ="safe").load_all(text) if d]
        stage = str(docs[0]["spec"]["stage"])
    except (YAMLError, LookupError, TypeError) as e:
        raise Permanent("talosctl get machinestatus: unreadable output") from e
    return _STAGES.get(stage, "booting")

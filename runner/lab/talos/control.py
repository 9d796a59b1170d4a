"""HTTP control server of the Talos node twins: the lab drives power and faults, talosctl makes calls.

Routes:
  POST /nodes                 {ip, hostname?, version?}          register a node IP
  GET  /nodes                                                    every node's phase, version, etcd state
  POST /nodes/{ip}/power      {on: bool}                         the VM started / stopped
  POST /nodes/{ip}/faults     {stuck_in_maintenance?, no_return_after_reboot?, latency?}
  POST /rpc                   a talosctl call (see `RpcRequest`); answers {ok, results | error}
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from runner.lab.serve import RunningServer, Served, serve_in_thread
from runner.lab.talos import api, machineconfig, maintenance, pki, rpc
from runner.lab.talos.lab import ClientCreds, TalosLab
from runner.lab.talos.node import Delays, NodeFaults, SimNode


class RegisterBody(BaseModel):
    ip: str
    hostname: str | None = None
    version: str = "v1.11.2"


class PowerBody(BaseModel):
    on: bool


class FaultsBody(BaseModel):
    stuck_in_maintenance: bool = False
    no_return_after_reboot: bool = False
    latency: float = 0.0
    etcd_snapshot_fails: bool = False
    late_replies: dict[str, float] = {}


class RpcRequest(BaseModel):
    method: str
    endpoint: str
    nodes: list[str]
    endpoints: list[str] = []
    insecure: bool = False
    ca_pem: str | None = None
    crt_pem: str | None = None
    key_pem: str | None = None
    params: dict[str, Any] = {}


class ClientSideError(Exception):
    """Fails before dialing, in the client (talosctl prints it without an rpc error wrapper)."""


def node_summary(lab: TalosLab, ip: str) -> dict[str, Any]:
    node = lab.nodes[ip]
    return {
        "ip": ip,
        "hostname": node.hostname,
        "phase": node.phase,
        "version": node.version,
        "installer_image": node.installer_image,
        "machine_type": node.config.machine_type if node.config else None,
        "etcd_member": lab.member_of(node) is not None,
        "faults": asdict(node.faults),
    }


def _dispatch(lab: TalosLab, req: RpcRequest) -> list[Any]:
    creds = ClientCreds()
    if not req.insecure:
        if not (req.crt_pem and req.key_pem):
            raise ClientSideError("error constructing client: tls: failed to find any PEM data in certificate input")
        try:
            cert, key = pki.load_certificate(req.crt_pem), pki.load_private_key(req.key_pem)
            ca = pki.load_certificate(req.ca_pem) if req.ca_pem else None
        except ValueError as e:
            raise ClientSideError(f"error constructing client: tls: failed to parse key pair: {e}") from e
        if not pki.key_matches(cert, key):
            raise ClientSideError("error constructing client: tls: private key does not match public key")
        creds = ClientCreds(ca=ca, cert=cert)
    endpoint = _ready_endpoint(lab, req.endpoints or [req.endpoint], creds)
    call = api.Call(req.method, endpoint.ip, req.nodes, creds, req.params)
    if req.insecure:
        return [maintenance.call(lab, endpoint, call)]
    return api.secure_call(lab, endpoint, call)


def _ready_endpoint(lab: TalosLab, endpoints: list[str], creds: ClientCreds) -> SimNode:
    """gRPC's round_robin balancer sends a call to an endpoint whose connection is ready; when none is,
    the call fails with the last connection error."""
    failure: rpc.TransportError | None = None
    for ip in endpoints:
        try:
            return lab.connect(ip, creds)
        except rpc.TransportError as e:
            failure = e
    assert failure is not None
    raise failure


def create_app(lab: TalosLab) -> FastAPI:
    app = FastAPI(title="Talos node twins")

    @app.post("/nodes")
    def register(body: RegisterBody) -> dict[str, Any]:
        lab.register(body.ip, body.hostname, body.version)
        return node_summary(lab, body.ip)

    @app.get("/nodes")
    def list_nodes() -> list[dict[str, Any]]:
        lab.advance()
        with lab.lock:
            return [node_summary(lab, ip) for ip in sorted(lab.nodes)]

    @app.post("/nodes/{ip}/power")
    def power(ip: str, body: PowerBody) -> dict[str, Any]:
        lab.power(ip, body.on)
        return node_summary(lab, ip)

    @app.post("/nodes/{ip}/faults")
    def faults(ip: str, body: FaultsBody) -> dict[str, Any]:
        lab.set_faults(ip, NodeFaults(**body.model_dump()))
        return node_summary(lab, ip)

    @app.post("/rpc")
    def call(req: RpcRequest) -> dict[str, Any]:
        # Latency is served outside the lock so a slow node does not stall the others.
        target = lab.nodes.get(req.endpoint)
        if target is not None and target.faults.latency:
            time.sleep(target.faults.latency)
        lab.advance()
        with lab.lock:
            lab.rpc_log.append((req.method, req.endpoint, bool(req.params.get("dry_run"))))
            try:
                results = _dispatch(lab, req)
            except api.NodeError as e:
                return {"ok": False, "node": e.node, "error": e.error.to_json()}
            except (rpc.RpcError, rpc.TransportError) as e:
                return {"ok": False, "node": None, "error": e.to_json()}
            except ClientSideError as e:
                return {"ok": False, "node": None, "error": {"kind": "client", "desc": str(e)}}
            lab.advance()
        if target is not None and (late := target.faults.late_replies.get(req.method)):
            time.sleep(late)  # the node has acted; its answer is slow to come back
        return {"ok": True, "results": results}

    return app


@dataclass
class TalosTwin(Served):
    """A running control server plus direct Python access to the same lab (for tests and `runner lab`)."""

    lab: TalosLab
    server: RunningServer

    def register(self, ip: str, hostname: str | None = None, version: str = "v1.11.2") -> None:
        self.lab.register(ip, hostname, version)

    def power(self, ip: str, on: bool = True) -> None:
        self.lab.power(ip, on)

    def set_faults(self, ip: str, **faults: Any) -> None:
        self.lab.set_faults(ip, NodeFaults(**faults))

    def preinstall(self, ip: str, config_yaml: str, hostname: str | None = None, version: str | None = None) -> None:
        """Start `ip` as an installed, configured, running node (no boot or install wait). A new node runs
        `version`, else the release its config's installer image names (what installing it would have put there)."""
        release = version or machineconfig.installer_version(config_yaml)
        with self.lab.lock:
            node = self.lab.register(ip, hostname, **({"version": release} if release else {}))
            node.config = machineconfig.load(config_yaml, node.version)
            node.installed, node.phase, node.deadline = True, "running", None
            node.versions_run = [node.version]
        self.lab.advance()

    def phase(self, ip: str) -> str:
        self.lab.advance()
        return self.lab.nodes[ip].phase


def start_talos_twin(delays: Delays | None = None, port: int | None = None) -> TalosTwin:
    lab = TalosLab(delays)
    return TalosTwin(lab=lab, server=serve_in_thread(create_app(lab), port=port))

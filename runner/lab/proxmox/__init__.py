"""A faithful twin of the Proxmox VE API (PVE 8/9) for the lab and tests.

state = ProxmoxTwinState(tokens={"root@pam!runner": "<uuid>"})
twin = serve_proxmox_twin(state, cert_dir)   # https://127.0.0.1:<port>, cert at twin.ca_bundle
...
twin.stop()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.lab.proxmox.app import create_app
from runner.lab.proxmox.faults import Call, Fault
from runner.lab.proxmox.images import ImageResolver, deterministic_image, fake_qcow2
from runner.lab.proxmox.reason import ReasonPhraseH11Protocol
from runner.lab.proxmox.state import Delays, ProxmoxTwinState, Storage, Vm, Volume
from runner.lab.proxmox.tls import write_self_signed
from runner.lab.serve import RunningServer, Served, serve_in_thread

__all__ = [
    "Call",
    "Delays",
    "Fault",
    "ImageResolver",
    "ProxmoxTwin",
    "ProxmoxTwinState",
    "ReasonPhraseH11Protocol",
    "Storage",
    "Vm",
    "Volume",
    "create_app",
    "deterministic_image",
    "fake_qcow2",
    "serve_proxmox_twin",
]


@dataclass
class ProxmoxTwin(Served):
    state: ProxmoxTwinState
    server: RunningServer
    ca_bundle: Path


def serve_proxmox_twin(
    state: ProxmoxTwinState | None, cert_dir: Path, *, host: str = "127.0.0.1", port: int | None = None
) -> ProxmoxTwin:
    """Serve the twin over HTTPS on loopback with a fresh self-signed certificate written to `cert_dir`."""
    state = state or ProxmoxTwinState()
    certs = write_self_signed(cert_dir)
    server = serve_in_thread(
        create_app(state),
        host=host,
        port=port,
        certfile=certs.certfile,
        keyfile=certs.keyfile,
        http=ReasonPhraseH11Protocol,
    )
    return ProxmoxTwin(state, server, certs.certfile)

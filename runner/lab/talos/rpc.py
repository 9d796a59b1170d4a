"""How the node twins fail: gRPC status errors and transport (dial/TLS) errors, worded like Talos.

Both travel from the control server to the fake `talosctl` as JSON and are printed by it in the
exact shape the real client prints (`rpc error: code = X desc = Y`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_PORT = 50000  # apid / maintenance service port on every Talos node


@dataclass
class RpcError(Exception):
    """A gRPC status returned by the node itself (machined / maintenance service)."""

    code: str  # gRPC code name as Go prints it: AlreadyExists, FailedPrecondition, ...
    desc: str

    def __str__(self) -> str:
        return f"rpc error: code = {self.code} desc = {self.desc}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "rpc", "code": self.code, "desc": self.desc}


@dataclass
class TransportError(Exception):
    """The call never reached the API: dial failure or TLS handshake failure (gRPC code Unavailable)."""

    desc: str

    def __str__(self) -> str:
        return f'rpc error: code = Unavailable desc = connection error: desc = "{self.desc}"'

    def to_json(self) -> dict[str, Any]:
        return {"kind": "transport", "code": "Unavailable", "desc": self.desc}


def connection_refused(ip: str) -> TransportError:
    return TransportError(f"transport: Error while dialing: dial tcp {ip}:{API_PORT}: connect: connection refused")


def no_route(ip: str) -> TransportError:
    return TransportError(f"transport: Error while dialing: dial tcp {ip}:{API_PORT}: connect: no route to host")


def unknown_authority() -> TransportError:
    # What the client sees when the node's certificate is not signed by the talosconfig CA
    # (a node in maintenance mode serves a self-signed certificate).
    return TransportError(
        "transport: authentication handshake failed: tls: failed to verify certificate: "
        "x509: certificate signed by unknown authority"
    )


def bad_certificate() -> TransportError:
    # The node rejected the client certificate (not signed by its OS CA).
    return TransportError("error reading server preface: remote error: tls: bad certificate")


def certificate_required() -> TransportError:
    # An insecure (no client certificate) connection to a node that runs the secure API.
    return TransportError("error reading server preface: remote error: tls: certificate required")


def unimplemented_in_maintenance() -> RpcError:
    return RpcError("Unimplemented", "API is not implemented in maintenance mode")


def not_authorized() -> RpcError:
    return RpcError("PermissionDenied", "not authorized")

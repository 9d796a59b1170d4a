"""The siderolabs/tailscale system extension on a simulated node, and the login server it registers with.

The extension runs containerboot with its state in /var/lib/tailscale (siderolabs/extensions
`network/tailscale/tailscale.yaml` @v1.11.2). /var is EPHEMERAL: kept across reboots and upgrades (from
Talos 1.8 `upgrade` always preserves it), lost on `reset` and on a fresh install. containerboot runs
`tailscale up --authkey=$TS_AUTHKEY` at every start unless TS_AUTH_ONCE is true and the saved state is
already logged in (tailscale/tailscale `cmd/containerboot/main.go`; the extension's README: "If false (the
default ...), forcibly log in every time the container starts").

The login server is headscale. A registration looks the key up ("AuthKey not found") and validates it
(`hscontrol/types/preauth_key.go` `Validate`): a single-use key already used is refused with "authkey
already used". From v0.27.1 a node re-registering with the node key it holds skips the validation
(`hscontrol/state/state.go`, #2830); the twin imitates v0.27.0 unless told otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

EXTENSION = "siderolabs/tailscale"
SERVICE = "tailscale"  # the ExtensionServiceConfig's name (service ext-tailscale)
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # Go's strconv.ParseBool, which containerboot's defaultBool uses


@dataclass
class PreAuthKey:
    reusable: bool = False
    used: bool = False


@dataclass(frozen=True)
class Login:
    hostname: str
    node_key: str
    error: str | None  # None: registered


@dataclass
class Tailnet:
    """A headscale server: its pre-auth keys, the nodes registered with it, and every login attempt."""

    version: tuple[int, int, int] = (0, 27, 0)
    keys: dict[str, PreAuthKey] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)  # node key -> the auth key it registered with
    logins: list[Login] = field(default_factory=list)

    def issue(self, key: str, reusable: bool = False) -> None:
        self.keys[key] = PreAuthKey(reusable=reusable)

    def register(self, hostname: str, node_key: str, auth_key: str) -> str | None:
        """`tailscale up --authkey`: None when the node is registered, else headscale's error."""
        error = self._check(node_key, auth_key)
        if error is None:
            pak = self.keys[auth_key]
            pak.used = True
            self.nodes[node_key] = auth_key
        self.logins.append(Login(hostname, node_key, error))
        return error

    def _check(self, node_key: str, auth_key: str) -> str | None:
        pak = self.keys.get(auth_key)
        if pak is None:
            return "AuthKey not found"
        if self.version >= (0, 27, 1) and self.nodes.get(node_key) == auth_key:
            return None  # the same node re-registering: the key was only needed the first time
        if not pak.reusable and pak.used:
            return "authkey already used"
        return None


def environment(documents: list[dict[str, Any]]) -> dict[str, str] | None:
    """The tailscale ExtensionServiceConfig's environment, or None when the config has none."""
    for doc in documents:
        if doc.get("kind") == "ExtensionServiceConfig" and doc.get("name") == SERVICE:
            pairs = (str(entry).partition("=") for entry in doc.get("environment") or [])
            return {name: value for name, _, value in pairs}
    return None


@dataclass
class TailscaleState:
    """/var/lib/tailscale on one node, and how the service's last start went."""

    node_key: str | None = None  # set once logged in; survives reboots and upgrades
    error: str | None = None  # why this boot's login failed (containerboot exits, restarts, fails again)


def start(tailnet: Tailnet, state: TailscaleState, hostname: str, env: dict[str, str]) -> None:
    """One start of containerboot (each boot of the node)."""
    auth_key = env.get("TS_AUTHKEY") or env.get("TS_AUTH_KEY") or ""
    if env.get("TS_AUTH_ONCE", "") in _TRUE and state.node_key is not None:
        state.error = None  # logged in already: `tailscale up` is not run
        return
    if not auth_key:
        state.error = "NeedsLogin"  # no key: tailscaled waits for an interactive login that never comes
        return
    node_key = state.node_key or uuid.uuid4().hex  # a fresh state makes a fresh key
    refused = tailnet.register(hostname, node_key, auth_key)
    state.error = refused
    if refused is None:
        state.node_key = node_key

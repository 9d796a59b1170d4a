"""The decrypted secrets file of a cluster, as typed values that never print themselves.

Layout of `clusters/<name>/secrets.sops.yaml` (every value SOPS-encrypted):

    proxmox: {tokenId: user@realm!tokenid, tokenSecret: <uuid>}
    tailscale: {authKey: <key>}
    flux:
      ageKey: AGE-SECRET-KEY-1...   # the Flux key: handed to Flux as sops-age; opens flux/**.sops.yaml only
      gitUsername: <user>           # optional: only for a private repository
      gitPassword: <token>
    talos: <the `talosctl gen secrets` bundle: cluster, secrets, trustdinfo, certs>
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.core.errors import Problem, SpecInvalid
from runner.core.secret import Secret, secret_values

TOKEN_ID_RE = re.compile(r"^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ClusterSecrets:
    proxmox_token_id: str
    proxmox_token_secret: Secret
    tailscale_auth_key: Secret | None
    git_username: str | None
    git_password: Secret | None
    talos: dict[str, Any] | None  # the bundle as a mapping; leaves are Secret where sensitive
    flux_age_key: Secret | None = None  # the Flux key's private half (never the runner's own key)

    def values(self) -> list[str]:
        """Every secret string, for the redactor."""
        out = [self.proxmox_token_secret.reveal()]
        if self.tailscale_auth_key:
            out.append(self.tailscale_auth_key.reveal())
        if self.git_password:
            out.append(self.git_password.reveal())
        if self.flux_age_key:
            out.append(self.flux_age_key.reveal())
        out += list(secret_values(self.talos or {}))
        return [v for v in out if v]


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _wrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return Secret(str(value)) if value is not None else None


def parse_secrets(data: dict[str, Any], file: str) -> ClusterSecrets:
    """Turn decrypted JSON into ClusterSecrets; every missing or malformed field is reported at once."""
    problems: list[Problem] = []

    def need(section: str, key: str) -> Any:
        value = (data.get(section) or {}).get(key)
        if value in (None, ""):
            problems.append(Problem(file, None, None, f"{section}.{key}", "required secret is missing"))
        return value

    token_id = need("proxmox", "tokenId")
    token_secret = need("proxmox", "tokenSecret")
    if token_id and not TOKEN_ID_RE.match(str(token_id)):
        problems.append(Problem(file, None, None, "proxmox.tokenId", "expected the form user@realm!tokenid"))
    tailscale = (data.get("tailscale") or {}).get("authKey")
    flux = data.get("flux") or {}
    age_key = str(flux.get("ageKey") or "").strip()
    if age_key and not age_key.startswith("AGE-SECRET-KEY-1"):
        problems.append(Problem(file, None, None, "flux.ageKey", "expected an age identity (AGE-SECRET-KEY-1...)"))
    if problems:
        raise SpecInvalid(problems)
    return ClusterSecrets(
        proxmox_token_id=str(token_id),
        proxmox_token_secret=Secret(str(token_secret)),
        tailscale_auth_key=Secret(str(tailscale)) if tailscale else None,
        git_username=str(flux["gitUsername"]) if flux.get("gitUsername") else None,
        git_password=Secret(str(flux["gitPassword"])) if flux.get("gitPassword") else None,
        talos=_wrap(data["talos"]) if data.get("talos") else None,
        flux_age_key=Secret(age_key) if age_key else None,
    )

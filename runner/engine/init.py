"""`runner init`: an age key, the Talos secrets bundle, and an encrypted secrets file for a new cluster."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from runner.core.errors import SecretsError
from runner.core.secret import Secret
from runner.core.talos import bundle_from_yaml, bundle_to_dict, generate_bundle
from runner.drivers.age import AgeKey, find_or_create_key
from runner.drivers.sops import SopsCli

PLACEHOLDER = "REPLACE-ME"
SOPS_CONFIG = """\
# SOPS creation rules: every value of a cluster's secrets file is encrypted to these age recipients.
creation_rules:
  - path_regex: clusters/[^/]+/secrets\\.sops\\.yaml$
    age: {recipient}
  - path_regex: flux/.*\\.sops\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: {recipient}
"""


@dataclass(frozen=True)
class InitResult:
    secrets_file: Path
    key: AgeKey
    key_created: bool
    sops_config_created: bool
    imported_bundle: bool


def _ensure_sops_config(root: Path, key: AgeKey) -> bool:
    config = root / ".sops.yaml"
    if not config.exists():
        config.write_text(SOPS_CONFIG.format(recipient=key.public))
        return True
    if key.public not in config.read_text():
        raise SecretsError(
            f"{config}: the age key {key.path} ({key.public}) is not a recipient; add it to the creation rule "
            "for clusters/*/secrets.sops.yaml, or point SOPS_AGE_KEY_FILE at a key that is"
        )
    return False


def init_cluster(
    root: Path,
    name: str,
    *,
    key_file: Path | None = None,
    talos_secrets: Path | None = None,
    proxmox_token_id: str | None = None,
    proxmox_token_secret: Secret | None = None,
    tailscale_auth_key: Secret | None = None,
    now: datetime.datetime | None = None,
) -> InitResult:
    target = root / "clusters" / name / "secrets.sops.yaml"
    if target.exists():
        raise SecretsError(f"{target.relative_to(root)}: already exists; refusing to overwrite existing secrets")
    if talos_secrets is not None:
        try:
            bundle = bundle_from_yaml(talos_secrets.read_text(), source=str(talos_secrets))
        except OSError as exc:
            raise SecretsError(f"{talos_secrets}: cannot read: {exc.strerror}") from None
    else:
        bundle = generate_bundle(now or datetime.datetime.now(datetime.UTC))
    # Everything that can fail on bad input runs before the first file is written.
    key, created = find_or_create_key(key_file)
    sops_created = _ensure_sops_config(root, key)
    document = {
        "proxmox": {
            "tokenId": proxmox_token_id or "runner@pve!gitops",
            "tokenSecret": proxmox_token_secret.reveal() if proxmox_token_secret else PLACEHOLDER,
        },
        "tailscale": {"authKey": tailscale_auth_key.reveal() if tailscale_auth_key else PLACEHOLDER},
        "talos": bundle_to_dict(bundle),
    }
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(document, buffer)
    rel = str(target.relative_to(root))
    encrypted = SopsCli(age_key_file=key.path).encrypt(buffer.getvalue(), rel, root / ".sops.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(encrypted)
    return InitResult(target, key, created, sops_created, talos_secrets is not None)

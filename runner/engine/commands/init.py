"""`runner init`: two age keys, the Talos secrets bundle, and an encrypted secrets file for a new cluster.

An existing cluster's bundle is imported from talosctl's secrets.yaml, Terraform's talos_machine_secrets
(or `terraform output -json`) or a controlplane machine config (core/talos/bundle_sources).

The runner's key (found or created where sops looks) opens the machine secrets and stays on the runner's
host. The cluster's Flux key (created, or read from a given file) is what Flux gets as its sops-age
Secret; its private half goes into the secrets file, encrypted to the runner's key, and flux/**.sops.yaml
are encrypted to it (and to the runner's key, so people can still edit them). Never the other way round.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from runner.core.errors import SecretsError
from runner.core.secret import Secret
from runner.core.talos import bundle_to_dict, generate_bundle
from runner.core.talos.bundle_sources import bundle_from_source
from runner.drivers.age import AgeKey, find_or_create_key, new_identity, read_key
from runner.drivers.sops import SopsCli
from runner.engine.commands.rotate import PROBE, flux_recipient_swap
from runner.engine.reconcile import sops_files
from runner.engine.reconcile.flux_key import check_flux_key

PLACEHOLDER = "REPLACE-ME"
SOPS_CONFIG = """\
# SOPS creation rules, two age keys: the machine secrets open only with the runner's key, which never
# leaves the runner's host; flux/ files open with the Flux key (the cluster's sops-age Secret) and the
# runner's (operator's) key. Never add a Flux key to the first rule.
creation_rules:
  - path_regex: clusters/[^/]+/secrets\\.sops\\.yaml$
    age: {recipient}
  - path_regex: flux/.*\\.sops\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: {flux_recipient},{recipient}
"""


@dataclass(frozen=True)
class InitResult:
    secrets_file: Path
    key: AgeKey
    key_created: bool
    sops_config_created: bool
    imported_bundle: bool
    flux_recipient: str = ""
    flux_recipient_in_spec: bool = False  # written into cluster.yaml (else the operator adds it)


def _sops_config(root: Path, rel: str, key: AgeKey, flux_recipient: str) -> str | None:
    """The new `.sops.yaml` text (None: leave it as it is); refuses before anything is written."""
    config = root / ".sops.yaml"
    if not config.exists():
        return SOPS_CONFIG.format(recipient=key.public, flux_recipient=flux_recipient)
    text = config.read_text()
    machine = sops_files.rule_for(sops_files.creation_rules(text), rel)
    if machine is None or key.public not in machine.recipients:
        raise SecretsError(
            f"{config}: the age key {key.path} ({key.public}) is not a recipient; add it to the creation rule "
            "for clusters/*/secrets.sops.yaml, or point SOPS_AGE_KEY_FILE at a key that is"
        )
    if flux_recipient in machine.recipients:
        raise SecretsError(f"{config}: the Flux key {flux_recipient} must not be a recipient of {rel}")
    if sops_files.rule_for(sops_files.creation_rules(text), PROBE) is None:
        return None  # no rule for flux/ files yet: nothing to add the Flux recipient to
    return flux_recipient_swap(root, rel, None, flux_recipient)


def _flux_key(path: Path | None, runner_key: AgeKey) -> tuple[str, Secret]:
    if path is None:
        return new_identity()
    key = read_key(path)
    if key.public == runner_key.public:
        raise SecretsError(f"{path}: the Flux key must not be the runner's key (Flux would open the machine secrets)")
    return key.public, key.private


def _declare_in_spec(spec: Path, flux_recipient: str) -> bool:
    """Set flux.ageRecipient in an existing cluster.yaml that has a flux section."""
    if not spec.exists():
        return False
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    doc = yaml.load(spec.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("flux"), dict):
        return False
    doc["flux"]["ageRecipient"] = flux_recipient
    out = io.StringIO()
    yaml.dump(doc, out)
    spec.write_text(out.getvalue())
    return True


def init_cluster(
    root: Path,
    name: str,
    *,
    key_file: Path | None = None,
    flux_key_file: Path | None = None,
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
            bundle = bundle_from_source(talos_secrets.read_text(), source=str(talos_secrets))
        except OSError as exc:
            raise SecretsError(f"{talos_secrets}: cannot read: {exc.strerror}") from None
    else:
        bundle = generate_bundle(now or datetime.datetime.now(datetime.UTC))
    # Everything that can fail on bad input runs before the first file is written.
    key, created = find_or_create_key(key_file)
    rel = str(target.relative_to(root))
    flux_recipient, flux_private = _flux_key(flux_key_file, key)
    sops_config = _sops_config(root, rel, key, flux_recipient)
    sops_created = not (root / ".sops.yaml").exists()
    if sops_config is not None:
        (root / ".sops.yaml").write_text(sops_config)
    document = {
        "proxmox": {
            "tokenId": proxmox_token_id or "runner@pve!gitops",
            "tokenSecret": proxmox_token_secret.reveal() if proxmox_token_secret else PLACEHOLDER,
        },
        "tailscale": {"authKey": tailscale_auth_key.reveal() if tailscale_auth_key else PLACEHOLDER},
        "talos": bundle_to_dict(bundle),
        "flux": {"ageKey": flux_private.reveal()},
    }
    buffer = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(document, buffer)
    encrypted = SopsCli(age_key_file=key.path).encrypt(buffer.getvalue(), rel, root / ".sops.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(encrypted)
    check_flux_key(flux_private, flux_recipient, encrypted.encode(), rel, name)
    in_spec = _declare_in_spec(root / "clusters" / name / "cluster.yaml", flux_recipient)
    return InitResult(target, key, created, sops_created, talos_secrets is not None, flux_recipient, in_spec)

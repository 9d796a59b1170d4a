"""Key separation: the age key Flux holds opens `flux/**.sops.yaml` and never the machine secrets.

A repository has two kinds of age key. The runner's key opens `clusters/<name>/secrets.sops.yaml` (the
Talos CAs, the bootstrap token, the Proxmox token) and never leaves the runner's host. Each cluster's Flux
key (public half: `flux.ageRecipient` in cluster.yaml; private half: `flux.ageKey` inside the secrets file)
is the one handed to Flux as the sops-age Secret, so anyone who can read Secrets in `flux-system` opens
only what Flux itself needs. The checks read only plaintext SOPS metadata unless a key is given.
"""

from __future__ import annotations

from pathlib import Path

from runner.core.cluster_secrets import parse_secrets
from runner.core.errors import SecretsError, SpecInvalid
from runner.core.secret import Secret
from runner.drivers.age import opens_data_key
from runner.drivers.sops import SopsCli
from runner.engine.reconcile import sops_files
from runner.engine.reconcile.flux_key import Finding, check_flux_key, missing_key, rotate_fix


def repository_findings(root: Path, name: str) -> list[Finding]:
    """Offline checks (`runner validate`): cluster.yaml, `.sops.yaml` and the files' SOPS metadata."""
    spec_file, secrets_file = f"clusters/{name}/cluster.yaml", f"clusters/{name}/secrets.sops.yaml"
    declared = sops_files.flux_recipient(root / spec_file)
    if declared is None:
        return []  # no flux section: nothing is handed to a cluster
    recipient, line = declared
    if recipient is None:
        return [
            Finding(
                spec_file,
                line,
                "flux.ageRecipient",
                "not set: without the Flux key's public half nothing shows that Flux cannot open the machine secrets",
                f"create a Flux key with: runner rotate flux-key clusters/{name}",
            )
        ]
    found: list[Finding] = []
    secrets_path = root / secrets_file
    if secrets_path.exists():
        for i, entry in enumerate(sops_files.age_entries(secrets_path.read_text())):
            if entry.recipient == recipient:
                found.append(
                    Finding(
                        secrets_file,
                        entry.line,
                        f"sops.age[{i}].recipient",
                        f"the Flux key {recipient} can decrypt the machine secrets",
                        f"drop it from the creation rule, run `sops updatekeys {secrets_file}` and "
                        f"`sops rotate -i {secrets_file}`, {rotate_fix(name)}",
                    )
                )
    config = root / ".sops.yaml"
    if config.exists():
        rules = sops_files.creation_rules(config.read_text())
        machine = sops_files.rule_for(rules, secrets_file)
        if machine is not None and recipient in machine.recipients:
            found.append(
                Finding(
                    ".sops.yaml",
                    machine.line,
                    f"creation_rules[{machine.index}]",
                    f"encrypts {secrets_file} to the Flux key {recipient}",
                    "list only the runner's (and operators') keys in the rule for clusters/*/secrets.sops.yaml",
                )
            )
        for rel in sops_files.flux_files(root):
            rule = sops_files.rule_for(rules, rel)
            if rule is None or recipient not in rule.recipients:
                at = rule.line if rule else None
                found.append(
                    Finding(
                        ".sops.yaml",
                        at,
                        f"creation_rules[{rule.index}]" if rule else "creation_rules",
                        f"no rule encrypts {rel} to the Flux key {recipient}, so Flux could not decrypt it",
                        "add the Flux recipient to the rule for flux/**.sops.yaml, then `sops updatekeys` the files",
                    )
                )
    for rel in sops_files.flux_files(root):
        listed = [e.recipient for e in sops_files.age_entries((root / rel).read_text())]
        if recipient not in listed:
            found.append(
                Finding(
                    rel,
                    None,
                    "sops.age",
                    f"not encrypted to the Flux key {recipient}: Flux cannot decrypt it",
                    f"run `sops updatekeys {rel}`",
                )
            )
    return found


def key_separation_findings(root: Path, name: str, runner_key_file: Path | None = None) -> list[Finding]:
    """Everything `repository_findings` checks and, with the runner's key, what the keys really open:
    the Flux key found in the secrets file must match cluster.yaml, open every flux/**.sops.yaml and not
    open the machine secrets. For `runner doctor`."""
    found = repository_findings(root, name)
    if runner_key_file is None or any(f.field == "flux.ageRecipient" for f in found):
        return found
    declared = sops_files.flux_recipient(root / f"clusters/{name}/cluster.yaml")
    if declared is None:
        return found
    secrets_file = f"clusters/{name}/secrets.sops.yaml"
    try:
        data = SopsCli(age_key_file=runner_key_file).decrypt((root / secrets_file).read_bytes(), secrets_file)
        key = parse_secrets(data, secrets_file).flux_age_key
    except (OSError, SecretsError, SpecInvalid) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        return [*found, Finding(secrets_file, None, "", f"cannot read it: {reason}", "check the runner's age key")]
    if key is None:
        return [*found, missing_key(secrets_file, name)]
    try:
        check_flux_key(key, declared[0] or "", (root / secrets_file).read_bytes(), secrets_file, name)
    except SecretsError as exc:
        found.append(Finding(secrets_file, None, "flux.ageKey", str(exc).split(": ", 1)[-1], rotate_fix(name)))
    for rel in sops_files.flux_files(root):
        stanzas = [e.enc for e in sops_files.age_entries((root / rel).read_text())]
        if not opens_data_key(key, stanzas):
            found.append(
                Finding(rel, None, "sops.age", "the Flux key in the secrets file cannot decrypt it", "sops updatekeys")
            )
    return found


def files_opened_by(root: Path, key: Secret, name: str) -> tuple[list[str], list[str]]:
    """(opens, does not open) among the cluster's secrets file and flux/**.sops.yaml, by trying the key."""
    opens: list[str] = []
    closed: list[str] = []
    for rel in [f"clusters/{name}/secrets.sops.yaml", *sops_files.flux_files(root)]:
        path = root / rel
        stanzas = [e.enc for e in sops_files.age_entries(path.read_text())] if path.exists() else []
        (opens if opens_data_key(key, stanzas) else closed).append(rel)
    return opens, closed

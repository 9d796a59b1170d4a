"""`runner rotate flux-key`: a new Flux key for a cluster, written into the operator's working copy.

What changes (the operator reviews, commits and pushes; the runner then replaces the sops-age Secret):
- `.sops.yaml`: the rule for flux/**.sops.yaml names the new Flux recipient instead of the old one;
- every flux/**.sops.yaml: `sops updatekeys` (recipients from the rule) then `sops rotate` (a new data key,
  so whoever held the old Flux key cannot read values written from now on);
- the secrets file: `flux.ageKey` set to the new private half with `sops set` (value through stdin);
- cluster.yaml: `flux.ageRecipient` set to the new public half.
Everything that can refuse (no flux section, a rule shared with the machine secrets, no runner key) is
checked before the first file changes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.core.errors import SecretsError
from runner.drivers.age import new_identity, read_key
from runner.drivers.sops import SopsCli, default_age_key_file
from runner.engine.reconcile import sops_files
from runner.engine.reconcile.flux_key import check_flux_key

PROBE = "flux/any.sops.yaml"  # the rule for Flux's files, even before the first one exists


@dataclass(frozen=True)
class RotateResult:
    old_recipient: str | None
    new_recipient: str
    changed: tuple[str, ...]  # repository-relative paths, for `git add`


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)  # round-trip: comments and order stay as the operator wrote them
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.preserve_quotes = True
    return yaml


def _dump(doc: Any) -> str:
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _swap(value: Any, old: str | None, new: str) -> Any:
    """A rule's `age` (comma-separated string or list) with `old` replaced by `new` (or `new` added)."""
    items = [r.strip() for r in value.split(",")] if isinstance(value, str) else [str(r) for r in value or []]
    items = [new if r == old else r for r in items if r]
    if new not in items:
        items.insert(0, new)
    return ",".join(items) if isinstance(value, str) or value is None else type(value)(items)


def _flux_rule_indexes(root: Path, secrets_file: str, text: str, config: Any) -> set[int]:
    rules = sops_files.creation_rules(text)
    machine = sops_files.rule_for(rules, secrets_file)
    indexes = set()
    for rel in [PROBE, *sops_files.flux_files(root)]:
        rule = sops_files.rule_for(rules, rel)
        if rule is None:
            raise SecretsError(f".sops.yaml: no creation rule matches {rel}; add one for flux/.*\\.sops\\.yaml$")
        if machine is not None and rule.index == machine.index:
            raise SecretsError(
                f".sops.yaml:{rule.line}: creation_rules[{rule.index}] matches both {rel} and {secrets_file}; "
                "give flux/**.sops.yaml its own rule so the Flux key never encrypts the machine secrets"
            )
        if "key_groups" in config["creation_rules"][rule.index]:
            raise SecretsError(
                f".sops.yaml:{rule.line}: creation_rules[{rule.index}] uses key_groups; swap the Flux recipient by hand"
            )
        indexes.add(rule.index)
    return indexes


def flux_recipient_swap(root: Path, secrets_file: str, old: str | None, new: str) -> str:
    """`.sops.yaml` with the Flux recipient `old` replaced by `new` (or `new` added) in the rules for flux/."""
    text = (root / ".sops.yaml").read_text()
    config = _yaml().load(text)
    for i in _flux_rule_indexes(root, secrets_file, text, config):
        rule = config["creation_rules"][i]
        rule["age"] = _swap(rule.get("age"), old, new)
    return _dump(config)


def rotate_flux_key(root: Path, name: str, *, key_file: Path | None = None) -> RotateResult:
    spec_file, secrets_file = f"clusters/{name}/cluster.yaml", f"clusters/{name}/secrets.sops.yaml"
    declared = sops_files.flux_recipient(root / spec_file)
    if declared is None:
        raise SecretsError(f"{spec_file}: the cluster has no flux section; there is no Flux key to rotate")
    if not (root / secrets_file).exists():
        raise SecretsError(f"{secrets_file}: not found (create it with `runner init clusters/{name}`)")
    config_path = root / ".sops.yaml"
    if not config_path.exists():
        raise SecretsError(".sops.yaml: not found (`runner init` writes one)")
    runner_key = read_key(key_file or default_age_key_file())
    old = declared[0]
    new_public, new_private = new_identity()
    swap = flux_recipient_swap(root, secrets_file, old, new_public)  # refuses before anything is written
    sops = SopsCli(age_key_file=runner_key.path)
    sops.decrypt((root / secrets_file).read_bytes(), secrets_file)  # the runner's key must open it: fail early

    config_path.write_text(swap)
    for rel in sops_files.flux_files(root):
        sops.updatekeys(root / rel, config_path)
        sops.rotate(root / rel)
    sops.set_value(root / secrets_file, '["flux"]["ageKey"]', new_private)
    spec = _yaml().load((root / spec_file).read_text())
    spec["flux"]["ageRecipient"] = new_public
    (root / spec_file).write_text(_dump(spec))

    check_flux_key(new_private, new_public, (root / secrets_file).read_bytes(), secrets_file, name)
    changed = (".sops.yaml", spec_file, secrets_file, *sops_files.flux_files(root))
    return RotateResult(old, new_public, changed)

"""Reading the plaintext parts of SOPS files, with line numbers: `.sops.yaml` creation rules, the
`sops.age` recipients of an encrypted file, and the Flux recipient a cluster.yaml declares.

Rules are matched the way sops matches them (cmd/sops config: the first rule whose `path_regex` finds a
match in the path relative to the config file wins; a rule without one matches everything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


@dataclass(frozen=True)
class AgeEntry:
    recipient: str
    enc: str  # the armored age stanza wrapping the file's data key
    line: int


@dataclass(frozen=True)
class Rule:
    index: int
    line: int
    path_regex: str | None
    recipients: frozenset[str]


def _load(text: str) -> Any:
    try:
        return YAML(typ="rt", pure=True).load(text)
    except YAMLError:
        return None  # an unparsable file is reported by whatever reads it for real (sops, the loader)


def _line(node: Any, key: str | None = None) -> int:
    lc = getattr(node, "lc", None)
    if lc is None:
        return 0
    if key is not None and key in node:
        return int(lc.key(key)[0]) + 1
    return int(lc.line) + 1


def age_entries(text: str) -> list[AgeEntry]:
    doc = _load(text)
    meta = doc.get("sops") if isinstance(doc, dict) else None
    entries = (meta.get("age") if isinstance(meta, dict) else None) or []
    return [
        AgeEntry(str(e.get("recipient", "")), str(e.get("enc", "")), _line(e, "recipient"))
        for e in entries
        if isinstance(e, dict)
    ]


def _recipients(value: Any) -> set[str]:
    if isinstance(value, str):
        return {r.strip() for r in value.split(",") if r.strip()}
    if isinstance(value, list):
        return {str(r).strip() for r in value}
    return set()


def creation_rules(text: str) -> list[Rule]:
    doc = _load(text)
    rules = (doc.get("creation_rules") if isinstance(doc, dict) else None) or []
    out = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        recipients = _recipients(rule.get("age"))
        for group in rule.get("key_groups") or []:
            if isinstance(group, dict):
                recipients |= _recipients(group.get("age"))
        regex = rule.get("path_regex")
        out.append(Rule(i, _line(rule), str(regex) if regex else None, frozenset(recipients)))
    return out


def rule_for(rules: list[Rule], rel_path: str) -> Rule | None:
    for rule in rules:
        if rule.path_regex is None:
            return rule
        try:
            if re.search(rule.path_regex, rel_path):
                return rule
        except re.error:
            continue
    return None


def flux_recipient(cluster_yaml: Path) -> tuple[str | None, int] | None:
    """(flux.ageRecipient or None, its line) from cluster.yaml; None when the cluster has no flux section."""
    try:
        doc = _load(cluster_yaml.read_text())
    except OSError:
        return None
    flux = doc.get("flux") if isinstance(doc, dict) else None
    if not isinstance(flux, dict):
        return None
    value = flux.get("ageRecipient")
    return (str(value) if value else None), _line(flux, "ageRecipient") if value else _line(doc, "flux")


def flux_files(root: Path) -> list[str]:
    """Every SOPS file Flux decrypts: flux/**.sops.yaml, relative to the repository root."""
    return sorted(str(p.relative_to(root)) for p in (root / "flux").rglob("*.sops.yaml") if p.is_file())

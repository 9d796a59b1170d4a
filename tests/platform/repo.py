"""A copy of the repository's cluster and Flux tree with chosen platform apps enabled, for offline checks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).parents[2]
APPS_FILE = ROOT / "tests" / "data" / "platform" / "apps.yaml"
PLATFORM_SPEC = (
    "platform:\n  domain: apps.atlas-lab.net\n  backups:\n    bucket: atlas-backups\n    region: eu-central-1\n"
    "    endpoint: https://s3.eu-central-1.amazonaws.com\n"
)


def apps() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(APPS_FILE.read_text())
    return data


def platform_repo(tmp: Path, enabled: list[str], with_platform: bool = True) -> Path:
    for part in ("flux", "clusters", "schemas", ".sops.yaml"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp / part)
    spec = tmp / "clusters" / "home" / "cluster.yaml"
    if with_platform:
        spec.write_text(spec.read_text() + "\n" + PLATFORM_SPEC)
    entry = tmp / "flux" / "clusters" / "home" / "kustomization.yaml"
    # The listing is rewritten: exactly the apps asked for are enabled (the reference cluster enables some).
    lines = [line for line in entry.read_text().splitlines() if "- platform/" not in line]
    entry.write_text("\n".join(lines + [f"  - platform/{app}.yaml" for app in enabled]) + "\n")
    return tmp


def with_dependencies(app: str, table: dict[str, Any]) -> list[str]:
    """The app and every platform app it needs, transitively (infrastructure is always enabled)."""
    out: list[str] = []
    pending = [app]
    while pending:
        name = pending.pop()
        if name in out:
            continue
        out.append(name)
        pending += [n.removeprefix("platform-") for n in table[name]["needs"] if n.startswith("platform-")]
    return out

"""The reference cluster against the Proxmox and Image Factory twins, for engine tests that run a whole reconcile."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from runner.drivers.sops import SopsCli
from runner.engine.reconcile.target_settings import TargetSettings
from runner.lab.proxmox import Delays

ROOT = Path(__file__).resolve().parents[2]
AGE_KEY = ROOT / "tests/keys/lab.agekey"
FAST = Delays(task=0.01, create=0.01, start=0.01, shutdown=0.01, download=0.01)


def lab_secrets() -> dict[str, object]:
    """The reference cluster's decrypted secrets file."""
    path = ROOT / "clusters/home/secrets.sops.yaml"
    return SopsCli(age_key_file=AGE_KEY).decrypt(path.read_bytes(), str(path))


def lab_token() -> tuple[str, str]:
    proxmox = lab_secrets()["proxmox"]
    assert isinstance(proxmox, dict)
    return str(proxmox["tokenId"]), str(proxmox["tokenSecret"])


def repo_at(root: Path, proxmox_url: str) -> Path:
    """A copy of the reference cluster under `root`, its Proxmox at `proxmox_url`."""
    shutil.copytree(ROOT / "clusters/home", root / "clusters/home")
    edit_spec(root, lambda doc: doc["proxmox"].update(url=proxmox_url))
    return root


def edit_spec(root: Path, change: Callable[[Any], None]) -> None:
    """Change the cluster.yaml of the repo at `root` in place (comments and order kept)."""
    spec = root / "clusters/home/cluster.yaml"
    yaml = YAML()
    doc = yaml.load(spec.read_text())
    change(doc)
    out = io.StringIO()
    yaml.dump(doc, out)
    spec.write_text(out.getvalue())


def engine_settings(tmp_path: Path, proxmox: Any, factory: Any, **more: Any) -> TargetSettings:
    """The engine's settings against the Proxmox and factory twins; no talosctl (`false` refuses every call)."""
    return TargetSettings(
        db_path=tmp_path / "state.db",
        age_key_file=AGE_KEY,
        proxmox_ca_bundle=proxmox.ca_bundle,
        image_factory_url=factory.url,
        talosctl_path="false",
        **more,
    )

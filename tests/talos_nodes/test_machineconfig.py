"""The node twin decodes and validates configs with Talos' rules (no processes involved). Other Talos minors:
test_versions.py."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from runner.lab.talos import machineconfig
from tests.talos_nodes.conftest import DATA, Bundle

SCHEMA_DIR = Path(machineconfig.__file__).parents[2] / "vendored" / "talos"
V1_11 = "v1.11.2"


@pytest.mark.parametrize("minor", ["v1.11", "v1.12", "v1.13"])
def test_vendored_schema_matches_recorded_checksum(minor: str) -> None:
    recorded = re.search(r"sha256: `([0-9a-f]{64})`", (SCHEMA_DIR / minor / "README.md").read_text())
    assert recorded is not None
    assert hashlib.sha256((SCHEMA_DIR / minor / "config.schema.json").read_bytes()).hexdigest() == recorded.group(1)


def test_valid_configs_load(bundle: Bundle) -> None:
    cp = machineconfig.load(bundle.config("controlplane", "cp"), V1_11)
    worker = machineconfig.load(bundle.config("worker", "w"), V1_11)
    assert cp.is_controlplane and not worker.is_controlplane
    assert cp.endpoint == "https://10.0.0.11:6443" and cp.cluster_name == "home"


def test_extra_documents_are_decoded_by_kind(bundle: Bundle) -> None:
    extension = (DATA / "tailscale-extension.yaml").read_text()
    assert len(machineconfig.load(bundle.config("worker", "w") + "---\n" + extension, V1_11).documents) == 2
    with pytest.raises(machineconfig.ConfigDecodeError, match=re.escape('"Nonsense" "v1alpha1": not registered')):
        machineconfig.load(bundle.config("worker", "w") + "---\napiVersion: v1alpha1\nkind: Nonsense\n", V1_11)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("type: worker", "type: cook"), 'unknown machine type "cook"'),
        (
            ('key: ""\n    certSANs', "key: c2VjcmV0\n    certSANs"),
            "issuing Talos API CA key is not allowed on non-controlplane",
        ),
        (("        disk: /dev/sda\n", ""), "either install disk or diskSelector should be defined"),
        (("endpoint: https://", "endpoint: ftp://"), "invalid controlplane endpoint"),
        (("persist: true", "persist: false"), ".persist should be enabled"),
    ],
)
def test_worker_rules(bundle: Bundle, edit: tuple[str, str], message: str) -> None:
    config = bundle.config("worker", "w").replace(*edit)
    with pytest.raises(machineconfig.ConfigInvalid, match=re.escape(message)):
        machineconfig.load(config, V1_11)


def test_controlplane_needs_os_ca_key(bundle: Bundle) -> None:
    config = re.sub(r"(ca:\n        crt: \S+\n        key: )\S+", r'\1""', bundle.config("controlplane", "cp"), count=1)
    with pytest.raises(machineconfig.ConfigInvalid, match=re.escape("issuing CA key is required for controlplane")):
        machineconfig.load(config, V1_11)

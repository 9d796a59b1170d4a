"""Every invalid scenario reports exactly the problems its `# expect:` lines name, at the right line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.core.errors import SpecInvalid
from runner.core.input_limits import decode_spec
from runner.core.validate import validate_text
from runner.engine.reconcile.load import installed_flux_releases

HERE = Path(__file__).parent
INVALID = sorted((HERE / "invalid").glob("*.yaml"))
VALID = sorted((HERE / "valid").glob("*.yaml"))


def expectations(text: str) -> list[str]:
    return re.findall(r"^# expect: (.+)$", text, flags=re.M)


def flux_version(text: str) -> str | None:
    """The Flux a scenario is checked against: its `# flux:` line, else (None) the one the runner picks from the
    vendored releases for its Kubernetes."""
    found = re.search(r"^# flux: (\S+)$", text, flags=re.M)
    return found[1] if found else None


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_scenario_reports_every_expected_problem(path: Path) -> None:
    data = path.read_bytes()  # as the runner reads it: some scenarios are not even UTF-8
    name = f"clusters/x/{path.name}"
    with pytest.raises(SpecInvalid) as info:
        validate_text(
            decode_spec(data, name), name, flux_version(data.decode("utf-8", "replace")), installed_flux_releases()
        )
    reported = [str(p) for p in info.value.errors]
    expected = expectations(data.decode("utf-8", "replace"))
    assert expected, "a scenario must say what it expects"
    for want in expected:
        assert any(line.startswith(f"{name}:{want}") for line in reported), f"missing {want!r} in {reported}"
    # Nothing unexpected either: each reported problem matches one expectation.
    for line in reported:
        assert any(line.startswith(f"{name}:{want}") for want in expected), f"unexpected {line!r}"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_scenario_loads(path: Path) -> None:
    text = path.read_text()
    cluster, warnings = validate_text(text, path.name, flux_version(text), installed_flux_releases())
    assert cluster.nodes
    assert not [w for w in warnings if w.severity == "error"]


def test_reference_cluster_is_exactly_the_documented_one() -> None:
    root = HERE.parent.parent
    cluster, warnings = validate_text((root / "clusters/home/cluster.yaml").read_text(), "clusters/home/cluster.yaml")
    assert warnings == []
    assert cluster.proxmox.node == "atlas"
    assert [(n.name, str(n.ip), n.vmid, n.role) for n in cluster.nodes] == [
        ("talos-cp-01", "10.0.0.11", 300, "controlplane"),
        ("talos-cp-02", "10.0.0.12", 301, "controlplane"),
        ("talos-cp-03", "10.0.0.13", 302, "controlplane"),
        ("talos-worker-01", "10.0.0.21", 303, "worker"),
        ("talos-worker-02", "10.0.0.22", 304, "worker"),
    ]
    net = cluster.network
    assert (str(net.cidr), str(net.gateway), [str(n) for n in net.nameservers], str(net.vip)) == (
        "10.0.0.0/16",
        "10.0.0.1",
        ["1.1.1.1", "8.8.8.8"],
        "10.0.0.20",
    )
    assert (cluster.talos.version, cluster.kubernetes.version) == ("v1.13.9", "v1.36.3")
    assert cluster.talos.extensions == ("siderolabs/qemu-guest-agent", "siderolabs/tailscale")
    assert (cluster.vm_defaults.machine, cluster.vm_defaults.bios) == ("q35", "ovmf")


def test_even_controller_count_is_a_warning_not_an_error() -> None:
    text = (HERE / "valid/minimal.yaml").read_text() + (
        "  - name: cp2\n    role: controlplane\n    ip: 192.168.10.12\n    vmid: 501\n"
    )
    cluster, warnings = validate_text(text, "c.yaml")
    assert len(cluster.controllers) == 2
    assert [w.severity for w in warnings] == ["warning"]
    assert "odd number" in str(warnings[0]) and str(warnings[0]).startswith("c.yaml:")

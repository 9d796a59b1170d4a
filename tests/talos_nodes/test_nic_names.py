"""A node's NIC has the name Talos gives it, and an address on a link of another name never comes up."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.core.derive import derive
from runner.core.schematic import schematic_yaml
from runner.core.validate import validate_text
from runner.lab.boot import image_identity
from runner.lab.talos import TalosLab
from runner.lab.talos.links import nic_names
from runner.lab.talos.rpc import TransportError

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    ("kernel_args", "machine", "names"),
    [
        (["net.ifnames=0"], "q35", ("eth0",)),
        (["console=ttyS0", "net.ifnames=0"], "pc", ("eth0",)),
        ([], "q35", ("enp6s18",)),  # Proxmox net0: slot 0x12 of pci.0, a bridge the guest sees as bus 6
        ([], "pc-i440fx-9.0", ("ens18",)),  # i440fx: a hotplug slot of the root bus
        ([], "pc", ("ens18",)),
    ],
)
def test_nic_names_follow_the_kernel_args_and_the_machine(
    kernel_args: list[str], machine: str, names: tuple[str]
) -> None:
    assert nic_names(kernel_args, machine) == names


def test_an_address_on_a_missing_link_never_answers() -> None:
    lab = TalosLab()
    node = lab.register("10.0.0.11", "talos-cp-01")
    node.links, node.platform_link = ("enp6s18",), "eth0"
    node.phase = "maintenance"
    with pytest.raises(TransportError) as info:
        lab.connect("10.0.0.11", _insecure())
    assert "no route to host" in str(info.value.to_json())
    node.links = ("eth0",)
    assert lab.connect("10.0.0.11", _insecure()) is node


def test_every_reference_node_boots_with_its_address_on_a_link_it_has() -> None:
    """What the runner builds for the reference cluster: each image's META names the link the VM really has."""
    text = (ROOT / "clusters/home/cluster.yaml").read_text()
    cluster, _ = validate_text(text, "clusters/home/cluster.yaml")
    for dn in derive(cluster).nodes:
        ident = image_identity(schematic_yaml(dn.schematic), dn.vm.machine, dn.talos_version)
        assert ident is not None and ident.ip == dn.ip
        assert ident.platform_link in ident.links, (dn.name, ident.platform_link, ident.links)


def _insecure():  # type: ignore[no-untyped-def]
    from runner.lab.talos.lab import ClientCreds

    return ClientCreds()

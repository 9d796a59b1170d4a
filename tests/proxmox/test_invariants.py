"""Invariants, checked with Hypothesis: the twin's validator and the driver's pure helpers agree with PVE rules."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from proxmox_reference import load_reference

from runner.core.state import VmSpec
from runner.drivers.proxmox import create_params, vm_config_diff
from runner.lab.proxmox.schema import find_endpoint
from runner.lab.proxmox.validate import validate_params
from runner.lab.proxmox.vmconfig import normalize_net, normalize_tags

CREATE = find_endpoint("POST", "/nodes/atlas/qemu")
assert CREATE is not None
SCHEMA = CREATE[0].parameters

octet = st.integers(0, 255)
macs = st.lists(octet, min_size=6, max_size=6)
tags = st.from_regex(r"[a-z0-9_][a-z0-9_\-+.]{0,20}", fullmatch=True)


def _mac(parts: list[int]) -> str:
    return ":".join(f"{p:02X}" for p in parts)


@given(macs)
def test_mac_accepted_exactly_when_unicast(parts: list[int]):
    errors = validate_params({"node": "atlas", "vmid": "300", "net0": f"virtio={_mac(parts)},bridge=vmbr0"}, SCHEMA)
    assert ("net0" in errors) == bool(parts[0] & 1)


@given(st.integers(-10, 2_000_000_000))
def test_vmid_range(vmid: int):
    errors = validate_params({"node": "atlas", "vmid": str(vmid)}, SCHEMA)
    assert ("vmid" in errors) == (not 100 <= vmid <= 999_999_999)


@given(st.lists(tags, min_size=1, max_size=5))
def test_tag_normalisation_is_sorted_unique_and_valid(values: list[str]):
    joined = normalize_tags(";".join(values))
    assert joined.split(";") == sorted({v.lower() for v in values})
    assert validate_params({"node": "atlas", "vmid": "300", "tags": joined}, SCHEMA) == {}


@given(macs, st.sampled_from(["vmbr0", "vmbr1", "lan"]))
def test_net_normalisation_keeps_model_mac_and_bridge(parts: list[int], bridge: str):
    mac = _mac(parts)
    assert normalize_net(f"bridge={bridge},virtio={mac}") == f"virtio={mac},bridge={bridge}"


REFERENCE_VM = load_reference()[1][0]


@settings(max_examples=50)
@given(
    cores=st.integers(1, 64),
    memory=st.integers(512, 65536),
    disk_gb=st.integers(8, 2048),
    mac=macs.map(lambda p: _mac([p[0] & 0xFE, *p[1:]])),
    onboot=st.booleans(),
)
def test_config_made_from_create_params_has_no_diff(cores: int, memory: int, disk_gb: int, mac: str, onboot: bool):
    vm: VmSpec = replace(REFERENCE_VM, cores=cores, memory=memory, disk_gb=disk_gb, mac=mac, onboot=onboot)
    params = {k: str(v) for k, v in create_params(vm).items()}
    assert validate_params({"node": "atlas", **params}, SCHEMA) == {}
    config = dict(params, scsi0=f"local-lvm:vm-300-disk-0,discard=on,iothread=1,size={disk_gb}G")
    config["tags"] = normalize_tags(params["tags"])
    assert vm_config_diff(vm, config) == {}
    changed = replace(vm, memory=memory + 1)
    assert set(vm_config_diff(changed, config)) == {"memory"}
    assert re.fullmatch(r"virtio=[0-9A-F:]{17},bridge=vmbr0", config["net0"])

"""Bad parameters: the twin answers like PVE (400 + errors object) and the driver names the parameter."""

from __future__ import annotations

from dataclasses import replace

import pytest

from runner.core.errors import Permanent
from runner.core.state import ImageSpec, VmSpec
from runner.drivers.proxmox import ProxmoxDriver

UNICAST_MAC_ERROR = (
    "invalid format - format error\nnet0.macaddr: invalid format - "
    "value does not look like a valid unicast MAC address\n"
)


def test_bad_mac_is_a_400_naming_net0(api):
    response = api.request("POST", "/nodes/atlas/qemu", vmid=300, net0="virtio=01:00:5E:00:00:01,bridge=vmbr0")
    assert response.status_code == 400
    body = response.json()
    assert body["data"] is None
    assert body["message"] == "Parameter verification failed.\n"
    assert body["errors"] == {"net0": UNICAST_MAC_ERROR}


def test_unknown_parameter_and_bad_enum(api):
    response = api.request("POST", "/nodes/atlas/qemu", vmid=300, scsihw="virtio-scsi-turbo", colour="red")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["colour"] == ("property is not defined in schema and the schema does not allow additional properties")
    assert errors["scsihw"].startswith("value 'virtio-scsi-turbo' does not have a value in the enumeration 'lsi, ")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"vmid": 99}, "vmid"),
        ({"vmid": 300, "onboot": "true"}, "onboot"),
        ({"vmid": 300, "tags": "bad tag!"}, "tags"),
        ({"vmid": 300, "efidisk0": "local-lvm:1,efitype=8m"}, "efidisk0"),
        ({"vmid": 300, "scsi0": "local-lvm:0,import-from=local:import/x.qcow2,discard=maybe"}, "scsi0"),
        ({"vmid": 300, "cpu": "pentium9"}, "cpu"),
        ({"vmid": 300, "memory": "lots"}, "memory"),
        ({"vmid": 300, "boot": "order=scsi0;floppy0"}, "boot"),
    ],
)
def test_malformed_values_are_rejected_by_name(api, params, param):
    response = api.request("POST", "/nodes/atlas/qemu", **params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [param]


def test_missing_required_parameter(api):
    response = api.request("POST", "/nodes/atlas/storage/local/download-url", content="import")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "url": "property is missing and it is not optional",
        "filename": "property is missing and it is not optional",
    }


def test_driver_raises_permanent_naming_the_parameter(driver: ProxmoxDriver, reference):
    image, vms = reference
    driver.download_image(image)
    with pytest.raises(Permanent, match=r"(?s)parameter net0: invalid format .*unicast MAC"):
        driver.create_vm(replace(vms[0], mac="01:00:5E:00:00:01"))
    with pytest.raises(Permanent, match="parameter scsihw: value 'fast'"):
        driver.create_vm(replace(vms[0], scsihw="fast"))


def test_import_from_missing_image_fails_the_create_task(driver: ProxmoxDriver, reference):
    _, vms = reference
    missing = replace(vms[0].image, filename="absent.qcow2")
    with pytest.raises(Permanent, match=r"unable to create VM 300 - volume 'local:import/absent.qcow2' does not exist"):
        driver.create_vm(replace(vms[0], image=missing))
    assert driver.list_vms() == []


def test_unknown_path_is_501_and_unknown_node_500(api):
    assert api.request("GET", "/nodes/atlas/lxc").status_code == 501
    response = api.request("GET", "/nodes/pve9/qemu")
    assert response.status_code == 500
    assert response.json()["message"].startswith("hostname lookup 'pve9' failed")


def test_download_with_wrong_extension(api, reference: tuple[ImageSpec, list[VmSpec]]):
    response = api.request(
        "POST", "/nodes/atlas/storage/local/download-url", url="https://x/y", content="import", filename="talos.img"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"filename": "invalid filename or wrong extension"}

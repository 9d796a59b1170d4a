"""The README's host preparation, the lab's and the runner's idea of the needed privileges are one and the same."""

from __future__ import annotations

import re

from runner.drivers.proxmox.privileges import needs, role_privileges
from runner.engine.commands.doctor.csi import DOCUMENTED
from runner.lab.proxmox.host_setup import ROLE_PRIVILEGES, HostPlan, documented_commands, documented_csi_commands

from .conftest import REPO_ROOT


def _readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Prepare your Proxmox host", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the README section has no sh block"
    return block.group(1).strip().splitlines()


def test_the_readme_lists_exactly_the_commands_the_lab_runs():
    assert _readme_commands() == documented_commands(HostPlan())


def test_the_documented_role_is_exactly_what_the_runner_checks_for():
    assert sorted(role_privileges()) == sorted(ROLE_PRIVILEGES)
    paths = {need.path for need in needs("atlas", "local-lvm", "local", "vmbr0", [300])}
    acl_paths = {line.split()[3] for line in documented_commands(HostPlan()) if line.startswith("pveum acl")}
    # /vms propagates to /vms/300; every other path is granted as checked
    assert {p for p in paths if not p.startswith("/vms/")} | {"/vms"} == acl_paths


def _readme_csi_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Proxmox CSI's own token", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the README section has no sh block"
    return block.group(1).strip().splitlines()


def test_the_readme_lists_exactly_the_csi_commands_the_lab_runs():
    assert _readme_csi_commands() == documented_csi_commands("kubernetes-csi@pve!csi", "local-lvm")


def test_the_csi_role_is_what_doctor_allows_and_the_plugin_documents():
    role = next(line for line in documented_csi_commands("kubernetes-csi@pve!csi", "local-lvm") if "role add" in line)
    assert frozenset(role.split('"')[1].split()) == DOCUMENTED

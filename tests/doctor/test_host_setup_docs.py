"""The README's host preparation, the lab's and the runner's idea of the needed privileges are one and the same."""

from __future__ import annotations

import re

import pytest

from runner.drivers.proxmox import privileges
from runner.drivers.proxmox.privileges import needs, release_of, role_privileges
from runner.engine.commands.doctor.csi import DOCUMENTED
from runner.lab.proxmox.host_setup import (
    ROLE,
    ROLE_PRIVILEGES,
    HostPlan,
    apply_command,
    documented_commands,
    documented_csi_commands,
)
from runner.lab.proxmox.state import ProxmoxTwinState

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


# PVE 8.4 (the oldest the runner supports) and the newest 9.x the twin imitates
RELEASES = ["8.4.1", "9.2.11"]


@pytest.mark.parametrize("version", RELEASES)
def test_the_readmes_commands_are_accepted_by_each_supported_release(version):
    """Parsed from the README and run by the twin's pveum/pvesm: no `invalid privilege` on 8.4 or on 9."""
    state = ProxmoxTwinState(version=version)
    for line in _readme_commands():
        apply_command(state, line)
    token = HostPlan().token_id
    wanted = needs("atlas", "local-lvm", "local", "vmbr0", [300, 304], release_of(version))
    assert [n for n in wanted if n.privilege not in state.access.permissions(token, n.path)] == []


@pytest.mark.parametrize("version", RELEASES)
def test_the_runner_names_only_privileges_the_release_has(version):
    state = ProxmoxTwinState(version=version)
    assert set(role_privileges(release_of(version))) <= state.access.privileges
    assert privileges.ROLE == ROLE


def test_the_runners_table_of_versioned_privileges_matches_pve():
    """What the runner knows about VM.Monitor and VM.GuestAgent.* is what each release's pveum accepts."""
    for version in RELEASES:
        known = ProxmoxTwinState(version=version).access.privileges
        for privilege in privileges.RELEASES:
            assert privileges.exists_on(privilege, release_of(version)) == (privilege in known), (version, privilege)


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

"""Proxmox VE 9 is the twin's default and 8.4 is still imitated: each release knows its own privileges.

Rules (FIDELITY.md, Proxmox VE): pve-access-control `src/PVE/AccessControl.pm` `$privgroups`, `add_role_privs`
and the user.cfg parser (commits 922f710 "add VM.GuestAgent privileges" and 0706945 "privileges: drop
VM.Monitor", released in 9.0.2; VM.Replicate from 9.0.3); qemu-server `src/PVE/API2/Qemu/Agent.pm`
(b92a40ce "api: agent: use more specific guest agent privileges", 9.0.3; before it every command needed
VM.Monitor) and `src/PVE/QemuServer/Agent.pm` `assert_agent_available`.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.lab.proxmox import ProxmoxTwin
from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.host_setup import apply_command
from runner.lab.proxmox.state import DEFAULT_VERSION, ProxmoxTwinState
from runner.lab.proxmox.versions import PRIVILEGES_8, PRIVILEGES_9, privileges
from tests.proxmox.conftest import Api

USER = "auditor@pve"
TOKEN = "auditor@pve!agent"
SECRET = "9e0f3a1b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"
AGENT_PING = "/nodes/atlas/qemu/300/agent/ping"


def _state(version: str) -> ProxmoxTwinState:
    return ProxmoxTwinState(version=version)


def test_the_twin_imitates_pve_9_2_by_default(api):
    assert DEFAULT_VERSION == "9.2.11"
    assert api.request("GET", "/version").json()["data"]["release"] == "9.2"


@pytest.mark.parametrize(
    ("version", "privilege"),
    [("9.2.11", "VM.Monitor"), ("8.4.1", "VM.GuestAgent.Audit"), ("8.4.1", "VM.Replicate")],
)
def test_pveum_refuses_a_privilege_the_release_does_not_know_and_adds_nothing(version, privilege):
    """The API's parameter check (format pve-priv-list) refuses it before the role is looked at."""
    state = _state(version)
    with pytest.raises(PveError) as refused:
        apply_command(state, f'pveum role add Probe --privs "VM.Audit {privilege}"')
    assert (refused.value.status, refused.value.message) == (400, "Parameter verification failed.\n")
    assert refused.value.errors == {"privs": f"invalid format - invalid privilege '{privilege}'\n"}
    assert "Probe" not in state.access.roles


@pytest.mark.parametrize(
    ("version", "privilege"), [("8.4.1", "VM.Monitor"), ("9.0.3", "VM.GuestAgent.Audit"), ("9.2.11", "VM.Replicate")]
)
def test_pveum_accepts_the_privileges_the_release_knows(version, privilege):
    state = _state(version)
    apply_command(state, f'pveum role add Probe --privs "VM.Audit {privilege}"')
    assert state.access.roles["Probe"] == frozenset({"VM.Audit", privilege})


def test_a_role_kept_across_the_upgrade_to_9_loses_vm_monitor():
    """user.cfg keeps the name; the parser ignores a privilege 9 does not know ("ignore invalid privilege")."""
    state = _state("8.4.1")
    apply_command(state, "pveum user add old@pve")
    apply_command(state, 'pveum role add Old --privs "VM.Audit VM.Monitor"')
    apply_command(state, "pveum acl modify /vms --users old@pve --roles Old")
    assert state.access.permissions("old@pve", "/vms/300") == {"VM.Audit": True, "VM.Monitor": True}
    state.version = "9.2.11"
    assert state.access.permissions("old@pve", "/vms/300") == {"VM.Audit": True}


def test_administrator_holds_exactly_the_releases_privileges():
    assert "VM.Monitor" in _state("8.4.1").access.permissions("root@pam", "/vms/300")
    held = _state("9.2.11").access.permissions("root@pam", "/vms/300")
    assert "VM.Monitor" not in held
    assert {p for p in held if p.startswith("VM.GuestAgent.")} == {
        "VM.GuestAgent.Audit",
        "VM.GuestAgent.FileRead",
        "VM.GuestAgent.FileSystemMgmt",
        "VM.GuestAgent.FileWrite",
        "VM.GuestAgent.Unrestricted",
    }


def _agent_user(twin: ProxmoxTwin, privileges: str) -> Api:
    for line in [
        f'pveum role add AgentProbe --privs "{privileges}"',
        f"pveum user add {USER}",
        f"pveum user token add {USER} agent --privsep 0",
        f"pveum acl modify /vms --users {USER} --roles AgentProbe",
    ]:
        apply_command(twin.state, line)
    twin.state.tokens[TOKEN] = SECRET
    return Api(twin, f"{TOKEN}={SECRET}")


@pytest.mark.parametrize(
    ("version", "privileges", "refusal"),
    [
        ("9.2.11", "VM.Audit", "Permission check failed (/vms/300, VM.GuestAgent.Audit|VM.GuestAgent.Unrestricted)"),
        ("8.4.1", "VM.Audit", "Permission check failed (/vms/300, VM.Monitor)"),
    ],
)
def test_the_guest_agent_needs_the_releases_privilege(twin, version, privileges, refusal):
    twin.state.version = version
    api = _agent_user(twin, privileges)
    twin.state.add_foreign_vm(300, "talos", running=True)
    response = api.request("POST", AGENT_PING)
    assert (response.status_code, response.reason) == (403, refusal)


@pytest.mark.parametrize(("version", "privileges"), [("9.2.11", "VM.GuestAgent.Audit"), ("8.4.1", "VM.Monitor")])
def test_the_guest_agent_answers_with_the_releases_privilege(twin, version, privileges):
    twin.state.version = version
    api = _agent_user(twin, privileges)
    vm = twin.state.add_foreign_vm(300, "talos", running=True)
    response = api.request("POST", AGENT_PING)
    assert (response.status_code, response.reason) == (500, "No QEMU guest agent configured")
    vm.config["agent"] = "enabled=0"
    response = api.request("POST", AGENT_PING)
    assert (response.status_code, response.reason) == (500, "QEMU guest agent is not running")
    vm.config["agent"] = "enabled=1"
    assert api.request("POST", AGENT_PING).json() == {"data": {"result": {}}}
    vm.status = "stopped"
    response = api.request("POST", AGENT_PING)
    assert (response.status_code, response.reason) == (500, "VM 300 is not running")


ALL = sorted(PRIVILEGES_8 | PRIVILEGES_9)


@settings(max_examples=200, deadline=None)
@given(version=st.sampled_from(["8.4.1", "9.0.3", "9.2.11"]), wanted=st.lists(st.sampled_from(ALL), max_size=8))
def test_pveum_takes_a_role_exactly_when_the_release_knows_every_privilege(version, wanted):
    state = _state(version)
    known = privileges(version)
    unknown = [p for p in wanted if p not in known]
    line = f'pveum role add Probe --privs "{" ".join(wanted)}"'
    if unknown:
        with pytest.raises(PveError) as refused:
            apply_command(state, line)
        assert refused.value.errors == {"privs": f"invalid format - invalid privilege '{unknown[0]}'\n"}
        assert "Probe" not in state.access.roles
    else:
        apply_command(state, line)
        assert state.access.role("Probe") == frozenset(wanted)

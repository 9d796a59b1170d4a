"""Preparing a Proxmox host for the runner: the README's `pveum`/`pvesm` commands, and a twin that runs them.

`documented_commands` is the text of the README section "Prepare your Proxmox host" (a test keeps the two
identical). The lab applies exactly these commands to its Proxmox twin, so a lab run proves that the
documented role, user, token and ACLs are enough for everything the runner does, and nothing more is
granted. `apply_commands` understands the subset of pveum (pve-access-control `PVE/CLI/pveum.pm`, the
API2 User/Role/ACL handlers) and pvesm these commands use.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.state import ProxmoxTwinState

ROLE = "RunnerProvisioner"
ROLE_PRIVILEGES = (
    "VM.Allocate",
    "VM.Audit",
    "VM.Config.CPU",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.PowerMgmt",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Sys.AccessNetwork",
    "SDN.Use",
)


@dataclass(frozen=True)
class HostPlan:
    """What the commands are about: the runner's API token and the things it will touch."""

    token_id: str = "runner@pve!gitops"
    node: str = "atlas"
    storage: str = "local-lvm"
    image_storage: str = "local"
    bridge: str = "vmbr0"
    image_storage_content: str = "iso,vztmpl,backup,import"


def documented_commands(plan: HostPlan) -> list[str]:
    user, _, token = plan.token_id.partition("!")
    paths = [
        "/vms",
        f"/storage/{plan.storage}",
        f"/storage/{plan.image_storage}",
        f"/nodes/{plan.node}",
        f"/sdn/zones/localnetwork/{plan.bridge}",
    ]
    commands = [
        f"pvesm set {plan.image_storage} --content {plan.image_storage_content}",
        f'pveum role add {ROLE} --privs "{" ".join(ROLE_PRIVILEGES)}"',
        f"pveum user add {user}",
        f"pveum user token add {user} {token} --privsep 1",
    ]
    for path in paths:
        commands.append(f"pveum acl modify {path} --users {user} --roles {ROLE}")
        commands.append(f"pveum acl modify {path} --tokens '{plan.token_id}' --roles {ROLE}")
    return commands


def _options(args: list[str]) -> tuple[list[str], dict[str, str]]:
    positional, options = [], {}
    it = iter(args)
    for arg in it:
        if arg.startswith("--"):
            options[arg[2:]] = next(it, "")
        else:
            positional.append(arg)
    return positional, options


def _split_list(text: str) -> list[str]:
    # PVE::Tools::split_list: commas, semicolons and whitespace
    return [p for p in text.replace(",", " ").replace(";", " ").split() if p]


def apply_command(state: ProxmoxTwinState, line: str) -> None:
    """Run one pveum/pvesm command against the twin's user.cfg and storage.cfg."""
    words = shlex.split(line)
    tool, rest = words[0], words[1:]
    positional, options = _options(rest)
    access = state.access
    match [tool, *positional]:
        case ["pvesm", "set", storage]:
            if storage not in state.storages:
                raise PveError(f"storage '{storage}' does not exist")
            if "content" in options:
                state.storages[storage].content = frozenset(_split_list(options["content"]))
        case ["pveum", "role", "add", role]:
            if role in access.roles:
                raise PveError(f"role '{role}' already exists")
            access.add_role(role, set(_split_list(options.get("privs", ""))))
        case ["pveum", "user", "add", user]:
            if user in access.users:
                raise PveError(f"user '{user}' already exists")
            access.users.add(user)
        case ["pveum", "user", "token", "add", user, token]:
            if user not in access.users:
                raise PveError(f"no such user ('{user}')")
            access.add_token(f"{user}!{token}", privsep=options.get("privsep", "1") != "0")
        case ["pveum", "acl", "modify", path]:
            roles = _split_list(options.get("roles", ""))
            propagate = options.get("propagate", "1") != "0"
            for who in _split_list(options.get("users", "")) + _split_list(options.get("tokens", "")):
                for role in roles:
                    access.grant(path, who, role, propagate)
        case _:
            raise ValueError(f"the twin does not know the command {line!r}")


def prepare_host(state: ProxmoxTwinState, plan: HostPlan, token_secret: str) -> None:
    """The documented preparation, then the token's secret (which `pveum user token add` prints once)."""
    with state.lock:
        for line in documented_commands(plan):
            apply_command(state, line)
        state.tokens[plan.token_id] = token_secret

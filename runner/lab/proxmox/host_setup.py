"""Preparing a Proxmox host for the runner: the README's `pveum`/`pvesm` commands, and a twin that runs them.

The commands live in `data/prepare-host.template`, a test keeps them identical to the README section
"Prepare your Proxmox host". The lab applies exactly these commands to its Proxmox twin, so a lab run
proves that the documented role, user, token and ACLs are enough for everything the runner does, and
nothing more is granted. The role the lab grants is read from the same commands, never from the list
the runner checks. `apply_commands` understands the subset of pveum (pve-access-control
`PVE/CLI/pveum.pm`, the API2 User/Role/ACL handlers) and pvesm these commands use. A privilege the release
does not know fails the `privs` parameter's format check (pve-common `JSONSchema.pm` `check_format` with
`pve-priv-list`, AccessControl.pm `verify_privname`): 400 "Parameter verification failed." and
`privs: invalid format - invalid privilege '<name>'`.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template

from runner.lab.proxmox.errors import PveError, param_error
from runner.lab.proxmox.state import ProxmoxTwinState

_TEMPLATE = (Path(__file__).parent / "data" / "prepare-host.template").read_text().splitlines()
_COMMANDS = Template("\n".join(line for line in _TEMPLATE if line and not line.startswith("#")))


@dataclass(frozen=True)
class HostPlan:
    """What the commands are about: the runner's API token and the things it will touch."""

    token_id: str = "runner@pve!gitops"
    node: str = "atlas"
    storage: str = "local-lvm"
    image_storage: str = "local"
    bridge: str = "vmbr0"


def documented_commands(plan: HostPlan) -> list[str]:
    """The commands for `plan`: the template's placeholders are its fields and the token id's two halves."""
    user, _, token = plan.token_id.partition("!")
    return _COMMANDS.substitute(asdict(plan), user=user, token=token).splitlines()


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
            wanted = _split_list(options.get("privs", ""))
            # the API's `privs` parameter has format pve-priv-list: checked before the handler runs
            if unknown := [p for p in wanted if p not in access.privileges]:
                raise param_error({"privs": f"invalid format - invalid privilege '{unknown[0]}'\n"})
            if access.role(role) is not None:
                raise PveError(f"role '{role}' already exists")
            access.add_role(role, wanted)
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


def _documented_role() -> tuple[str, tuple[str, ...]]:
    for line in documented_commands(HostPlan()):
        positional, options = _options(shlex.split(line)[1:])
        if positional[:2] == ["role", "add"]:
            return positional[2], tuple(_split_list(options["privs"]))
    raise ValueError("the documented host preparation adds no role")


ROLE, ROLE_PRIVILEGES = _documented_role()


def prepare_host(state: ProxmoxTwinState, plan: HostPlan, token_secret: str) -> None:
    """The documented preparation, then the token's secret (which `pveum user token add` prints once)."""
    with state.lock:
        for line in documented_commands(plan):
            apply_command(state, line)
        state.tokens[plan.token_id] = token_secret


_CSI_TEMPLATE = (Path(__file__).parent / "data" / "prepare-csi.template").read_text().splitlines()
_CSI_COMMANDS = Template("\n".join(line for line in _CSI_TEMPLATE if line and not line.startswith("#")))
CSI_TOKEN_ID = "kubernetes-csi@pve!csi"


def documented_csi_commands(token_id: str, storage: str) -> list[str]:
    """The README's commands for Proxmox CSI's own user, token and role."""
    user, _, token = token_id.partition("!")
    return _CSI_COMMANDS.substitute(user=user, token=token, token_id=token_id, storage=storage).splitlines()


def prepare_csi(state: ProxmoxTwinState, token_id: str, storage: str, token_secret: str) -> None:
    """The documented CSI preparation, then the CSI token's secret."""
    with state.lock:
        for line in documented_csi_commands(token_id, storage):
            apply_command(state, line)
        state.tokens[token_id] = token_secret

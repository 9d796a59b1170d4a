"""Who may do what: PVE's users, API tokens, roles and ACLs, and the permission checks built on them.

As pve-access-control: `roles()` walks the ACL tree from `/` to the path (a deeper entry replaces what
the walk collected so far; an entry on an ancestor counts only when it propagates; a token's own entry
wins over its user's), `permissions()` turns roles into privileges, and a token with privilege
separation gets only what both it and its user have (user ∩ token). `root@pam` may do anything.
A failed check is PVE's 403 "Permission check failed (<path>, <privilege>)".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from runner.lab.proxmox.errors import PveError
from runner.lab.proxmox.versions import privileges

ROOT = "root@pam"


def perm_error(what: str = "") -> PveError:
    """PVE::Exception::raise_perm_exc: the text lands in the HTTP status line (and, from PVE 8.4, the body)."""
    return PveError("Permission check failed" + (f" ({what})" if what else ""), 403)


def normalize_path(path: str) -> str:
    # PVE::AccessControl::normalize_path: collapse slashes, drop a trailing one
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts)


@dataclass
class AccessControl:
    """user.cfg: roles, users, tokens (with their privsep flag) and the ACL tree, as `version` reads it.

    A role keeps whatever privileges it was given; like the user.cfg parser ("ignore invalid privilege"),
    a release that does not know one of them (VM.Monitor after the upgrade to 9) leaves it out.
    Administrator holds every privilege of the release.
    """

    version: str  # the pve-manager release, e.g. 9.2.11
    roles: dict[str, frozenset[str]] = field(default_factory=lambda: {"NoAccess": frozenset()})
    users: set[str] = field(default_factory=lambda: {ROOT})
    privsep: dict[str, bool] = field(default_factory=dict)  # token id -> privilege separation
    # path -> {user or token id -> {role -> propagate}}
    acl: dict[str, dict[str, dict[str, bool]]] = field(default_factory=dict)

    @property
    def privileges(self) -> frozenset[str]:
        return privileges(self.version)

    def role(self, name: str) -> frozenset[str] | None:
        if name == "Administrator":
            return self.privileges
        found = self.roles.get(name)
        return None if found is None else found & self.privileges

    def add_role(self, name: str, wanted: Iterable[str]) -> None:
        """AccessControl::add_role_privs: the first privilege (in the order given) the release lacks is refused."""
        wanted = list(wanted)
        for priv in wanted:
            if priv not in self.privileges:
                raise PveError(f"invalid privilege '{priv}'")
        self.roles[name] = frozenset(wanted)

    def add_token(self, token_id: str, *, privsep: bool) -> None:
        self.privsep[token_id] = privsep

    def grant(self, path: str, who: str, role: str, propagate: bool = True) -> None:
        if self.role(role) is None:
            raise PveError(f"role '{role}' does not exist")
        self.acl.setdefault(normalize_path(path), {}).setdefault(who, {})[role] = propagate

    def revoke(self, path: str, who: str, role: str) -> None:
        self.acl.get(normalize_path(path), {}).get(who, {}).pop(role, None)

    def _roles(self, who: str, path: str) -> dict[str, bool]:
        """PVE::AccessControl::roles for a user, or a privsep token's own ACL entries (no groups or pools)."""
        roles: dict[str, bool] = {}
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts) + 1):
            final = depth == len(parts)
            entry = self.acl.get("/" + "/".join(parts[:depth]), {}).get(who, {})
            new = {role: prop for role, prop in entry.items() if final or prop}
            if new:
                roles = new  # a deeper entry overwrites what was collected above it
        return {"NoAccess": roles["NoAccess"]} if "NoAccess" in roles else roles

    def _privs(self, who: str, path: str) -> dict[str, bool]:
        privs: dict[str, bool] = {}
        for role, propagate in self._roles(who, path).items():
            for priv in self.role(role) or frozenset():
                privs[priv] = privs.get(priv, False) or propagate
        return privs

    def permissions(self, authid: str, path: str) -> dict[str, bool]:
        """RPCEnvironment::permissions: privilege -> propagate flag of `authid` on `path`."""
        if authid == ROOT:
            return dict.fromkeys(self.privileges, True)
        user, sep, _token = authid.partition("!")
        if sep:
            if authid not in self.privsep:
                return {}
            user_privs = self.permissions(user, path)
            if not self.privsep[authid]:
                return user_privs
            own = self._privs(authid, path)
            return {p: user_privs[p] and own[p] for p in own if p in user_privs}
        return self._privs(authid, path) if authid in self.users else {}

    def has(self, authid: str, path: str, privs: list[str], any_: bool = False) -> bool:
        held = self.permissions(authid, normalize_path(path))
        return any(p in held for p in privs) if any_ else all(p in held for p in privs)

    def check(self, authid: str, path: str, privs: list[str], any_: bool = False) -> None:
        """RPCEnvironment::check / check_any: 403 naming the path and the (first) missing privilege."""
        path = normalize_path(path)
        held = self.permissions(authid, path)
        if any_:
            if not any(p in held for p in privs):
                raise perm_error(f"{path}, {'|'.join(privs)}")
            return
        for priv in privs:
            if priv not in held:
                raise perm_error(f"{path}, {priv}")

    def check_api(self, authid: str, permissions: dict[str, Any] | None, params: dict[str, Any]) -> None:
        """RPCEnvironment::check_api2_permissions with the `permissions` object from apidata.js."""
        if authid == ROOT:
            return
        if not permissions:
            raise perm_error("user != root@pam")
        if permissions.get("user") == "all":
            return
        if check := permissions.get("check"):
            self._exec(authid, check, params, noerr=False)
            return
        raise perm_error()

    def _exec(self, authid: str, check: list[Any], params: dict[str, Any], *, noerr: bool) -> bool:
        test = check[0]
        if test == "and":
            return all(self._exec(authid, sub, params, noerr=noerr) for sub in check[1:])
        if test == "or":
            if any(self._exec(authid, sub, params, noerr=True) for sub in check[1:]):
                return True
            if noerr:
                return False
            raise perm_error()
        if test == "perm":
            template, privs, options = check[1], check[2], dict(zip(check[3::2], check[4::2], strict=False))
            if (required := options.get("require_param")) and params.get(required) is None:
                if noerr:
                    return False
                raise perm_error()
            path = template
            for key, value in params.items():
                path = path.replace("{" + key + "}", str(value))
            if noerr:
                return self.has(authid, path, privs, bool(options.get("any")))
            self.check(authid, path, privs, bool(options.get("any")))
            return True
        raise PveError(f"unknown permission test '{test}'")

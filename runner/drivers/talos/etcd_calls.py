"""etcd calls of talosctl: bootstrap, the member list, the etcd service's state, member removal.

Whether etcd was bootstrapped is read from these on every controller (see `runner.core.etcd_state`): a
member list fails with "context deadline exceeded" both before any bootstrap and while a bootstrapped etcd
is still starting, so it is never the only witness.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from runner.drivers.talos import batch
from runner.drivers.talos.api import EtcdMember, EtcdService
from runner.drivers.talos.process import TalosctlResult

log = logging.getLogger(__name__)


class EtcdCalls:
    """Mixed into the talosctl driver: uses its `_run`/`_call`/`_check` (credentials, redaction, timeouts)."""

    if TYPE_CHECKING:  # provided by the driver

        def _run(self, ip: str | Sequence[str], args: list[str]) -> TalosctlResult: ...
        def _call(self, ip: str, args: list[str]) -> str: ...
        def _check(self, command: str, ip: str, result: TalosctlResult) -> None: ...
        def _raise_permanent(self, command: str, result: TalosctlResult, missing: list[str]) -> None: ...

    def bootstrap(self, ip: str) -> None:
        result = self._run(ip, ["bootstrap"])
        if result.returncode != 0 and "code = AlreadyExists" in result.stderr:
            log.info("etcd on %s is already bootstrapped", ip)
            return
        self._check("bootstrap", ip, result)

    def etcd_member_details(self, ip: str) -> list[EtcdMember]:
        out = self._call(ip, ["etcd", "members"])
        lines = [line.split() for line in out.splitlines() if line.strip()]
        if not lines:
            return []
        offset = 1 if lines[0][0] == "NODE" else 0
        return [EtcdMember(cols[offset], cols[offset + 1], tuple(cols[offset + 2].split(","))) for cols in lines[1:]]

    def etcd_members(self, ip: str) -> list[str]:
        """IP addresses of the etcd members, as seen from `ip`."""
        return [m.ip for m in self.etcd_member_details(ip)]

    def etcd_healthy(self, ip: str) -> bool:
        """Whether the etcd service on `ip` reports HEALTH OK: its health check is a linearizable read on the
        local member (ValidateQuorum), so OK means this member is back, caught up, and the cluster has quorum.
        Membership alone says nothing of that: a rebooted member is listed long before it serves."""
        out = self._call(ip, ["service", "etcd"])
        fields = dict(line.split(None, 1) for line in out.splitlines() if len(line.split(None, 1)) == 2)
        return fields.get("HEALTH", "").strip() == "OK"

    def etcd_services(self, ips: Sequence[str]) -> dict[str, EtcdService]:
        """The etcd service of each node that answered, in one `talosctl service etcd` run (the nodes that
        did not answer are a WARNING; a node without etcd, a worker, has no entry)."""
        if not ips:
            return {}
        result = self._run(ips, ["service", "etcd"])
        found = batch.service_blocks(result.stdout)
        self._raise_permanent("service etcd", result, [ip for ip in ips if ip not in found])
        return {ip: EtcdService(found[ip].get("STATE", ""), found[ip].get("HEALTH", "")) for ip in ips if ip in found}

    def etcd_remove_member(self, ip: str, member_id: str) -> None:
        self._call(ip, ["etcd", "remove-member", member_id])

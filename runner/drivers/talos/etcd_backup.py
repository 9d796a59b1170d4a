"""etcd snapshot and recovery calls of talosctl (Talos "Disaster Recovery", v1.11).

- `talosctl -n <ip> etcd snapshot <path>` from one healthy controller (every member holds all the data);
- `talosctl -n <ip> reset --graceful=false --reboot --system-labels-to-wipe=EPHEMERAL` empties a controller's
  etcd data directory but keeps its machine config;
- `talosctl -n <ip> bootstrap --recover-from=<path>` on one controller waiting for bootstrap.

Snapshots are files the caller places (in a private directory of its own): they are binary and may be large,
so they never pass through the per-call work directory's text outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.talos.process import TalosctlResult


class EtcdBackupApi(Protocol):
    def etcd_snapshot(self, ip: str, dest: Path) -> int: ...
    def reset_ephemeral(self, ip: str) -> None: ...
    def bootstrap_recover(self, ip: str, snapshot: Path) -> None: ...


class EtcdBackupCalls:
    """Mixed into the talosctl driver: uses its `_run`/`_check` (credentials, redaction, timeouts)."""

    timeout: float

    if TYPE_CHECKING:  # provided by the driver

        def _run(
            self,
            ip: str,
            args: list[str],
            *,
            insecure: bool = False,
            files: dict[str, Secret] | None = None,
            timeout: float | None = None,
            extra_secrets: Sequence[str] = (),
        ) -> TalosctlResult: ...

        def _check(self, command: str, ip: str, result: TalosctlResult) -> None: ...

    def etcd_snapshot(self, ip: str, dest: Path) -> int:
        """Write a snapshot of etcd, taken on `ip`, to `dest`; returns its size in bytes."""
        result = self._run(ip, ["etcd", "snapshot", str(dest)], timeout=max(self.timeout, 600.0))
        self._check("etcd snapshot", ip, result)
        if not dest.is_file():
            raise Permanent(f"talosctl etcd snapshot on {ip} wrote no file")
        return dest.stat().st_size

    def reset_ephemeral(self, ip: str) -> None:
        args = ["reset", "--graceful=false", "--reboot", "--system-labels-to-wipe=EPHEMERAL", "--wait=false"]
        self._check("reset", ip, self._run(ip, args))

    def bootstrap_recover(self, ip: str, snapshot: Path) -> None:
        # Unlike a plain bootstrap, AlreadyExists is an error here: that node's etcd still has data.
        self._check("bootstrap", ip, self._run(ip, ["bootstrap", f"--recover-from={snapshot}"]))

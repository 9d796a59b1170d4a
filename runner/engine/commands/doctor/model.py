"""What a doctor check gets (the cluster, its secrets, settings, lazily built drivers) and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from runner.core.cluster_secrets import ClusterSecrets
from runner.core.spec import Cluster
from runner.engine.reconcile.target_settings import TargetSettings

if TYPE_CHECKING:
    from runner.drivers.proxmox import ProxmoxDriver
    from runner.engine.service.settings import Settings


class Result(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # not configured, or depends on a check that failed


@dataclass(frozen=True)
class Row:
    check: str
    result: Result
    detail: str
    fix: str = ""


@dataclass
class DoctorContext:
    """Everything checks read; nothing here writes anywhere."""

    root: Path
    name: str
    cluster: Cluster
    settings: TargetSettings
    secrets: ClusterSecrets | None
    secrets_error: str | None = None
    service: Settings | None = None  # the service's settings (webhook, forge), when they load
    service_error: str | None = None  # why they did not load, when some were given
    proxmox_unreachable: str | None = None  # set by the version check: the other Proxmox checks then skip
    _proxmox: ProxmoxDriver | None = field(default=None, repr=False)

    @property
    def proxmox(self) -> ProxmoxDriver:
        if self._proxmox is None:
            from runner.drivers.proxmox import ProxmoxDriver

            if self.secrets is None:
                raise RuntimeError("no secrets")
            spec = self.cluster.proxmox
            ca = self.settings.proxmox_ca_bundle or (Path(spec.ca_bundle) if spec.ca_bundle else None)
            self._proxmox = ProxmoxDriver(
                self.settings.proxmox_url or spec.url,
                self.secrets.proxmox_token_id,
                self.secrets.proxmox_token_secret,
                ca_bundle=str(ca) if ca else None,
                verify_tls=spec.verify_tls,
            )
        return self._proxmox

    def close(self) -> None:
        if self._proxmox is not None:
            self._proxmox.close()


# A check: one function of the context returning its rows (most return one).
Check = Callable[[DoctorContext], list[Row]]


def failed(check: str, detail: str, fix: str = "") -> list[Row]:
    """The one row a check returns when it found a problem."""
    return [Row(check, Result.FAIL, detail, fix)]


def passed(check: str, detail: str) -> list[Row]:
    """The one row a check returns when all is well."""
    return [Row(check, Result.OK, detail)]

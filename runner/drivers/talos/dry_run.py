"""`talosctl apply-config --dry-run`: Talos's own verdict on a config, without applying it.

machined answers a dry run with the mode it would pick and the diff against the running config
(siderolabs/talos v1.11.2 internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go ApplyConfiguration:
"Dry run summary:\\n<mode details> (skipped in dry-run).\\n<Config diff>"); talosctl prints it on stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from runner.core.secret import Secret
from runner.drivers.talos import failures

if TYPE_CHECKING:
    from runner.drivers.talos.process import TalosctlResult


class DryRunCalls:
    """Mixed into the talosctl driver: uses its `_run`/`_check` (credentials, redaction, timeouts)."""

    if TYPE_CHECKING:  # provided by the driver

        def _run(
            self,
            ip: str | Sequence[str],
            args: list[str],
            *,
            insecure: bool = False,
            files: dict[str, Secret] | None = None,
            timeout: float | None = None,
            extra_secrets: Sequence[str] = (),
        ) -> TalosctlResult: ...
        def _check(self, command: str, ip: str, result: TalosctlResult) -> None: ...

    def apply_config_dry_run(self, ip: str, config_yaml: Secret) -> str:
        """What Talos says applying `config_yaml` in auto mode would do (redacted); nothing is applied."""
        args = ["apply-config", "--file", "{workdir}/machine.yaml", "--mode", "auto", "--dry-run"]
        secrets = list(failures.config_secrets(config_yaml.reveal()))
        result = self._run(ip, args, files={"machine.yaml": config_yaml}, extra_secrets=secrets)
        self._check("apply-config --dry-run", ip, result)
        return result.redact(f"{result.stdout}\n{result.stderr}".strip())

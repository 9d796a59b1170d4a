"""Run every registered check against one cluster directory; read-only from start to end."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from runner.core.errors import RunnerError, SecretsError
from runner.drivers.sops import SopsCli
from runner.engine.commands.doctor.model import Check, DoctorContext, Result, Row
from runner.engine.reconcile.load import DecryptCache, load_cluster
from runner.engine.reconcile.source import DirSource
from runner.engine.reconcile.target_settings import TargetSettings
from runner.engine.service.settings import Settings


def _service_settings() -> tuple[Settings | None, str | None]:
    """The service's settings when they load (RUNNER_CONFIG / RUNNER_*), else None and why: nothing when there
    is no service config at all (the two settings without a default missing), else the validation errors."""
    try:
        return Settings(), None
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e["type"] != "missing"]
        return None, "; ".join(str(e["msg"]) for e in errors) or None


def build_context(root: Path, name: str, settings: TargetSettings, service: Settings | None = None) -> DoctorContext:
    """Load and validate the spec (errors raise, as for `validate`); decrypt the secrets if the key allows.

    `service`: the service's settings (forge, webhook); by default those that load from RUNNER_CONFIG or
    RUNNER_* variables, if any do.
    """
    cluster = load_cluster(DirSource(root), name, decrypt=None).cluster
    ctx = DoctorContext(root, name, cluster, settings, secrets=None)
    try:
        sops = SopsCli(age_key_file=settings.age_key_file)
        ctx.secrets = load_cluster(DirSource(root), name, DecryptCache(sops)).secrets
    except (SecretsError, RunnerError) as exc:
        ctx.secrets_error = str(exc)
    if service is None and isinstance(settings, Settings):
        service = settings
    if service is None:
        service, ctx.service_error = _service_settings()
    ctx.service = service
    return ctx


def run_checks(ctx: DoctorContext, checks: Sequence[Check] | None = None) -> list[Row]:
    from runner.engine.commands.doctor.registry import CHECKS

    rows: list[Row] = []
    for check in checks if checks is not None else CHECKS:
        try:
            rows += check(ctx)
        except RunnerError as exc:  # a check that did not catch its own error still gets a row
            rows.append(Row(check.__name__.replace("_", " "), Result.FAIL, str(exc)))
    ctx.close()
    return rows


def failed(rows: Sequence[Row]) -> bool:
    return any(row.result is Result.FAIL for row in rows)

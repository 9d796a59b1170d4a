"""The age key decrypts the cluster's secrets file (the loader already tried; this reports how it went)."""

from __future__ import annotations

from runner.drivers.sops import default_age_key_file
from runner.engine.commands.doctor.model import DoctorContext, Result, Row, failed, passed
from runner.engine.commands.key_separation import key_separation_findings


def age_key(ctx: DoctorContext) -> list[Row]:
    if ctx.secrets is None:
        return failed(
            "age key",
            ctx.secrets_error or "the secrets file could not be decrypted",
            "point age_key_file (or SOPS_AGE_KEY_FILE) at the runner's age key, a recipient of .sops.yaml",
        )
    return passed("age key", f"clusters/{ctx.name}/secrets.sops.yaml decrypts")


def key_separation(ctx: DoctorContext) -> list[Row]:
    """The Flux key (the one the cluster gets) opens the flux/ files and never the machine secrets."""
    runner_key = ctx.settings.age_key_file or default_age_key_file()
    findings = key_separation_findings(ctx.root, ctx.name, runner_key if runner_key.exists() else None)
    if not findings:
        return passed("key separation", "the Flux key opens flux/ files only, not the machine secrets")
    return [Row("key separation", Result.FAIL, str(f).split("; fix: ")[0], f.fix) for f in findings]

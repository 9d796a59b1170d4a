"""The age key decrypts the cluster's secrets file (the loader already tried; this reports how it went)."""

from __future__ import annotations

from runner.engine.doctor.model import DoctorContext, Result, Row


def age_key(ctx: DoctorContext) -> list[Row]:
    if ctx.secrets is None:
        return [
            Row(
                "age key",
                Result.FAIL,
                ctx.secrets_error or "the secrets file could not be decrypted",
                "point age_key_file (or SOPS_AGE_KEY_FILE) at the runner's age key, a recipient of .sops.yaml",
            )
        ]
    return [Row("age key", Result.OK, f"clusters/{ctx.name}/secrets.sops.yaml decrypts")]

"""The service's webhook secret is long enough (the forge token has its own module, forge.py)."""

from __future__ import annotations

from runner.engine.commands.doctor.model import DoctorContext, Result, Row, failed, passed

# GitHub: "a random string of text with high entropy"; 32 characters is `openssl rand -hex 16`
MIN_WEBHOOK_SECRET = 32


def webhook_secret(ctx: DoctorContext) -> list[Row]:
    if ctx.service is None:
        return [Row("webhook secret", Result.SKIP, "no service settings (RUNNER_CONFIG or RUNNER_* variables)")]
    length = len(ctx.service.webhook_secret.reveal())
    if length < MIN_WEBHOOK_SECRET:
        return failed(
            "webhook secret",
            f"{length} characters; at least {MIN_WEBHOOK_SECRET} are needed",
            "generate one: openssl rand -hex 32, and set it in the runner and the forge's webhook",
        )
    return passed("webhook secret", f"{length} characters")

"""The service's own credentials: the forge token may post statuses and comments; the webhook secret is long."""

from __future__ import annotations

from runner.core.errors import RunnerError
from runner.engine.commands.doctor.model import DoctorContext, Result, Row, failed, passed

# GitHub: "a random string of text with high entropy"; 32 characters is `openssl rand -hex 16`
MIN_WEBHOOK_SECRET = 32


def forge_token(ctx: DoctorContext) -> list[Row]:
    service = ctx.service
    if service is None or service.forge_kind == "none" or service.forge_token is None:
        return [Row("forge token", Result.SKIP, "no forge configured (forge_kind, forge_token)")]
    from runner.drivers.forge import GiteaForge, GitHubForge

    kind = GitHubForge if service.forge_kind == "github" else GiteaForge
    forge = kind(service.forge_url, service.forge_token)
    try:
        permissions = forge.repo_permissions(service.full_name)
    except RunnerError as exc:
        return failed("forge token", str(exc), "check forge_url, forge_token and repo_full_name")
    finally:
        forge.close()
    if not permissions.get("push"):
        return failed(
            "forge token",
            f"the token may not write to {service.full_name} (statuses and PR comments need write access)",
            "give the token write access (GitHub: Commit statuses + Pull requests: write; Gitea: repository write)",
        )
    return passed("forge token", f"may post statuses and comments on {service.full_name}")


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

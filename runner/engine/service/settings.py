"""Settings of the runner as a service: environment (`RUNNER_*`) first, then an optional TOML file.

Every setting has a documented default except the two the runner cannot guess (`repo_url`,
`webhook_secret`); leaving one of those out stops startup with a message naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict, SettingsError

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.engine.reconcile.target_settings import CONFIG_FILE_ENV, TargetSettings
from runner.engine.service.notifications import EVENTS
from runner.engine.service.notifications import Event as NotifyEvent

ENV_PREFIX = "RUNNER_"
MIN_SECRET = 16  # HMAC and API secrets shorter than this are guessable


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _to_secret(value: object) -> Secret:
    return value if isinstance(value, Secret) else Secret(str(value))


# A str in the environment/TOML becomes a Secret; dumps show "***", never the value.
SecretStr = Annotated[Secret, BeforeValidator(_to_secret), PlainSerializer(str, return_type=str)]


class Settings(TargetSettings):
    """Everything `runner serve` needs: the shared target settings plus repository, webhooks, queue, forge."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", arbitrary_types_allowed=True, frozen=True, validate_default=True
    )

    # --- the repository -------------------------------------------------------------------------
    repo_url: str = Field(description="Git URL of the cluster repository (https://, ssh://, file:// or a local path)")
    repo_full_name: str | None = Field(
        None, description="owner/name as the forge names the repo; default: the last two path parts of repo_url"
    )
    branch: str = Field("main", description="The protected branch: the only ref that is ever applied")
    fork_plans_online: bool = Field(
        False,
        description="Plan fork PRs against the live cluster (targets from the protected branch); off: offline",
    )
    clusters_dir: str = Field("clusters", description="Directory holding one sub-directory per cluster")
    flux_dir: str = Field("flux", description="Directory whose changes touch every cluster")
    git_username: str = Field("git", description="User name sent with git_token over HTTPS")
    git_token: SecretStr | None = Field(None, description="HTTPS token for fetching the repository")
    git_ssh_key: Path | None = Field(None, description="Private key file for ssh:// repository URLs")
    git_ssh_pubkey: Path | None = Field(None, description="Public key file matching git_ssh_key")
    git_ssh_passphrase: SecretStr | None = Field(None, description="Passphrase of git_ssh_key")

    # --- webhooks --------------------------------------------------------------------------------
    webhook_secret: SecretStr = Field(
        description=f"Shared HMAC secret of every webhook (GitHub, Gitea, generic); at least {MIN_SECRET} characters"
    )
    # GitHub caps webhook payloads at 25 MB (docs.github.com/en/webhooks/webhook-events-and-payloads).
    max_body_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Webhook bodies above this size get 413")
    replay_window: float = Field(
        300.0, gt=0, description="Seconds a generic hook's signed X-Runner-Timestamp may differ from now"
    )

    # --- storage and work ------------------------------------------------------------------------
    cache_dir: Path = Field(Path(".runner-cache"), description="Bare git cache (no working tree is ever made)")
    db_busy_timeout: float = Field(
        5.0, gt=0, description="Seconds a database write waits on a lock before the work is retried (or a 503)"
    )
    lease_seconds: float = Field(
        30.0,
        gt=0,
        description="Seconds a replica's queue claims and cluster leases last without its heartbeat (a third of "
        "this); a replica that died is replaced after this long",
    )
    settle_seconds: float = Field(
        1.0, ge=0, description="A new event waits this long for more of its burst before it is worked on"
    )
    workers: int = Field(2, ge=1, le=32, description="Worker threads; still one run per cluster at a time")
    drift_interval: float = Field(600.0, ge=0, description="Seconds between drift reconciles; 0 disables")
    poll_interval: float = Field(300.0, ge=0, description="Seconds between remote-head polls (webhook fallback); 0 off")
    retry_limit: int = Field(3, ge=0, description="Retries of a run that failed with a transient error")
    retry_backoff: float = Field(5.0, ge=0, description="Seconds before the first retry; doubles each time")

    # --- forge (commit statuses and PR comments) -------------------------------------------------
    forge_kind: Literal["none", "github", "gitea"] = Field("none", description="Where statuses and comments go")
    forge_url: str = Field("https://api.github.com", description="API base URL (Gitea: https://host, /api/v1 added)")
    forge_token: SecretStr | None = Field(None, description="Token used for statuses and comments")
    forge_bot_login: str | None = Field(
        None,
        description="The forge login the token acts as, whose plan comments are the runner's own; needed for a "
        "GitHub App installation token (ghs_...): '<app-slug>[bot]'; default: asked of the forge (GET /user)",
    )

    # --- notifications (apprise URLs: slack://, discord://, matrix://, ntfy://, mailto://, json://) ---------
    notify_urls: tuple[SecretStr, ...] = Field(
        (), description="apprise URLs that receive notices; they hold tokens, so they are treated as secrets"
    )
    notify_events: tuple[NotifyEvent, ...] = Field(
        EVENTS,
        description="Which notices to send: run_started, run_succeeded, run_failed, drift_found, window_wait, "
        "snapshot_failed",
    )
    notify_plans: bool = Field(False, description="Also notify about PR plans (their comment already tells the PR)")

    # --- HTTP ------------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the server binds to")
    port: int = Field(8080, ge=0, le=65535, description="Port the server binds to")
    public_url: str = Field("http://127.0.0.1:8080", description="Base URL of this server, used in status links")
    api_token: SecretStr | None = Field(
        None, description="Bearer token (or basic-auth password) for the UI and API; required off loopback"
    )
    api_user: str = Field("runner", description="User name that basic auth expects with api_token as password")
    metrics_open: bool = Field(False, description="Serve /metrics without the API token (for a scraper)")

    @field_validator("webhook_secret")
    @classmethod
    def _long_enough(cls, value: Secret) -> Secret:
        if len(value.reveal()) < MIN_SECRET:
            raise ValueError(f"must be at least {MIN_SECRET} characters (a random string: openssl rand -hex 32)")
        return value

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Settings:
        if not is_loopback(self.host) and (self.api_token is None or len(self.api_token.reveal()) < MIN_SECRET):
            raise ValueError(
                f"host={self.host} listens beyond loopback: set api_token (RUNNER_API_TOKEN, at least {MIN_SECRET}"
                " characters) so the UI and API are not open to anyone who reaches the port"
            )
        return self

    @model_validator(mode="after")
    def _bot_login_for_app_tokens(self) -> Settings:
        token = self.forge_token.reveal() if self.forge_token is not None else ""
        if self.forge_kind == "github" and token.startswith("ghs_") and not self.forge_bot_login:
            raise ValueError(
                "forge_token is a GitHub App installation token (ghs_...), which GitHub refuses GET /user: set "
                "forge_bot_login (RUNNER_FORGE_BOT_LOGIN) to the App's bot login, '<app-slug>[bot]'"
            )
        return self

    @property
    def full_name(self) -> str:
        if self.repo_full_name:
            return self.repo_full_name
        path = self.repo_url.rstrip("/").removesuffix(".git").replace(":", "/")
        return "/".join(path.split("/")[-2:])


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings or raise `Permanent` naming every missing/invalid variable (for a clear startup error)."""
    cls: type[Settings] = Settings
    config_file = config_file or (Path(os.environ[CONFIG_FILE_ENV]) if os.environ.get(CONFIG_FILE_ENV) else None)
    if config_file is not None:
        if not config_file.is_file():
            raise Permanent(f"{config_file}: settings file not found")
        cls = type("FileSettings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": config_file}})
    try:
        return cls(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise Permanent(f"{config_file}: not valid TOML: {exc}") from None
    except SettingsError as exc:  # e.g. RUNNER_ADDRESS_MAP that is not a JSON object
        raise Permanent(f"invalid runner settings: {exc}") from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"])
            what = "is required" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            label = f"{ENV_PREFIX}{name.upper()} ({name})" if name else "settings"
            lines.append(f"{label}: {what}")
        raise Permanent("invalid runner settings:\n  " + "\n  ".join(lines)) from None

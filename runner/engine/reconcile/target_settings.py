"""Settings every command shares (CLI and service): how to reach a cluster's systems, and where state lives.

Kept apart from the drivers so loading settings (the service's start-up) imports none of them.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

CONFIG_FILE_ENV = "RUNNER_CONFIG"  # a TOML file of settings; RUNNER_* variables win over it


class TargetSettings(BaseSettings):
    """Settings every command shares (CLI and service); all optional, all `RUNNER_*` variables."""

    # extra="ignore": the CLI reads the same TOML file as the service, whose other keys are not its business.
    model_config = SettingsConfigDict(env_prefix="RUNNER_", extra="ignore", frozen=True)

    db_path: Path = Field(
        Path("runner.db"), description="SQLite file: queue, run journal and what the runner remembers"
    )
    database_url: str | None = Field(
        None,
        description="Where the queue, journal and cluster state live: sqlite:///path (default: db_path) or "
        "postgresql://user@host/db (several `runner serve` replicas share it); schema migrations run at start",
    )
    age_key_file: Path | None = Field(
        None, description="age key for SOPS (default: SOPS_AGE_KEY_FILE, then sops' path)"
    )
    backup_dir: Path = Field(
        Path("backups"), description="Where etcd snapshots are stored (age-encrypted), e.g. a NAS mount"
    )
    proxmox_url: str | None = Field(None, description="Use this Proxmox API URL instead of the spec's proxmox.url")
    proxmox_ca_bundle: Path | None = Field(None, description="CA bundle for the Proxmox API (overrides the spec's)")
    image_factory_url: str | None = Field(None, description="Use this Image Factory instead of the spec's")
    talosctl_path: str = Field("talosctl", description="The talosctl executable")
    talosctl_paths: dict[str, str] = Field(
        default_factory=dict,
        description='One talosctl per Talos minor, e.g. {"1.12": "/opt/talosctl-1.12", "1.13": "/opt/talosctl-1.13"}: '
        "the runner uses the newest that drives every node's Talos (its own minor and the one before)",
    )
    address_map: dict[str, str] = Field(
        default_factory=dict,
        description='Reach cluster addresses elsewhere, e.g. {"10.0.0.11:6443": "127.0.0.1:7001"} (the lab uses it)',
    )
    max_parallel_steps: int = Field(5, ge=1, le=64, description="Plan steps run at once (VM creation, downloads, ...)")
    boot_timeout: float = Field(600.0, gt=0, description="Seconds a node may take to reach maintenance or running")
    flux_timeout: float = Field(900.0, gt=0, description="Seconds Flux may take to make its Kustomizations Ready")
    drain_timeout: float = Field(
        300.0, gt=0, description="Seconds a drain may wait for evictions (PodDisruptionBudgets) before it gives up"
    )
    poll_seconds: float = Field(2.0, gt=0, description="Seconds between checks while waiting on nodes and Flux")

    @field_validator("talosctl_paths")
    @classmethod
    def _minor_keys(cls, value: dict[str, str]) -> dict[str, str]:
        from runner.core.talosctl_choice import parse_minor_key

        for key in value:
            parse_minor_key(key)  # ValueError names the key
        return value

    @field_validator("database_url")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @property
    def store_url(self) -> str:
        """The database every part of the runner opens: `database_url`, else the SQLite file `db_path`."""
        return self.database_url or f"sqlite:///{self.db_path}"

    @field_validator("address_map")
    @classmethod
    def _host_ports(cls, value: dict[str, str]) -> dict[str, str]:
        for key, target in value.items():
            for what in (key, target):
                host, sep, port = what.rpartition(":")
                if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                    raise ValueError(f"{key!r} = {target!r}: both sides must be host:port (e.g. 10.0.0.11:6443)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then RUNNER_* variables, then the TOML file (if any).
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = settings_cls.model_config.get("toml_file") or os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(str(config_file))))
        return tuple(sources)


def mapped(settings: TargetSettings, host: str, port: int) -> str:
    return settings.address_map.get(f"{host}:{port}", f"{host}:{port}")

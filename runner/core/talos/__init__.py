"""Talos secrets bundle and machine-config generation (pure: no I/O, only `cryptography`)."""

from runner.core.talos.bundle_io import (
    bundle_fingerprint,
    bundle_from_dict,
    bundle_from_yaml,
    bundle_to_dict,
    bundle_to_yaml,
)
from runner.core.talos.documents import (
    RenderedConfig,
    config_hash,
    parse_machine_config,
    redacted,
    render_config,
    render_documents,
    render_machine_config,
    secret_strings,
)
from runner.core.talos.machineconfig import machine_config, tailscale_extension_config
from runner.core.talos.node_input import MachineConfigInput
from runner.core.talos.secrets_bundle import (
    CertAndKey,
    Certs,
    ClusterSecrets,
    KubeSecrets,
    SecretsBundle,
    TrustdInfo,
    generate_bundle,
)

__all__ = [
    "CertAndKey",
    "Certs",
    "ClusterSecrets",
    "KubeSecrets",
    "MachineConfigInput",
    "RenderedConfig",
    "SecretsBundle",
    "TrustdInfo",
    "bundle_fingerprint",
    "bundle_from_dict",
    "bundle_from_yaml",
    "bundle_to_dict",
    "bundle_to_yaml",
    "config_hash",
    "generate_bundle",
    "machine_config",
    "parse_machine_config",
    "redacted",
    "render_config",
    "render_documents",
    "render_machine_config",
    "secret_strings",
    "tailscale_extension_config",
]

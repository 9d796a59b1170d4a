"""Load a cluster from a source: validate the spec (cached per text), refuse plaintext secrets, decrypt (cached per
blob)."""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from runner.core.cluster_secrets import ClusterSecrets, parse_secrets
from runner.core.errors import Problem, SecretsError, SpecInvalid
from runner.core.input_limits import decode_spec
from runner.core.spec import Cluster
from runner.core.validate import validate_text
from runner.core.versions import flux_release_for
from runner.drivers.sops import Sops, is_encrypted
from runner.engine.reconcile.source import Source


@dataclass(frozen=True)
class LoadedCluster:
    cluster: Cluster
    warnings: tuple[Problem, ...]
    secrets: ClusterSecrets | None
    spec_file: str
    secrets_file: str


def cluster_paths(name: str) -> tuple[str, str]:
    return f"clusters/{name}/cluster.yaml", f"clusters/{name}/secrets.sops.yaml"


@dataclass
class DecryptCache:
    """Decrypted secrets by blob id: an unchanged secrets file costs no `sops` call. Memory only, never on disk."""

    sops: Sops
    _cache: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decrypt(self, blob_id: str, data: bytes, filename: str) -> dict[str, Any]:
        with self._lock:
            if blob_id in self._cache:
                return self._cache[blob_id]
        value = self.sops.decrypt(data, filename)
        with self._lock:
            self._cache = {blob_id: value}  # keep only the newest: old secrets need not linger in memory
        return value


@functools.cache
def installed_flux_releases() -> tuple[str, ...]:
    """The Flux releases the runner installs (the vendored manifests); a spec's Kubernetes must meet the
    minimum of one. Importing the Kubernetes driver waits until a spec is checked."""
    from runner.drivers.kube import vendored_flux_versions

    return vendored_flux_versions()


def flux_release_of(cluster: Cluster) -> str | None:
    """The Flux the runner installs on this cluster: the newest vendored release its Kubernetes supports."""
    return flux_release_for(cluster.kubernetes.version, installed_flux_releases())


@dataclass
class SpecCache:
    """Validated specs by the digest of their text, the newest per file: an unchanged cluster.yaml is parsed
    and checked once per engine. The parse grows with the spec, and every drift run would pay it again."""

    _cache: dict[str, tuple[str, Cluster, tuple[Problem, ...]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def validated(self, text: bytes, file: str) -> tuple[Cluster, tuple[Problem, ...]]:
        digest = hashlib.sha256(text).hexdigest()
        with self._lock:
            known = self._cache.get(file)
        if known is not None and known[0] == digest:
            return known[1], known[2]
        # A spec with problems is never kept.
        cluster, warnings = validate_text(decode_spec(text, file), file, flux_releases=installed_flux_releases())
        with self._lock:
            self._cache[file] = (digest, cluster, tuple(warnings))
        return cluster, tuple(warnings)


def load_cluster(
    source: Source, name: str, decrypt: DecryptCache | None, specs: SpecCache | None = None
) -> LoadedCluster:
    """Read and check everything before anything is observed or changed; raises SpecInvalid / SecretsError."""
    spec_file, secrets_file = cluster_paths(name)
    text = source.read(spec_file)
    if text is None:
        raise SpecInvalid([Problem(spec_file, None, None, "", f"not found at {source.label}")])
    cluster, warnings = (specs or SpecCache()).validated(text, spec_file)
    if cluster.name != name:
        raise SpecInvalid(
            [Problem(spec_file, None, None, "name", f"is {cluster.name!r} but the directory is {name!r}")]
        )
    secrets = None
    if decrypt is not None:
        data = source.read(secrets_file)
        if data is None:
            raise SecretsError(f"{secrets_file}: not found (create it with `runner init clusters/{name}`)")
        if not is_encrypted(data):
            raise SecretsError(f"{secrets_file}: the file is not SOPS-encrypted; refusing to use plaintext secrets")
        blob = source.blob_id(secrets_file) or ""
        secrets = parse_secrets(decrypt.decrypt(blob, data, secrets_file), secrets_file)
    return LoadedCluster(cluster, tuple(warnings), secrets, spec_file, secrets_file)

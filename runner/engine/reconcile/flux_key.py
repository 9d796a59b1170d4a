"""The Flux key as a reconcile hands it over: the declared key, and never one that opens the machine secrets.

See `runner.engine.commands.key_separation` for the whole-repository checks `validate` and `doctor` run.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.core.errors import Problem, SecretsError
from runner.core.secret import Secret
from runner.drivers.age import opens_data_key, recipient_of
from runner.engine.reconcile import sops_files
from runner.engine.reconcile.load import LoadedCluster
from runner.engine.reconcile.source import Source


@dataclass(frozen=True)
class Finding:
    """One way the repository breaks key separation: where, what, and how to fix it."""

    file: str
    line: int | None
    field: str
    message: str
    fix: str

    def problem(self) -> Problem:
        return Problem(self.file, self.line, None, self.field, f"{self.message}; fix: {self.fix}")

    def __str__(self) -> str:
        return str(self.problem())


def rotate_fix(name: str) -> str:
    return f"then rotate the Flux key, which could read them: runner rotate flux-key clusters/{name}"


def missing_key(secrets_file: str, name: str) -> Finding:
    return Finding(
        secrets_file,
        None,
        "flux.ageKey",
        "missing: there is no Flux key to hand to Flux",
        f"create one with: runner rotate flux-key clusters/{name}",
    )


def check_flux_key(key: Secret, declared: str, machine_secrets: bytes, file: str, name: str) -> str:
    """Refuse a Flux key that is not the declared one or that opens the machine secrets; its recipient if fine.

    Opening is tried for real (the key against every age stanza of the file's data key), so this holds even
    when the metadata names the recipient some other way."""
    recipient = recipient_of(key, f"{file}: flux.ageKey")
    if declared and recipient != declared:
        raise SecretsError(
            f"{file}: flux.ageKey is the key for {recipient}, but cluster.yaml says flux.ageRecipient {declared}"
        )
    stanzas = [e.enc for e in sops_files.age_entries(machine_secrets.decode(errors="replace"))]
    if opens_data_key(key, stanzas):
        raise SecretsError(
            f"{file}: refusing to hand Flux a key that decrypts the machine secrets (the Flux key {recipient} "
            f"is a recipient of this file); {rotate_fix(name)}"
        )
    return recipient


@dataclass(frozen=True)
class FluxKey:
    private: Secret
    recipient: str


def checked_flux_key(loaded: LoadedCluster, source: Source) -> FluxKey:
    """The key the runner may put in the sops-age Secret, checked right before it is handed over."""
    assert loaded.secrets is not None
    name = loaded.cluster.name
    key = loaded.secrets.flux_age_key
    if key is None:
        raise SecretsError(str(missing_key(loaded.secrets_file, name)))
    data = source.read(loaded.secrets_file) or b""
    declared = loaded.cluster.flux.age_recipient if loaded.cluster.flux else None
    return FluxKey(key, check_flux_key(key, declared or "", data, loaded.secrets_file, name))

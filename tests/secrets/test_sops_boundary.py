"""A secrets file (possibly a pull request's) cannot steer the real `sops` to a key service or a credential.

sops tries every master key listed in a file's metadata (getsops/sops sops.go `decryptKeyGroup`), so a file
naming a Vault address makes sops call it. The runner refuses such a file before sops runs, and runs sops
with a minimal environment so no cloud or Vault credential of the runner's is there to be sent.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from runner.core.errors import SecretsError
from runner.drivers.sops import SopsCli

ROOT = Path(__file__).resolve().parents[2]
AGE_KEY = ROOT / "tests/keys/lab.agekey"
SECRETS = ROOT / "clusters/home/secrets.sops.yaml"
RUNNER_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIARUNNERSOWNKEY000",
    "AWS_SECRET_ACCESS_KEY": "runner-aws-secret-value",
    "VAULT_TOKEN": "hvs.runner-vault-token-value",
    "VAULT_ADDR": "https://vault.runner.example",
    "GOOGLE_APPLICATION_CREDENTIALS": "/etc/runner/gcp.json",
    "AZURE_CLIENT_SECRET": "runner-azure-secret",
    "SOPS_KEYSERVICE": "tcp://keys.runner.example:5000",
}


@pytest.fixture
def vault() -> Iterator[tuple[str, list[bytes]]]:
    """A port posing as the Vault a hostile file names; records what arrives."""
    sock = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                try:
                    received.append(conn.recv(65536))
                except OSError:
                    received.append(b"")

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", received
    sock.close()


def naming(kind: str, vault_url: str, in_group: bool = False) -> bytes:
    """The real secrets file, its age key taken out and a key of `kind` put in its place."""
    yaml = YAML()
    doc = yaml.load(SECRETS.read_text())
    meta = doc["sops"]
    entry = {
        "hc_vault": {"vault_address": vault_url, "engine_path": "transit", "key_name": "runner"},
        "kms": {"arn": "arn:aws:kms:us-east-1:111122223333:key/x", "aws_profile": ""},
        "gcp_kms": {"resource_id": "projects/p/locations/global/keyRings/r/cryptoKeys/k"},
        "azure_kv": {"vault_url": vault_url, "name": "k", "version": "1"},
        "pgp": {"fp": "85D77543B3D624B63CEA9E6DBC17301B491B3F21"},
    }[kind] | {"created_at": "2026-11-25T04:43:03Z", "enc": "vault:v1:AAAA"}
    del meta["age"]
    if in_group:
        meta["key_groups"] = [{kind: [entry]}]
    else:
        meta[kind] = [entry]
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue().encode()


@pytest.mark.parametrize("in_group", [False, True], ids=["top-level", "key-group"])
@pytest.mark.parametrize("kind", ["hc_vault", "kms", "gcp_kms", "azure_kv", "pgp"])
def test_a_file_naming_a_key_service_is_refused_before_sops_runs(vault, kind, in_group) -> None:
    url, received = vault
    sops = SopsCli(age_key_file=AGE_KEY)
    with pytest.raises(SecretsError) as err:
        sops.decrypt(naming(kind, url, in_group), "clusters/home/secrets.sops.yaml")
    assert str(err.value) == (
        f"clusters/home/secrets.sops.yaml: its sops metadata lists {kind} keys; only age keys are accepted"
        " (the runner never asks a key service that a file names)"
    )
    assert sops.calls == 0 and received == []


def test_real_sops_calls_the_vault_a_file_names_without_a_runner_credential(vault, monkeypatch) -> None:
    """Why the refusal exists (the real binary, the check bypassed): sops dials the file's Vault address.
    With the minimal environment the runner's own Vault token does not travel with it."""
    url, received = vault
    for name, value in RUNNER_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    sops = SopsCli(age_key_file=AGE_KEY, timeout=20)
    with pytest.raises(SecretsError):
        args = ["decrypt", "--input-type", "yaml", "--output-type", "json", "/dev/stdin"]
        sops._run(args, naming("hc_vault", url), "f")
    assert received, "sops did not contact the Vault address in the file"
    assert not any(value.encode() in r for r in received for value in RUNNER_CREDENTIALS.values())


def test_sops_runs_with_a_minimal_environment(tmp_path, monkeypatch) -> None:
    for name, value in RUNNER_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    fake = tmp_path / "sops"  # prints the environment it was given, as the JSON `decrypt` expects
    fake.write_text(f"#!{sys.executable}\nimport json, os\nprint(json.dumps(dict(os.environ)))\n")
    fake.chmod(0o755)
    env = SopsCli(binary=str(fake), age_key_file=AGE_KEY).decrypt(SECRETS.read_bytes(), "s.yaml")
    assert set(env) - {"PATH", "LANG", "LC_ALL", "TZ"} == {"HOME", "SOPS_AGE_KEY_FILE"}, json.dumps(sorted(env))
    assert env["SOPS_AGE_KEY_FILE"] == str(AGE_KEY)
    assert not Path(env["HOME"]).exists()  # an empty private home, gone with the call

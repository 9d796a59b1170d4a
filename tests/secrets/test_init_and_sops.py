"""`runner init` and SOPS: real `sops` binary, real age keys; clear errors naming the file; nothing overwritten."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runner.core.cluster_secrets import parse_secrets
from runner.core.errors import SecretsError
from runner.core.secret import Redactor, Secret
from runner.core.talos import bundle_fingerprint, bundle_from_dict, bundle_from_yaml
from runner.drivers.age import find_or_create_key
from runner.drivers.sops import SopsCli
from runner.engine.commands.key_separation import repository_findings
from runner.engine.reconcile import sops_files
from runner.engine.reconcile.load import DecryptCache, load_cluster
from runner.engine.reconcile.source import DirSource

ROOT = Path(__file__).resolve().parents[2]
LAB_KEY = ROOT / "tests/keys/lab.agekey"
TALOSCTL_SECRETS = ROOT / "tests/talos_config/data/talos-testdata-secrets.yaml"


def runner_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "runner"
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "clusters/demo").mkdir(parents=True)
    shutil.copy(ROOT / "clusters/home/cluster.yaml", tmp_path / "clusters/demo/cluster.yaml")
    return tmp_path


def test_init_creates_a_key_an_sops_config_and_encrypted_secrets(repo: Path) -> None:
    key_file = repo / "keys/age.txt"
    result = runner_cli(
        "init",
        "clusters/demo",
        "--age-key-file",
        str(key_file),
        "--proxmox-token-id",
        "runner@pve!demo",
        cwd=repo,
        env={"RUNNER_INIT_PROXMOX_TOKEN_SECRET": "0b9e6a4c-1111-2222-3333-444455556666"},
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    public = find_or_create_key(key_file)[0].public
    assert public in (repo / ".sops.yaml").read_text()
    encrypted = (repo / "clusters/demo/secrets.sops.yaml").read_bytes()
    assert b"0b9e6a4c-1111-2222-3333-444455556666" not in encrypted and b"ENC[AES256_GCM" in encrypted
    data = SopsCli(age_key_file=key_file).decrypt(encrypted, "clusters/demo/secrets.sops.yaml")
    secrets = parse_secrets(data, "secrets.sops.yaml")
    assert secrets.proxmox_token_id == "runner@pve!demo"
    assert secrets.proxmox_token_secret.reveal() == "0b9e6a4c-1111-2222-3333-444455556666"
    assert secrets.tailscale_auth_key is not None and secrets.tailscale_auth_key.reveal() == "REPLACE-ME"
    bundle_from_dict(data["talos"])  # a complete Talos secrets bundle
    assert "fill in the REPLACE-ME values" in result.stdout


def test_init_refuses_to_overwrite_existing_secrets(repo: Path) -> None:
    key_file = repo / "age.txt"
    assert runner_cli("init", "clusters/demo", "--age-key-file", str(key_file), cwd=repo).returncode == 0
    target = repo / "clusters/demo/secrets.sops.yaml"
    before = target.read_bytes()
    again = runner_cli("init", "clusters/demo", "--age-key-file", str(key_file), cwd=repo)
    assert again.returncode == 1
    assert "clusters/demo/secrets.sops.yaml: already exists; refusing to overwrite existing secrets" in again.stderr
    assert target.read_bytes() == before


def test_init_imports_a_talosctl_gen_secrets_file(repo: Path) -> None:
    key_file = repo / "age.txt"
    result = runner_cli(
        "init", "clusters/demo", "--age-key-file", str(key_file), "--talos-secrets", str(TALOSCTL_SECRETS), cwd=repo
    )
    assert result.returncode == 0, result.stderr
    data = SopsCli(age_key_file=key_file).decrypt((repo / "clusters/demo/secrets.sops.yaml").read_bytes(), "f")
    imported = bundle_from_dict(data["talos"])
    assert bundle_fingerprint(imported) == bundle_fingerprint(bundle_from_yaml(TALOSCTL_SECRETS.read_text()))


TALOS_DATA = ROOT / "tests/talos_config/data"


@pytest.mark.parametrize(
    "name",
    [
        "terraform-output-stability.json",
        "terraform-machine-secrets-stability.json",
        "terraform-state-stability.json",
        "talos-golden-v1.13-base-controlplane.yaml",
    ],
)
def test_init_imports_terraform_secrets_and_a_controlplane_config(repo: Path, name: str) -> None:
    key_file = repo / "age.txt"
    result = runner_cli(
        "init", "clusters/demo", "--age-key-file", str(key_file), "--talos-secrets", str(TALOS_DATA / name), cwd=repo
    )
    assert result.returncode == 0, result.stderr
    data = SopsCli(age_key_file=key_file).decrypt((repo / "clusters/demo/secrets.sops.yaml").read_bytes(), "f")
    expected = bundle_from_yaml((TALOS_DATA / "talos-v1.13-stability-secrets.yaml").read_text())
    assert bundle_fingerprint(bundle_from_dict(data["talos"])) == bundle_fingerprint(expected)


def test_init_with_a_bad_terraform_file_names_it_and_writes_nothing(repo: Path) -> None:
    bad = repo / "tf.json"
    data = json.loads((TALOS_DATA / "terraform-machine-secrets-stability.json").read_text())
    token = data["secrets"].pop("bootstrap_token")
    bad.write_text(json.dumps(data, indent=2))
    key_file = repo / "age.txt"
    result = runner_cli("init", "clusters/demo", "--age-key-file", str(key_file), "--talos-secrets", str(bad), cwd=repo)
    assert result.returncode == 1
    assert f"{bad}: secrets.bootstrap_token (line 6) is required" in result.stderr
    assert token not in result.stderr + result.stdout
    assert sorted(p.name for p in repo.iterdir()) == ["clusters", "tf.json"]
    assert sorted(p.name for p in (repo / "clusters/demo").iterdir()) == ["cluster.yaml"]


def test_init_refuses_a_sops_config_that_would_lock_the_key_out(repo: Path) -> None:
    (repo / ".sops.yaml").write_text("creation_rules:\n  - age: age1someoneelse\n")
    result = runner_cli("init", "clusters/demo", "--age-key-file", str(repo / "age.txt"), cwd=repo)
    assert result.returncode == 1
    assert "is not a recipient" in result.stderr
    assert not (repo / "clusters/demo/secrets.sops.yaml").exists()


def _home_secrets() -> bytes:
    return (ROOT / "clusters/home/secrets.sops.yaml").read_bytes()


def test_wrong_key_is_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    other, _ = find_or_create_key(tmp_path / "other.txt")
    with pytest.raises(SecretsError) as info:
        SopsCli(age_key_file=other.path).decrypt(_home_secrets(), "clusters/home/secrets.sops.yaml")
    assert str(info.value).startswith("clusters/home/secrets.sops.yaml: cannot use secrets: no age key can decrypt it")


def test_tampered_file_fails_its_mac(tmp_path: Path) -> None:
    text = _home_secrets().decode()
    lines = text.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.strip().startswith("mac: ENC["))
    head, data = lines[i].split("data:", 1)
    lines[i] = head + "data:" + ("A" if data[0] != "A" else "B") + data[1:]
    with pytest.raises(SecretsError) as info:
        SopsCli(age_key_file=LAB_KEY).decrypt("\n".join(lines).encode(), "clusters/home/secrets.sops.yaml")
    assert "clusters/home/secrets.sops.yaml" in str(info.value) and "modified outside sops" in str(info.value)


def test_plaintext_secrets_are_refused_before_anything_runs(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "clusters/home", tmp_path / "clusters/home")
    (tmp_path / "clusters/home/secrets.sops.yaml").write_text("proxmox:\n  tokenId: a@b!c\n  tokenSecret: plain\n")
    sops = SopsCli(age_key_file=LAB_KEY)
    with pytest.raises(SecretsError) as info:
        load_cluster(DirSource(tmp_path), "home", DecryptCache(sops))
    assert "clusters/home/secrets.sops.yaml: the file is not SOPS-encrypted" in str(info.value)
    assert sops.calls == 0


def test_unchanged_secrets_blob_costs_no_second_sops_call() -> None:
    sops = SopsCli(age_key_file=LAB_KEY)
    cache = DecryptCache(sops)
    first = load_cluster(DirSource(ROOT), "home", cache)
    second = load_cluster(DirSource(ROOT), "home", cache)
    assert sops.calls == 1
    assert first.secrets == second.secrets


def test_secret_values_never_print_themselves() -> None:
    secret = Secret("s3cr3t-value")
    assert "s3cr3t" not in repr(secret) + str(secret) + f"{secret}" + repr([secret]) + repr({"k": secret})
    loaded = load_cluster(DirSource(ROOT), "home", DecryptCache(SopsCli(age_key_file=LAB_KEY)))
    assert loaded.secrets is not None
    shown = repr(loaded.secrets)
    assert all(value not in shown for value in loaded.secrets.values())
    redact = Redactor(loaded.secrets.values())
    token = loaded.secrets.proxmox_token_secret.reveal()
    assert redact(f"PVEAPIToken=x={token}") == "PVEAPIToken=x=***"


def test_init_creates_two_keys_and_keeps_them_apart(repo: Path) -> None:
    key_file = repo / "keys/age.txt"
    result = runner_cli("init", "clusters/demo", "--age-key-file", str(key_file), cwd=repo)
    assert result.returncode == 0, result.stderr
    runner_key = find_or_create_key(key_file)[0]
    secrets_file = "clusters/demo/secrets.sops.yaml"
    data = SopsCli(age_key_file=key_file).decrypt((repo / secrets_file).read_bytes(), secrets_file)
    flux_key = parse_secrets(data, secrets_file).flux_age_key
    assert flux_key is not None
    flux_file = repo / "flux.agekey"  # only so the real sops can try the Flux key
    flux_file.write_text(flux_key.reveal() + "\n")
    flux_recipient = find_or_create_key(flux_file)[0].public
    assert flux_recipient != runner_key.public
    assert f"Flux key {flux_recipient}" in result.stdout

    rules = sops_files.creation_rules((repo / ".sops.yaml").read_text())
    assert sops_files.rule_for(rules, secrets_file).recipients == {runner_key.public}  # type: ignore[union-attr]
    flux_rule = sops_files.rule_for(rules, "flux/apps/x.sops.yaml")
    assert flux_rule is not None and flux_rule.recipients == {runner_key.public, flux_recipient}
    assert f"ageRecipient: {flux_recipient}" in (repo / "clusters/demo/cluster.yaml").read_text()
    with pytest.raises(SecretsError, match="no age key can decrypt it"):
        SopsCli(age_key_file=flux_file).decrypt((repo / secrets_file).read_bytes(), secrets_file)
    assert repository_findings(repo, "demo") == []


def test_init_refuses_the_runners_key_as_the_flux_key(repo: Path) -> None:
    key_file = repo / "age.txt"
    find_or_create_key(key_file)
    result = runner_cli(
        "init", "clusters/demo", "--age-key-file", str(key_file), "--flux-age-key-file", str(key_file), cwd=repo
    )
    assert result.returncode == 1
    assert "the Flux key must not be the runner's key" in result.stderr
    assert not (repo / "clusters/demo/secrets.sops.yaml").exists() and not (repo / ".sops.yaml").exists()

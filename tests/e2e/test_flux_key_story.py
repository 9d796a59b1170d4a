"""Two age keys in the lab: the key Flux holds (read back from the Kubernetes twin's sops-age Secret) opens
every flux/**.sops.yaml and not the machine secrets; rotating it is a commit, and Flux stays Ready."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.cli.lab.session import LabSession
from runner.core.errors import SecretsError
from runner.drivers.age import read_key
from runner.drivers.sops import SopsCli

from .labkit import (
    REPO_ROOT,
    Home,
    describe,
    kustomizations_ready,
    last_run_id,
    plan_steps,
    queue_empty,
    request_run,
    runs,
    wait_until,
)
from .leaks import leaks

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("flux-key-story")]

SECRETS = "clusters/home/secrets.sops.yaml"
ANNOTATION = "runner.dev/flux-age-recipient"
OLD_FLUX_KEY = REPO_ROOT / "tests/keys/flux-lab.agekey"


@pytest.fixture(autouse=True)
def no_default_age_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sops would also try the keys in the user's config dir: only the key under test may be found."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)


def _find(session: LabSession, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    twin = session.world.kube_twin
    rt = twin.catalog.by_kind(api_version, kind)
    assert rt is not None
    found: dict[str, Any] | None = twin.store.find(rt, namespace, name)
    return found


def sops_age_secret(session: LabSession) -> dict[str, Any]:
    secret = _find(session, "v1", "Secret", "flux-system", "sops-age")
    assert secret is not None, "no sops-age Secret in the cluster"
    return secret


def key_file_from_the_cluster(session: LabSession, tmp_path: Path) -> Path:
    """The age key exactly as Flux has it, written where only this test's sops call looks."""
    data = sops_age_secret(session)["data"]
    path = tmp_path / "from-cluster.agekey"
    path.write_bytes(base64.b64decode(data["age.agekey"]))
    return path


def flux_files(session: LabSession) -> list[Path]:
    files = sorted((session.clone / "flux").rglob("*.sops.yaml"))
    assert files
    return files


def test_the_key_in_the_sops_age_secret_opens_flux_files_and_not_the_machine_secrets(
    home: Home, tmp_path: Path
) -> None:
    session, _ = home
    in_cluster = SopsCli(age_key_file=key_file_from_the_cluster(session, tmp_path))
    with pytest.raises(SecretsError, match="no age key can decrypt it"):
        in_cluster.decrypt((session.clone / SECRETS).read_bytes(), SECRETS)
    for path in flux_files(session):
        assert in_cluster.decrypt(path.read_bytes(), str(path))["kind"] == "Secret"
    # ... and the runner's own key really does open the machine secrets: the refusal above is the key's.
    machine_secrets = SopsCli(age_key_file=session.age_key).decrypt((session.clone / SECRETS).read_bytes(), SECRETS)
    # The annotation names the Flux key the secrets file holds now (the lab's own, or the one a rotation made).
    recipient = read_key_text(tmp_path, machine_secrets["flux"]["ageKey"])
    assert sops_age_secret(session)["metadata"]["annotations"][ANNOTATION] == recipient


def _rotate(session: LabSession) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "runner"
    return subprocess.run(
        [str(exe), "rotate", "flux-key", "clusters/home", "--age-key-file", str(session.age_key)],
        cwd=session.clone,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ),
    )


def test_rotating_the_flux_key_replaces_the_sops_age_secret_and_flux_stays_ready(home: Home, tmp_path: Path) -> None:
    session, _ = home
    wait_until(lambda: queue_empty(session), "the runner to be idle")
    api_token = SopsCli(age_key_file=session.age_key).decrypt(
        (session.clone / next(f for f in flux_files(session) if "cloudflare-api-token" in str(f))).read_bytes(),
        "flux file",
    )["stringData"]["api-token"]

    rotated = _rotate(session)
    assert rotated.returncode == 0, rotated.stderr
    changed = [line.split("changed ", 1)[1] for line in rotated.stdout.splitlines() if "changed " in line]
    assert set(changed) == {".sops.yaml", "clusters/home/cluster.yaml", SECRETS, *map(str, _rel(session))}
    commit = session.commit({rel: (session.clone / rel).read_bytes() for rel in changed}, "Rotate the Flux key")
    run = session.wait_for_run(session.push())
    assert run["commit_sha"] == commit
    assert run["result"] == "success", describe(run)
    assert [(s["kind"], s["id"]) for s in plan_steps(run)] == [
        ("replace_flux_key", "flux/sops-age"),
        ("wait_flux", "flux/ready"),
    ]

    new_key = SopsCli(age_key_file=session.age_key).decrypt((session.clone / SECRETS).read_bytes(), SECRETS)
    new_recipient = read_key_text(tmp_path, new_key["flux"]["ageKey"])
    assert new_recipient != read_key(OLD_FLUX_KEY).public
    assert sops_age_secret(session)["metadata"]["annotations"][ANNOTATION] == new_recipient
    in_cluster = SopsCli(age_key_file=key_file_from_the_cluster(session, tmp_path))
    assert read_key(in_cluster.age_key_file).public == new_recipient  # type: ignore[arg-type]

    ks = kustomizations_ready(session)
    assert ks and all(ks.values()), ks
    token = _find(session, "v1", "Secret", "cert-manager", "cloudflare-api-token")
    assert token is not None and token["data"]["api-token"] == base64.b64encode(api_token.encode()).decode()

    with pytest.raises(SecretsError, match="no age key can decrypt it"):
        in_cluster.decrypt((session.clone / SECRETS).read_bytes(), SECRETS)
    old = SopsCli(age_key_file=OLD_FLUX_KEY)
    for path in flux_files(session):
        in_cluster.decrypt(path.read_bytes(), str(path))
        with pytest.raises(SecretsError, match="no age key can decrypt it"):
            old.decrypt(path.read_bytes(), str(path))

    before = last_run_id(session)
    assert request_run(session).status_code == 202
    again = wait_until(
        lambda: [r for r in runs(session, "apply") if r["id"] > before and r["status"] == "finished"], "a manual run"
    )[0]
    assert again["result"] == "success", describe(again)
    assert plan_steps(again) == [], "once replaced, the Secret holds the repository's Flux key: nothing to do"
    wait_until(lambda: queue_empty(session), "the runner to be idle")
    assert leaks(session) == []


def _rel(session: LabSession) -> list[str]:
    return [str(p.relative_to(session.clone)) for p in flux_files(session)]


def read_key_text(tmp_path: Path, private: str) -> str:
    path = tmp_path / "from-secrets.agekey"
    path.write_text(private + "\n")
    return read_key(path).public

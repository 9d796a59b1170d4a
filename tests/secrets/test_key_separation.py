"""Two age keys: the Flux key (the sops-age Secret) opens flux/**.sops.yaml and never the machine secrets.

Real `sops`, real age keys, copies of the reference repository. The validation refusals name file:line and
field; the doctor check (`key_separation_findings`) also tries what the keys really open; the engine refuses
to hand Flux a key that opens the machine secrets before it touches the cluster.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.core.derive import derive
from runner.core.errors import SecretsError
from runner.core.secret import Secret
from runner.core.steps import Kind, Step
from runner.drivers.age import new_identity, read_key
from runner.drivers.sops import SopsCli
from runner.engine.commands.key_separation import (
    files_opened_by,
    key_separation_findings,
    repository_findings,
)
from runner.engine.reconcile.flux_key import checked_flux_key
from runner.engine.reconcile.handlers import StepRunner
from runner.engine.reconcile.load import DecryptCache, load_cluster
from runner.engine.reconcile.source import DirSource

from .test_init_and_sops import runner_cli

ROOT = Path(__file__).resolve().parents[2]
LAB_KEY = ROOT / "tests/keys/lab.agekey"
FLUX_KEY = ROOT / "tests/keys/flux-lab.agekey"
RUNNER = read_key(LAB_KEY).public
FLUX = read_key(FLUX_KEY).public
SECRETS = "clusters/home/secrets.sops.yaml"
SPEC = "clusters/home/cluster.yaml"
CASES = YAML(typ="safe", pure=True).load((Path(__file__).parent / "data/key_separation_cases.yaml").read_text())


def reference_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel in (".sops.yaml", "clusters/home", "flux", "schemas"):
        src, dst = ROOT / rel, root / rel
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return root


def _fill(text: str) -> str:
    return text.replace("{flux}", FLUX).replace("{runner}", RUNNER)


def _set_machine_rule_age(root: Path, age: str) -> None:
    config = (root / ".sops.yaml").read_text()
    old = f"secrets\\.sops\\.yaml$\n    age: {RUNNER}\n"
    assert old in config
    (root / ".sops.yaml").write_text(config.replace(old, f"secrets\\.sops\\.yaml$\n    age: {age}\n"))


def _set_spec_recipient(root: Path, recipient: str | None) -> None:
    text = (root / SPEC).read_text()
    line = f"  ageRecipient: {FLUX}\n"
    assert line in text
    (root / SPEC).write_text(text.replace(line, f"  ageRecipient: {recipient}\n" if recipient else ""))


def apply_case(root: Path, case: dict[str, Any]) -> None:
    if "machine_rule_age" in case:
        _set_machine_rule_age(root, _fill(case["machine_rule_age"]))
    if case.get("updatekeys_machine_secrets"):
        SopsCli(age_key_file=LAB_KEY).updatekeys(root / SECRETS, root / ".sops.yaml")
    if "flux_recipient" in case:
        _set_spec_recipient(root, _fill(case["flux_recipient"]) if case["flux_recipient"] else None)


def test_the_reference_repository_keeps_the_two_keys_apart() -> None:
    assert repository_findings(ROOT, "home") == []
    assert key_separation_findings(ROOT, "home", LAB_KEY) == []
    assert RUNNER != FLUX


def test_the_flux_key_opens_every_flux_file_and_not_the_machine_secrets(tmp_path: Path) -> None:
    flux_only = SopsCli(age_key_file=FLUX_KEY)
    with pytest.raises(SecretsError, match=f"{SECRETS}: cannot use secrets: no age key can decrypt it"):
        flux_only.decrypt((ROOT / SECRETS).read_bytes(), SECRETS)
    files = sorted((ROOT / "flux").rglob("*.sops.yaml"))
    assert files
    for path in files:
        assert flux_only.decrypt(path.read_bytes(), str(path))["kind"] == "Secret"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_validate_refuses_a_flux_key_that_could_open_the_machine_secrets(tmp_path: Path, case: dict[str, Any]) -> None:
    root = reference_copy(tmp_path)
    apply_case(root, case)
    found = repository_findings(root, "home")
    assert len(found) == len(case["expect"]), [str(f) for f in found]
    for finding, want in zip(found, case["expect"], strict=True):
        assert finding.file == want["file"]
        assert re.fullmatch(re.escape(want["field"]).replace(r"\?", r"\d"), finding.field), finding.field
        assert finding.line is not None
        line = (root / finding.file).read_text().splitlines()[finding.line - 1]
        assert line.strip() == _fill(want["line_text"]), (str(finding), line)
        assert finding.fix

    result = runner_cli("validate", "clusters/home", cwd=root)
    assert result.returncode == 1
    for finding in found:
        assert f"{finding.file}:{finding.line}: {finding.field}: " in result.stderr, result.stderr
    assert f"{len(found)} error" in result.stderr and "Traceback" not in result.stderr


def test_validate_accepts_the_reference_repository(tmp_path: Path) -> None:
    result = runner_cli("validate", "clusters/home", cwd=reference_copy(tmp_path))
    assert result.returncode == 0, result.stderr


def _set_flux_key(root: Path, key: Secret) -> None:
    SopsCli(age_key_file=LAB_KEY).set_value(root / SECRETS, '["flux"]["ageKey"]', key)


def test_doctor_check_refuses_a_flux_key_that_opens_the_machine_secrets(tmp_path: Path) -> None:
    root = reference_copy(tmp_path)
    _set_flux_key(root, read_key(LAB_KEY).private)  # the secrets file says: give Flux the runner's key
    _set_spec_recipient(root, RUNNER)
    found = key_separation_findings(root, "home", LAB_KEY)
    assert [(f.file, f.field) for f in found] == [
        (SECRETS, "sops.age[0].recipient"),
        (".sops.yaml", "creation_rules[0]"),
        (SECRETS, "flux.ageKey"),
    ]
    assert "refusing to hand Flux a key that decrypts the machine secrets" in found[2].message
    assert "runner rotate flux-key clusters/home" in found[2].fix


# every file under flux/ that Flux decrypts, in the order the checks walk them (sorted paths)
FLUX_FILES = (
    "flux/apps/platform/authentik/authentik-secrets.sops.yaml",
    "flux/apps/platform/gitea/gitea-secrets.sops.yaml",
    "flux/apps/platform/guacamole/guacamole-secrets.sops.yaml",
    "flux/apps/platform/harbor/harbor-admin.sops.yaml",
    "flux/apps/platform/kube-prometheus-stack/grafana-admin.sops.yaml",
    "flux/apps/platform/velero/velero-s3.sops.yaml",
    "flux/infrastructure/configs/cloudflare-api-token.sops.yaml",
    "flux/infrastructure/storage/proxmox-csi-config.sops.yaml",
)


def test_doctor_check_refuses_a_flux_key_that_is_not_the_declared_one(tmp_path: Path) -> None:
    root = reference_copy(tmp_path)
    _, stray = new_identity()
    _set_flux_key(root, stray)
    found = key_separation_findings(root, "home", LAB_KEY)
    assert [(f.file, f.field) for f in found] == [
        (SECRETS, "flux.ageKey"),
        *((f, "sops.age") for f in FLUX_FILES),
    ]
    assert f"but cluster.yaml says flux.ageRecipient {FLUX}" in found[0].message
    assert "cannot decrypt it" in found[1].message


def test_doctor_check_reports_a_missing_flux_key(tmp_path: Path) -> None:
    root = reference_copy(tmp_path)
    SopsCli(age_key_file=LAB_KEY)._run(["unset", str(root / SECRETS), '["flux"]'], b"", SECRETS)
    found = key_separation_findings(root, "home", LAB_KEY)
    assert [(f.file, f.field, f.message) for f in found] == [
        (SECRETS, "flux.ageKey", "missing: there is no Flux key to hand to Flux")
    ]


class Untouchable:
    """Stands in for every outside system: handing over a refused key must not reach any of them."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"touched {name} before the Flux key was checked")


def test_the_runner_refuses_to_install_a_sops_age_secret_that_opens_the_machine_secrets(tmp_path: Path) -> None:
    root = reference_copy(tmp_path)
    _set_flux_key(root, read_key(LAB_KEY).private)
    _set_spec_recipient(root, RUNNER)
    source = DirSource(root)
    loaded = load_cluster(source, "home", DecryptCache(SopsCli(age_key_file=LAB_KEY)))
    desired = derive(loaded.cluster, "v2.3.0")
    runner = StepRunner(
        loaded.cluster,
        desired,
        Untouchable(),  # type: ignore[arg-type]
        {},
        Untouchable(),  # type: ignore[arg-type]
        lambda: checked_flux_key(loaded, source),
        False,
    )
    step = Step("flux/install", Kind.INSTALL_FLUX, "flux", "install", params={"version": "v2.3.0"})
    with pytest.raises(SecretsError) as refused:
        runner(step)
    assert str(refused.value).startswith(f"{SECRETS}: refusing to hand Flux a key that decrypts the machine secrets")
    rekey = Step("flux/sops-age", Kind.REPLACE_FLUX_KEY, "flux", "replace", params={"recipient": RUNNER})
    with pytest.raises(SecretsError, match="refusing to hand Flux a key"):
        runner(rekey)


def test_the_reference_flux_key_is_handed_over(tmp_path: Path) -> None:
    source = DirSource(ROOT)
    loaded = load_cluster(source, "home", DecryptCache(SopsCli(age_key_file=LAB_KEY)))
    key = checked_flux_key(loaded, source)
    assert key.recipient == FLUX
    assert key.private == read_key(FLUX_KEY).private


def test_what_each_lab_key_opens_is_found_by_trying_it() -> None:
    flux_files = list(FLUX_FILES)
    assert files_opened_by(ROOT, read_key(LAB_KEY).private, "home") == ([SECRETS, *flux_files], [])
    assert files_opened_by(ROOT, read_key(FLUX_KEY).private, "home") == (flux_files, [SECRETS])


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_rotate_refuses_a_rule_shared_with_the_machine_secrets_and_changes_nothing(tmp_path: Path) -> None:
    root = reference_copy(tmp_path)
    (root / ".sops.yaml").write_text(f"creation_rules:\n  - age: {RUNNER}\n")  # one rule for every file
    before = _snapshot(root)
    result = runner_cli("rotate", "flux-key", "clusters/home", "--age-key-file", str(LAB_KEY), cwd=root)
    assert result.returncode == 1
    assert ".sops.yaml:2: creation_rules[0] matches both flux/any.sops.yaml and clusters/home/secrets.sops.yaml" in (
        result.stderr.replace("\n", " ")
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(root) == before


def test_rotate_without_the_runners_key_changes_nothing(tmp_path: Path) -> None:
    root = reference_copy(tmp_path)
    _, stranger = new_identity()
    key_file = tmp_path / "stranger.agekey"
    key_file.write_text(stranger.reveal() + "\n")
    before = _snapshot(root)
    result = runner_cli("rotate", "flux-key", "clusters/home", "--age-key-file", str(key_file), cwd=root)
    assert result.returncode == 1
    assert f"{SECRETS}: cannot use secrets: no age key can decrypt it" in result.stderr.replace("\n", " ")
    assert _snapshot(root) == before

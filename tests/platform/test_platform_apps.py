"""The platform apps, checked offline: pinned charts with valid values, manifests valid for the cluster's
Kubernetes, Pod Security levels, dependencies, secrets encrypted, every app behind the Gateway."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from runner.cli.main import app as cli
from runner.lab.kube.pod_security import violations
from tests.platform.repo import ROOT, apps, platform_repo, with_dependencies

APPS = apps()
PLATFORM = ROOT / "flux" / "apps" / "platform"


def test_every_app_directory_is_described_and_every_description_has_a_directory() -> None:
    assert sorted(p.name for p in PLATFORM.iterdir() if p.is_dir()) == sorted(APPS)


def validate(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(root / "clusters" / "home")])
    return result.exit_code, result.output


def test_every_app_enabled_together_validates(tmp_path: Path) -> None:
    code, output = validate(platform_repo(tmp_path, sorted(APPS)))
    assert code == 0, output


@pytest.mark.parametrize("app", sorted(APPS))
def test_a_misspelled_key_fails_validate_at_its_line(app: str, tmp_path: Path) -> None:
    typo = APPS[app]["typo"]
    root = platform_repo(tmp_path, with_dependencies(app, APPS))
    target = root / "flux" / "apps" / "platform" / app / typo["file"]
    yaml = YAML(typ="rt")
    docs = list(yaml.load_all(target.read_text()))
    *parents, key = typo["path"]
    node: Any = docs[0]
    for part in parents:
        node = node[part]
    line = node.lc.key(key)[0] + 1
    keys = list(node)
    node.insert(keys.index(key), typo["to"], node.pop(key))
    with target.open("w") as out:
        yaml.dump_all(docs, out)
    code, output = validate(root)
    assert code == 1, output
    where = f"flux/apps/platform/{app}/{typo['file']}:{line}"
    assert where in output and typo["to"] in output, output


def test_an_enabled_app_whose_dependency_is_off_is_refused_at_the_dependson_line(tmp_path: Path) -> None:
    root = platform_repo(tmp_path, ["harbor"])
    file = "flux/clusters/home/platform/harbor.yaml"
    line = next(i for i, text in enumerate((root / file).read_text().splitlines(), 1) if "platform-authentik" in text)
    code, output = validate(root)
    assert code == 1
    assert f"{file}:{line}: spec.dependsOn[1]: platform-harbor depends on platform-authentik" in output, output


def test_an_app_needing_the_domain_is_refused_when_cluster_yaml_has_no_platform(tmp_path: Path) -> None:
    code, output = validate(platform_repo(tmp_path, ["atuin"], with_platform=False))
    assert code == 1
    assert "flux/apps/platform/atuin/route.yaml:" in output and "set platform.domain in cluster.yaml" in output


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_app_depends_on_what_it_needs(app: str) -> None:
    doc = YAML(typ="safe").load((ROOT / "flux" / "clusters" / "home" / "platform" / f"{app}.yaml").read_text())
    depends = {d["name"] for d in doc["spec"]["dependsOn"]}
    assert set(APPS[app]["needs"]) <= depends, depends
    assert doc["spec"]["path"] == f"./flux/apps/platform/{app}"


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_namespace_enforces_its_level_and_the_apps_pods_pass_it(app: str) -> None:
    level = APPS[app]["level"]
    docs = [d for f in sorted((PLATFORM / app).glob("*.yaml")) for d in YAML(typ="safe").load_all(f.read_text()) if d]
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    assert len(namespaces) == 1
    labels = namespaces[0]["metadata"]["labels"]
    assert {labels[f"pod-security.kubernetes.io/{m}"] for m in ("enforce", "audit", "warn")} == {level}
    for workload in (d for d in docs if d["kind"] in ("Deployment", "StatefulSet")):
        pod = {"metadata": {}, "spec": workload["spec"]["template"]["spec"]}
        assert violations(level, pod) == [], (workload["metadata"]["name"], level)
        for container in pod["spec"]["containers"]:
            assert "requests" in container.get("resources", {}), container["name"]


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_app_sets_resource_requests_and_is_served_through_the_gateway(app: str) -> None:
    texts = {f.name: f.read_text() for f in (PLATFORM / app).glob("*.yaml")}
    assert any("requests:" in t for t in texts.values())
    if app != "velero":  # backups have no web interface
        route = YAML(typ="safe").load(texts["route.yaml"])
        assert route["kind"] == "HTTPRoute"
        assert all(re.search(r"\.\$\{platform_domain(:=[a-z0-9.-]+)?\}$", h) for h in route["spec"]["hostnames"])


def test_every_platform_secret_is_encrypted_to_the_flux_key() -> None:
    rules = YAML(typ="safe").load((ROOT / ".sops.yaml").read_text())["creation_rules"]
    flux_rule = next(r for r in rules if r["path_regex"].startswith("flux/"))
    files = sorted(PLATFORM.glob("*/*.sops.yaml"))
    assert files
    for file in files:
        doc = YAML(typ="safe").load(file.read_text())
        assert {a["recipient"] for a in doc["sops"]["age"]} == set(flux_rule["age"].split(",")), file
        assert all(str(v).startswith("ENC[") for v in doc["stringData"].values()), file


def test_a_talos_vip_is_refused_while_the_tree_still_runs_kube_vip_and_accepted_once_it_is_dropped(
    tmp_path: Path,
) -> None:
    root = platform_repo(tmp_path, [])
    spec = root / "clusters" / "home" / "cluster.yaml"
    spec.write_text(spec.read_text().replace("vipOwner: kube-vip", "vipOwner: talos"))
    daemonset = "flux/infrastructure/controllers/kube-vip/daemonset.yaml"
    line = next(i for i, t in enumerate((root / daemonset).read_text().splitlines(), 1) if t.startswith("  name:"))
    code, output = validate(root)
    assert code == 1
    assert f"{daemonset}:{line}:" in output and "kube-vip would answer for the VIP that Talos holds" in output
    listing = root / "flux" / "infrastructure" / "controllers" / "kustomization.yaml"
    listing.write_text(listing.read_text().replace("  - kube-vip\n", ""))
    code, output = validate(root)
    assert code == 0, output

"""The foreign cluster's configs, from the tests' own generator (foreign_gen), against what the runner would apply
to it once adopted, and the bundle every input layout gives: checked without a lab."""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.core.adoption.machineconfig import SECRET_PATHS, compare_configs
from runner.core.cluster_secrets import parse_secrets
from runner.core.derive import derive
from runner.core.secret import reveal_tree
from runner.core.talos import bundle_to_dict, parse_machine_config
from runner.core.talos.bundle_sources import bundle_from_source
from runner.core.talos.immediate import reboot_paths
from runner.drivers.talos_schema import schema_errors
from runner.engine.reconcile.configs import node_configs
from runner.engine.reconcile.load import load_cluster
from runner.engine.reconcile.source import DirSource
from tests.adopt.foreign_gen import generate, terraform_output_json
from tests.adopt.terraform import Terraform, spec, spec_text

NODES = ["talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"]


@functools.cache
def _terraform() -> Terraform:
    return Terraform.apply()


# The foreign cluster as the lab runs it, and the same cluster on Talos v1.13.9 with its default Kubernetes
# (pkg/machinery/constants DefaultKubernetesVersion@v1.13.9), built from the multi-document configs.
VERSIONS = {"v1.11.6": "v1.34.1", "v1.13.9": "v1.36.3"}


def _cluster(tmp_path: Path, talos: str = "v1.11.6") -> Any:
    (tmp_path / "clusters/home").mkdir(parents=True)
    (tmp_path / "clusters/home/cluster.yaml").write_text(spec_text(talos, VERSIONS[talos]))
    cluster = load_cluster(DirSource(tmp_path), "home", decrypt=None).cluster
    assert (cluster.talos.version, cluster.kubernetes.version) == (talos, VERSIONS[talos])
    return cluster


def _terraform_configs(desired: Any, talos: str = "v1.11.6") -> dict[str, list[dict[str, Any]]]:
    installers = {  # talos_image_factory_urls: the factory's installer of each node's schematic
        dn.name: f"factory.talos.dev/metal-installer/{dn.schematic_id}:{talos}" for dn in desired.nodes
    }
    doc = YAML(typ="safe").load(spec_text(talos, VERSIONS[talos]))
    texts = _terraform().configs(
        doc, installers, endpoint="https://10.0.0.20:6443", cluster_name="home", interface="eth0", talos_vip=True
    )
    by_ip = {dn.ip: dn.name for dn in desired.nodes}
    return {by_ip[ip]: [d for d in YAML(typ="safe").load_all(text) if d] for ip, text in texts.items()}


def test_every_secrets_layout_of_the_foreign_bundle_gives_the_same_bundle(tmp_path: Path) -> None:
    secrets = _terraform().secrets
    desired = derive(_cluster(tmp_path))
    texts = {
        "terraform output -json": json.dumps(terraform_output_json(secrets)),
        "machine_secrets": json.dumps(secrets),
        "controlplane config": _terraform().configs(
            spec(),
            {dn.name: "factory.talos.dev/metal-installer/x:v1.11.6" for dn in desired.nodes},
            endpoint="https://10.0.0.20:6443",
            cluster_name="home",
            interface="eth0",
            talos_vip=True,
        )["10.0.0.11"],
    }
    bundles = {what: bundle_to_dict(bundle_from_source(text, what)) for what, text in texts.items()}
    first = bundles["terraform output -json"]
    assert {what: b == first for what, b in bundles.items()} == dict.fromkeys(texts, True)
    assert str(first["secrets"]["bootstraptoken"]) == secrets["secrets"]["bootstrap_token"]


@pytest.mark.parametrize("talos", list(VERSIONS))
def test_the_runner_applies_the_foreign_configs_unchanged_once_adopted(tmp_path: Path, talos: str) -> None:
    cluster = _cluster(tmp_path, talos)
    desired = derive(cluster)
    output = json.dumps(terraform_output_json(_terraform().secrets))
    bundle = bundle_from_source(output, "terraform-output.json")
    keys = (Path(__file__).parents[1] / "keys/flux-lab.agekey").read_text().split()
    secrets = parse_secrets(
        {
            "proxmox": {"tokenId": "runner@pve!gitops", "tokenSecret": "x"},
            "talos": reveal_tree(bundle_to_dict(bundle)),
            "flux": {"ageKey": next(k for k in keys if k.startswith("AGE-SECRET-KEY-1"))},
        },
        "secrets.sops.yaml",
    )
    runner = node_configs(cluster, desired, secrets, bundle, None, endpoint=desired.vip_endpoint, adopted=True)
    live = _terraform_configs(desired, talos)
    assert sorted(live) == NODES
    for name in NODES:
        wanted = parse_machine_config(runner[name].text.reveal())
        comparison = compare_configs(live[name], wanted)
        assert (name, comparison.changes, comparison.secrets_differ) == (name, (), ())
        assert (name, reboot_paths(live[name], wanted)) == (name, [])
        # What the runner checks before apply-config: its config, and the foreign one, pass that Talos's schema.
        documents = [*wanted, *live[name]]
        assert [schema_errors(d, talos) for d in documents] == [[]] * len(documents)


VENDORED = Path(__file__).parents[1] / "data/vendored"
PROVIDER_ONLY = {"machine.install.disk", "machine.install.image"}  # terraform-provider-talos's own options


def _paths(value: Any, prefix: str = "") -> dict[str, Any]:
    """dotted path -> leaf, lists of mappings indexed; values that are secrets or per-cluster left as types."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out |= _paths(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            out |= _paths(item, f"{prefix}[{i}]")
    else:
        out[prefix] = value
    return out


@pytest.mark.parametrize("talos", ["v1.11.6", "v1.13.9"])
@pytest.mark.parametrize("kind", ["controlplane", "worker"])
def test_the_generator_writes_what_talos_writes(kind: str, talos: str) -> None:
    """Same documents and fields in the same order as upstream's golden file of that Talos; the same values
    wherever they are not this cluster's (secrets)."""
    text = (VENDORED / f"talos-{talos}-stability/base-{kind}.yaml").read_text()
    golden = [d for d in YAML(typ="safe").load_all(text) if d]
    ours = generate(kind, _terraform().secrets, "base", "https://base:6443", "1.28.0", talos)
    assert [d.get("kind") for d in ours] == [d.get("kind") for d in golden]
    theirs = _paths(golden[0]) | {f"{d['kind']}.{p}": v for d in golden[1:] for p, v in _paths(d).items()}
    mine = _paths(ours[0]) | {f"{d['kind']}.{p}": v for d in ours[1:] for p, v in _paths(d).items()}
    mine = {p: v for p, v in mine.items() if p not in PROVIDER_ONLY}
    assert list(mine) == list(theirs)
    secret = set(SECRET_PATHS)
    differing = sorted(p for p in theirs if theirs[p] != mine[p] and p not in secret)
    assert differing == []


def test_the_generator_shares_no_code_with_the_runner() -> None:
    """foreign_gen and the Terraform around it import nothing of the runner: what they agree on is upstream's."""
    files = [*sorted((Path(__file__).parent / "foreign_gen").glob("*.py")), Path(__file__).parent / "terraform.py"]
    imported = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert len(files) == 5
    assert sorted(m for m in imported if m.split(".")[0] == "runner") == []
    assert {m for m in imported if m.startswith("tests.")} == {
        "tests.adopt.foreign_gen",
        "tests.adopt.foreign_gen.config",
        "tests.adopt.foreign_gen.patch",
        "tests.adopt.foreign_gen.secrets",
    }


def _imports(file: Path) -> set[str]:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


def test_the_foreign_vms_and_schematics_share_no_code_with_the_runner() -> None:
    """The foreign VMs and schematics are the operator's data, sent as bpg/proxmox and the factory take them:
    none of the runner's desired state, schematic or rendering code builds them."""
    here = Path(__file__).parent
    translators = {f: _imports(here / f) for f in ("bpg.py", "schematics.py")}
    assert {f: sorted(m for m in imported if m.split(".")[0] == "runner") for f, imported in translators.items()} == {
        "bpg.py": [],
        "schematics.py": [],
    }
    builders = [here / "foreign.py", here / "test_adopt_address_taken.py"]
    forbidden = ("runner.core.derive", "runner.core.schematic", "runner.core.render", "runner.core.metanet")
    assert {f.name: sorted(m for m in _imports(f) if m.startswith(forbidden)) for f in builders} == {
        "foreign.py": [],
        "test_adopt_address_taken.py": [],
    }
    assert {m for m in _imports(here / "foreign.py") if m.startswith("tests.adopt")} == {
        "tests.adopt",
        "tests.adopt.schematics",
        "tests.adopt.terraform",
    }

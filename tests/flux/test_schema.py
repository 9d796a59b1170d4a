"""Every object under flux/ is valid for the API server that will receive it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from lightkube.core.resource_registry import resource_registry

from runner.lab.kube import postbuild, schema

from .conftest import FLUX, KUSTOMIZE_FILE, load_docs, manifest_files

GATEWAY_API = "gateway.networking.k8s.io"
FLUX_GROUPS = ("source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io")
CURRENT_VERSIONS = {
    "GitRepository": "source.toolkit.fluxcd.io/v1",
    "HelmRepository": "source.toolkit.fluxcd.io/v1",
    "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
}


def test_flux_objects_validate_against_the_vendored_crd_schemas(
    documents: list[tuple[Path, dict[str, Any]]], crd_schemas: dict[tuple[str, str], dict[str, Any]]
) -> None:
    flux_docs = [(p, d) for p, d in documents if d["apiVersion"].startswith(FLUX_GROUPS)]
    assert len(flux_docs) >= 10
    for path, doc in flux_docs:
        assert doc["apiVersion"] == CURRENT_VERSIONS[doc["kind"]], f"{path}: use {CURRENT_VERSIONS[doc['kind']]}"
        crd_schema = crd_schemas[(doc["apiVersion"], doc["kind"])]
        assert schema.validate(doc, crd_schema) == [], f"{path}: {doc['kind']} {doc['metadata']['name']}"
        assert schema.unknown_fields(doc, crd_schema) == [], f"{path}: fields the API server would drop"


def test_the_schema_check_can_fail(crd_schemas: dict[tuple[str, str], dict[str, Any]]) -> None:
    hr_schema = crd_schemas[("helm.toolkit.fluxcd.io/v2", "HelmRelease")]
    bad = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "x"},
        "spec": {
            "interval": "1m",
            "chart": {"spec": {"sourceRef": {"kind": "HelmRepository", "name": "r"}}},
            "releasName": "typo",
        },
    }
    assert ("spec.chart.spec.chart", "Required value") in schema.validate(bad, hr_schema)
    assert schema.unknown_fields(bad, hr_schema) == ["spec.releasName"]


def test_gateway_api_objects_validate_against_the_vendored_gateway_api_crds(
    documents: list[tuple[Path, dict[str, Any]]],
) -> None:
    crds = [d for _, d in documents if d["kind"] == "CustomResourceDefinition" and d["spec"]["group"] == GATEWAY_API]
    schemas = {
        (f"{GATEWAY_API}/{v['name']}", crd["spec"]["names"]["kind"]): v["schema"]["openAPIV3Schema"]
        for crd in crds
        for v in crd["spec"]["versions"]
        if v.get("served")
    }
    objects = [(p, _substituted(d)) for p, d in documents if d["apiVersion"].startswith(f"{GATEWAY_API}/")]
    routes = sorted(str(p.relative_to(FLUX)) for p, d in objects if d["kind"] == "HTTPRoute")
    platform_routes = sorted(str(p.relative_to(FLUX)) for p in FLUX.glob("apps/platform/*/route.yaml"))
    assert routes == sorted(["apps/podinfo/httproute.yaml", *platform_routes])
    assert [d["kind"] for _, d in objects].count("Gateway") == 1
    for path, doc in objects:
        crd_schema = schemas[(doc["apiVersion"], doc["kind"])]
        assert schema.validate(doc, crd_schema) == [], f"{path}: {doc['kind']} {doc['metadata']['name']}"
        assert schema.unknown_fields(doc, crd_schema) == [], f"{path}: fields the API server would drop"


def _substituted(doc: dict[str, Any]) -> dict[str, Any]:
    """What Flux applies: `${var}` from cluster-settings (a platform domain stands in), as kustomize-controller's
    envsubst does it (the twin's postBuild)."""
    return postbuild.substitute(doc, {"platform_domain": "apps.atlas-lab.net"}, strict=True)


def test_the_vendored_gateway_api_crds_are_the_upstream_files() -> None:
    """Each file's sha256 is the one its README records (standard channel of the tag it names)."""
    folder = FLUX / "infrastructure/gateway-api"
    recorded = dict(re.findall(r"^\| (\S+\.yaml) \| ([0-9a-f]{64}) \|$", (folder / "README.md").read_text(), re.M))
    assert len(recorded) == 5
    assert {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in recorded} == recorded


def test_builtin_objects_decode_as_their_kubernetes_types(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    builtin = [
        (p, d)
        for p, d in documents
        if "." not in d["apiVersion"].split("/")[0]
        or (".k8s.io/" in d["apiVersion"] and not d["apiVersion"].startswith(GATEWAY_API))
    ]
    assert {d["kind"] for _, d in builtin} >= {"Namespace", "DaemonSet", "ServiceAccount", "ClusterRole"}
    for path, doc in builtin:
        model = resource_registry.load(doc["apiVersion"], doc["kind"])
        body = {k: v for k, v in doc.items() if k != "sops"}
        try:
            msgspec.json.decode(json.dumps(body).encode(), type=model)
        except msgspec.ValidationError as e:  # pragma: no cover - the message is the point
            pytest.fail(f"{path}: {doc['kind']} {doc['metadata']['name']}: {e}")


def test_every_kustomization_references_existing_files_and_every_file_is_referenced() -> None:
    referenced: set[Path] = set()
    for kfile in sorted(FLUX.rglob(KUSTOMIZE_FILE)):
        [spec] = load_docs(kfile)
        assert spec["apiVersion"] == "kustomize.config.k8s.io/v1beta1" and spec["kind"] == "Kustomization"
        for rel in spec["resources"]:
            target = (kfile.parent / rel).resolve()
            assert target.exists(), f"{kfile.relative_to(FLUX)}: {rel} does not exist"
            if target.is_dir():
                assert (target / KUSTOMIZE_FILE).exists(), (
                    f"{rel}: a directory resource needs its own kustomization.yaml"
                )
            referenced.add(target)
        # An opt-in listing (`# - platform/<app>.yaml`, the platform apps a cluster may enable) counts too.
        for listed in re.findall(r"^\s*#\s*-\s*(\S+\.yaml)\s*$", kfile.read_text(), flags=re.M):
            assert (kfile.parent / listed).exists(), f"{kfile.relative_to(FLUX)}: {listed} does not exist"
            referenced.add((kfile.parent / listed).resolve())
    orphans = [p.relative_to(FLUX) for p in manifest_files() if p.resolve() not in referenced]
    assert orphans == [], "manifests no kustomization.yaml includes"

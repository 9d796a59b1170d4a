"""The flux/ tree as parsed documents, and the Flux CRD schemas from the vendored install manifest."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.drivers.kube import flux_install

PROJECT = Path(__file__).resolve().parents[2]
FLUX = PROJECT / "flux"
KUSTOMIZE_FILE = "kustomization.yaml"


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in YAML(typ="safe", pure=True).load_all(io.BytesIO(path.read_bytes())) if d]


def manifest_files() -> list[Path]:
    return sorted(p for p in FLUX.rglob("*.yaml") if p.name != KUSTOMIZE_FILE)


@pytest.fixture(scope="session")
def documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in manifest_files() for doc in load_docs(path)]


@pytest.fixture(scope="session")
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema for every served version of every vendored Flux CRD."""
    out = {}
    for doc in flux_install.vendored_components(flux_install.flux_version()):
        if doc["kind"] == "CustomResourceDefinition":
            spec = doc["spec"]
            for version in spec["versions"]:
                out[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = version["schema"][
                    "openAPIV3Schema"
                ]
    return out


def find(documents: list[tuple[Path, dict[str, Any]]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for _, d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]

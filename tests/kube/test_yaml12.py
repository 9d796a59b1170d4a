"""The twin's fast kustomize loader reads YAML as the YAML 1.2 parser does: every manifest of the project, and the
scalars where YAML 1.1 and 1.2 differ."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner.lab.kube import yaml12

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    p for d in ("flux", "clusters", "tests/kube/data") for p in (ROOT / d).rglob("*.yaml") if p.stat().st_size
)


def _ruamel(text: bytes) -> list[Any]:
    return list(YAML(typ="safe", pure=True).load_all(io.BytesIO(text)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_project_manifest_loads_as_the_yaml_1_2_parser_loads_it(path: Path) -> None:
    text = path.read_bytes()
    assert yaml12.load_all(text) == _ruamel(text)


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("yes", "yes"),
        ("on", "on"),
        ("No", "No"),
        ("true", True),
        ("FALSE", False),
        ("012", 12),
        ("0o17", 15),
        ("0x1f", 31),
        ("1:30", "1:30"),
        ("1.5e3", 1500.0),
        ("~", None),
        ("'true'", "true"),
        ("10.0.0.200", "10.0.0.200"),
    ],
)
def test_scalars_resolve_by_the_yaml_1_2_core_schema(scalar: str, value: Any) -> None:
    [doc] = yaml12.load_all(f"a: {scalar}\n".encode())
    assert doc == {"a": value}
    assert _ruamel(f"a: {scalar}\n".encode()) == [{"a": value}]

"""Render the runner's Helm chart (deploy/helm/runner) the way `helm template` would, with gotemplate."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.gotemplate import render

CHART = Path(__file__).parents[2] / "deploy" / "helm" / "runner"


def default_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return values


def merged(overrides: dict[str, Any]) -> dict[str, Any]:
    """values.yaml with `overrides` merged in, as `helm template -f` does for maps."""

    def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(base)
        for key, value in extra.items():
            out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        return out

    return merge(default_values(), overrides)


def template(values: dict[str, Any], release: str = "runner", namespace: str = "runner") -> list[dict[str, Any]]:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    context = {
        "Values": values,
        "Release": {"Name": release, "Namespace": namespace},
        "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
    }
    objects: list[dict[str, Any]] = []
    for path in sorted((CHART / "templates").glob("*.yaml")):
        objects += [d for d in yaml.safe_load_all(render(path.read_text(), context)) if d]
    return objects

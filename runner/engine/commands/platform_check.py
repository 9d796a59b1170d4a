"""`runner validate`'s checks of the Flux tree a cluster enables (flux/clusters/<name>/kustomization.yaml):

- each enabled Kustomization's `dependsOn` is enabled too (core/platform/dependencies);
- each HelmRelease under an enabled `flux/apps/platform/<app>` pins a chart version whose values definition
  is vendored, and its values pass it (core/platform/values_check). HelmReleases elsewhere (the CNI,
  cert-manager, ...) are checked when their chart version is vendored, and skipped otherwise;
- built-in objects (Deployments, StatefulSets, Services, ...) of the platform validate against the cluster's
  Kubernetes release, strictly: a misspelled field is refused, as `kubectl apply --validate=strict` would;
- every `${var}` such a Kustomization substitutes from cluster-settings is one cluster.yaml provides (Flux
  substitutes strictly here: one unset variable fails the Kustomization and everything after it).

Reads only the repository and vendored definitions: no cluster, no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import yaml

from runner.core.errors import Problem
from runner.core.flux_settings import SETTING_SOURCES
from runner.core.loader import plain
from runner.core.platform.dependencies import Dependency, EnabledKustomization, dependency_problems
from runner.core.platform.values_check import ChartDefinition, value_problems
from runner.engine.commands.flux_tree import Document, kind_of, kustomize_documents

PLATFORM = PurePosixPath("flux/apps/platform")
KUSTOMIZATION = ("kustomize.toolkit.fluxcd.io", "Kustomization")
HELM_RELEASE = ("helm.toolkit.fluxcd.io", "HelmRelease")
_CHARTS = resources.files("runner.vendored") / "charts"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?=[^}]*)?\}")  # Flux's ${var} and ${var:=default}


def platform_findings(
    root: Path, name: str, settings: Mapping[str, str], kubernetes: str, vip_owner: str = "kube-vip"
) -> list[Problem]:
    entry = root / "flux" / "clusters" / name / "kustomization.yaml"
    if not entry.exists():
        return []
    problems: list[Problem] = []
    kustomizations = [d for d in kustomize_documents(root, entry.parent, problems) if kind_of(d) == KUSTOMIZATION]
    for p in dependency_problems([_enabled(d) for d in kustomizations]):
        problems.append(Problem(p.file, p.line, None, p.field, p.message))
    for kustomization in kustomizations:
        path = str((kustomization.located.root.get("spec") or {}).get("path", "")).removeprefix("./")
        target = root / path
        if not path or not target.is_dir():
            where = ("spec", "path")
            problems.append(kustomization.located.problem(where, f"{path or '(empty)'} is not a directory here"))
            continue
        docs = list(kustomize_documents(root, target, problems))
        platform = PurePosixPath(path).is_relative_to(PLATFORM)
        if _substitutes_settings(kustomization):
            problems.extend(substitution_problems(docs, settings))
        if vip_owner == "talos":
            problems.extend(_kube_vip_problems(docs))
        for doc in docs:
            if kind_of(doc) == HELM_RELEASE:
                problems.extend(release_problems(doc, platform))
            elif platform:
                problems.extend(manifest_problems(doc, kubernetes))
    return problems


def _kube_vip_problems(docs: Iterable[Document]) -> list[Problem]:
    """One VIP owner: with `network.vipOwner: talos` the Talos controllers hold the VIP, so a kube-vip the
    cluster's tree still runs would answer ARP for the same address and move it on its own election."""
    problems = []
    for doc in docs:
        spec = ((doc.located.root.get("spec") or {}).get("template") or {}).get("spec") or {}
        images = [str(c.get("image", "")) for c in spec.get("containers") or [] if isinstance(c, dict)]
        if any("/kube-vip:" in image or image.startswith("kube-vip:") for image in images):
            message = (
                "kube-vip would answer for the VIP that Talos holds (network.vipOwner: talos in cluster.yaml): "
                "drop it from this cluster's Flux tree, or keep vipOwner: kube-vip, so that only one of them owns it"
            )
            problems.append(doc.located.problem(("metadata", "name"), message))
    return problems


def release_problems(doc: Document, platform: bool) -> list[Problem]:
    spec = doc.located.root.get("spec") or {}
    chart_spec = ((spec.get("chart") or {}).get("spec")) or {}
    chart, version = str(chart_spec.get("chart", "")), str(chart_spec.get("version", ""))
    definition = chart_definition(chart, version)
    if definition is None:
        if not platform:
            return []
        known = ", ".join(sorted(vendored_charts())) or "none"
        message = f"chart {chart} {version} is not a version the runner can check offline (known: {known})"
        return [doc.located.problem(("spec", "chart", "spec", "version"), message)]
    values = spec.get("values") or {}
    return [
        doc.located.problem(("spec", "values", *p.path), p.message) for p in value_problems(plain(values), definition)
    ]


def manifest_problems(doc: Document, kubernetes: str) -> list[Problem]:
    """A built-in kind against the published schema of the cluster's Kubernetes minor (strict: no unknown
    field). Custom resources (HTTPRoute, HelmRelease, ...) are not in that schema and are skipped here."""
    minor = ".".join(kubernetes.lstrip("v").split(".")[:2])
    try:
        kubernetes_validate.validate(plain(doc.located.root), minor, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return []
    except kubernetes_validate.ValidationError as exc:
        path = tuple(exc.absolute_path)
        field = exc.message.split("'")[1] if "was unexpected" in exc.message else None
        message = f"{exc.message} (Kubernetes {minor} schema of {kind_of(doc)[1]})"
        return [doc.located.problem((*path, field) if field else path, message)]
    except kubernetes_validate.InvalidSchemaError:
        return []
    return []


def substitution_problems(docs: Iterable[Document], settings: Mapping[str, str]) -> list[Problem]:
    problems = []
    for doc in docs:
        for path, text in _strings(doc.located.root, ()):
            for match in _VARIABLE.finditer(text):
                if match.group(2) is None and match.group(1) not in settings:
                    source = SETTING_SOURCES.get(match.group(1))
                    fix = f"set {source} in cluster.yaml" if source else "use one cluster.yaml provides"
                    message = (
                        f"${{{match.group(1)}}} is not in cluster-settings, so Flux would fail this Kustomization: "
                        f"{fix} (provided: {', '.join(sorted(settings))})"
                    )
                    problems.append(doc.located.problem(path, message))
    return problems


def vendored_charts() -> list[str]:
    return [f"{c.name} {v.name}" for c in _CHARTS.iterdir() if c.is_dir() for v in c.iterdir() if v.is_dir()]


@cache
def chart_definition(chart: str, version: str) -> ChartDefinition | None:
    if not chart or "/" in chart or "/" in version or chart.startswith(".") or version.startswith("."):
        return None
    folder = _CHARTS / chart / version
    if not folder.is_dir():
        return None
    defaults = yaml.load((folder / "values.yaml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema_file = folder / "values.schema.json"
    schema = json.loads(schema_file.read_text()) if schema_file.is_file() else None
    meta = yaml.safe_load((folder / "Chart.yaml").read_text()) or {}
    subcharts = frozenset(str(d.get("alias") or d.get("name")) for d in meta.get("dependencies") or [])
    return ChartDefinition(chart, version, defaults or {}, schema, subcharts)


def _substitutes_settings(doc: Document) -> bool:
    post = (doc.located.root.get("spec") or {}).get("postBuild") or {}
    return any((s or {}).get("name") == "cluster-settings" for s in post.get("substituteFrom") or [])


def _enabled(doc: Document) -> EnabledKustomization:
    root = doc.located.root
    meta = root.get("metadata") or {}
    namespace = str(meta.get("namespace", "default"))
    deps = []
    for i, dep in enumerate((root.get("spec") or {}).get("dependsOn") or []):
        if isinstance(dep, dict):
            line, _ = doc.located.position(("spec", "dependsOn", i, "name"))
            deps.append(Dependency(str(dep.get("name", "")), str(dep.get("namespace", namespace)), line))
    line, _ = doc.located.position(("metadata", "name"))
    return EnabledKustomization(doc.file, line, str(meta.get("name", "")), namespace, tuple(deps))


def _strings(node: Any, path: tuple[str | int, ...]) -> Iterable[tuple[tuple[str | int, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, i))
    elif isinstance(node, str):
        yield path, node

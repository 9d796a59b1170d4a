"""A cluster enables Flux Kustomizations by listing them; each one's `dependsOn` must be enabled too.

Flux holds a Kustomization whose dependency does not exist as "dependency not found" forever, and every
Kustomization after it waits behind it. So an app enabled without its storage, its secrets store or its
SSO provider is refused offline, at the `dependsOn` entry that names what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Dependency:
    name: str
    namespace: str
    line: int | None


@dataclass(frozen=True)
class EnabledKustomization:
    file: str
    line: int | None
    name: str
    namespace: str
    depends_on: tuple[Dependency, ...]


@dataclass(frozen=True)
class DependencyProblem:
    file: str
    line: int | None
    field: str
    message: str


def dependency_problems(enabled: Sequence[EnabledKustomization]) -> list[DependencyProblem]:
    present = {(k.namespace, k.name) for k in enabled}
    problems = []
    for kustomization in enabled:
        for i, dep in enumerate(kustomization.depends_on):
            if (dep.namespace, dep.name) not in present:
                problems.append(
                    DependencyProblem(
                        kustomization.file,
                        dep.line,
                        f"spec.dependsOn[{i}]",
                        f"{kustomization.name} depends on {dep.name}, which this cluster does not enable: Flux would "
                        f"hold {kustomization.name} (and everything after it) as 'dependency not found'; enable "
                        f"{dep.name} in the cluster's kustomization.yaml or drop {kustomization.name}",
                    )
                )
    return problems

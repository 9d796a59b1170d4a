"""The Flux tree as `kustomize build` starts from it: a folder's kustomization.yaml resources (files and
directories, recursively), each YAML document kept with its line numbers for file:line problems."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from runner.core.errors import Problem
from runner.core.loader import Located


@dataclass(frozen=True)
class Document:
    file: str  # relative to the repository root
    located: Located


def kustomize_documents(root: Path, folder: Path, problems: list[Problem]) -> Iterator[Document]:
    """The documents `kustomize build folder` starts from: its kustomization.yaml's resources, files and
    directories, recursively (no patches or generators: the flux/ tree uses none)."""
    kfile = folder / "kustomization.yaml"
    if not kfile.is_file():
        yield from (d for f in sorted(folder.glob("*.yaml")) for d in documents(root, f, problems))
        return
    kdocs = list(documents(root, kfile, problems))
    if not kdocs:
        return
    for resource in kdocs[0].located.root.get("resources") or []:
        target = (folder / str(resource)).resolve()
        if not target.is_relative_to(root.resolve()):
            continue  # a resource outside the repository is not ours to read
        if target.is_dir():
            yield from kustomize_documents(root, target, problems)
        elif target.is_file():
            yield from documents(root, target, problems)


def documents(root: Path, file: Path, problems: list[Problem]) -> Iterator[Document]:
    rel = file.resolve().relative_to(root.resolve()).as_posix()
    if rel.endswith(".sops.yaml"):
        return  # encrypted: its values are not ours to read here
    try:
        loaded = list(YAML(typ="rt").load_all(file.read_text()))
    except YAMLError as exc:
        problems.append(Problem(rel, None, None, "", f"invalid YAML: {exc}"))
        return
    for doc in loaded:
        if isinstance(doc, CommentedMap):
            yield Document(rel, Located(rel, doc))


def kind_of(doc: Document) -> tuple[str, str]:
    root = doc.located.root
    return str(root.get("apiVersion", "")).split("/")[0], str(root.get("kind", ""))

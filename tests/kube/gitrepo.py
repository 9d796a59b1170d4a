"""A throwaway bare git repository holding a copy of the project's flux/ tree, for the twin to reconcile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

PROJECT = Path(__file__).resolve().parents[2]
SIGNATURE = pygit2.Signature("lab", "lab@example.org", 1_700_000_000, 0)


@dataclass
class FluxRepo:
    path: Path
    branch: str = "main"

    @property
    def url(self) -> str:
        return "ssh://git@git.lab.example/home/cluster.git"

    def head(self) -> str:
        repo = pygit2.Repository(str(self.path))
        return str(repo.references[f"refs/heads/{self.branch}"].target)

    def commit(self, changes: dict[str, bytes | None], message: str = "change") -> str:
        """Write (or delete, with None) files relative to the repo root on top of the branch head."""
        repo = pygit2.Repository(str(self.path))
        ref = repo.references.get(f"refs/heads/{self.branch}")
        parents = [ref.target] if ref is not None else []
        index = pygit2.Index()
        if ref is not None:
            index.read_tree(repo[ref.target].peel(pygit2.Tree))
        for path, content in changes.items():
            if content is None:
                index.remove(path)
            else:
                index.add(pygit2.IndexEntry(path, repo.create_blob(content), pygit2.enums.FileMode.BLOB))
        tree = index.write_tree(repo)
        oid = repo.create_commit(f"refs/heads/{self.branch}", SIGNATURE, SIGNATURE, message, tree, parents)
        return str(oid)

    def read(self, path: str) -> bytes:
        repo = pygit2.Repository(str(self.path))
        commit = repo[repo.references[f"refs/heads/{self.branch}"].target].peel(pygit2.Commit)
        return bytes(repo[commit.tree[path].id].data)


def seed(path: Path) -> FluxRepo:
    pygit2.init_repository(str(path), bare=True, initial_head="main")
    repo = FluxRepo(path)
    files = {str(p.relative_to(PROJECT)): p.read_bytes() for p in sorted((PROJECT / "flux").rglob("*")) if p.is_file()}
    repo.commit(files, "seed flux tree")
    return repo

"""What source-controller fetches: the head of a branch in a (local, bare) git repository, read with pygit2."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pygit2


class SourceError(Exception):
    pass


class Tree:
    """Read-only view of one commit's files."""

    def __init__(self, repo: pygit2.Repository, commit: pygit2.Commit) -> None:
        self._repo = repo
        self._tree = commit.tree
        self.sha = str(commit.id)

    def _entry(self, path: str) -> pygit2.Object | None:
        path = path.strip("/").removeprefix("./").strip("/")
        if path in ("", "."):
            return self._tree
        try:
            return self._repo[self._tree[path].id]
        except KeyError:
            return None

    def is_dir(self, path: str) -> bool:
        return isinstance(self._entry(path), pygit2.Tree)

    def is_file(self, path: str) -> bool:
        return isinstance(self._entry(path), pygit2.Blob)

    def read(self, path: str) -> bytes:
        entry = self._entry(path)
        if not isinstance(entry, pygit2.Blob):
            raise FileNotFoundError(path)
        return bytes(entry.data)

    def walk(self, path: str) -> list[str]:
        """Every file under a directory, sorted, as repository-relative paths."""
        entry = self._entry(path)
        if not isinstance(entry, pygit2.Tree):
            return []
        base = path.strip("/").removeprefix("./").strip("/")
        out: list[str] = []
        for child in entry:
            child_path = f"{base}/{child.name}" if base else str(child.name)
            out.extend(self.walk(child_path) if child.type_str == "tree" else [child_path])
        return sorted(out)


class GitSource:
    """Maps GitRepository URLs to local bare repositories (the lab's git server)."""

    def __init__(self, repos: Mapping[str, Path], default: Path | None = None) -> None:
        self._repos = {url.rstrip("/"): Path(p) for url, p in repos.items()}
        self._default = default

    def checkout(self, url: str, branch: str) -> Tree:
        path = self._repos.get(url.rstrip("/"), self._default)
        if path is None or not path.exists():
            raise SourceError(
                f"failed to checkout and determine revision: unable to clone '{url}': repository not found"
            )
        repo = pygit2.Repository(str(path))
        ref = repo.references.get(f"refs/heads/{branch}")
        if ref is None:
            raise SourceError(
                f"failed to checkout and determine revision: unable to clone '{url}': "
                f'couldn\'t find remote ref "refs/heads/{branch}"'
            )
        commit = repo[ref.target]
        assert isinstance(commit, pygit2.Commit)
        return Tree(repo, commit)

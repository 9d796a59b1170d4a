"""Where a run reads the cluster's files from: a working directory, or a commit in the git cache.

Both answer the same two questions (file bytes, and an id that changes when the bytes do) so the rest of
the run does not care whether it plans a local edit or a pushed commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from runner.core.errors import Problem, SpecInvalid


class Source(Protocol):
    @property
    def label(self) -> str:
        """Shown in messages: "working tree" or a commit id."""

    def read(self, path: str) -> bytes | None: ...

    def blob_id(self, path: str) -> str | None: ...


@dataclass
class DirSource:
    root: Path
    label: str = "working tree"

    def read(self, path: str) -> bytes | None:
        file = self.root / path
        if not file.is_file():
            return None
        # A symbolic link may point anywhere; only files inside the repository are the repository's.
        if not file.resolve().is_relative_to(self.root.resolve()):
            raise SpecInvalid([Problem(path, None, None, "", "is a symbolic link to a file outside the repository")])
        return file.read_bytes()

    def blob_id(self, path: str) -> str | None:
        data = self.read(path)
        if data is None:
            return None
        # The same id git would give the blob, so caches are shared between local and git runs.
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _GitReader(Protocol):
    def read_file(self, commit: str, path: str) -> bytes: ...

    def blob_id(self, commit: str, path: str) -> str | None: ...


@dataclass
class CommitSource:
    repo: _GitReader
    commit: str

    @property
    def label(self) -> str:
        return self.commit[:12]

    def read(self, path: str) -> bytes | None:
        if self.repo.blob_id(self.commit, path) is None:
            return None
        return self.repo.read_file(self.commit, path)

    def blob_id(self, path: str) -> str | None:
        return self.repo.blob_id(self.commit, path)

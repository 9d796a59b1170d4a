"""Git via pygit2: a bare fetch cache and reads at a commit, never a working tree.

Pull requests are data: the runner reads blobs out of the object database and never checks out,
builds or runs anything from a repository (no hooks, no filters, no submodules).
"""

from __future__ import annotations

import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pygit2

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret

HEADS_REFSPEC = "+refs/heads/*:refs/heads/*"
PULL_REFSPEC = "+refs/pull/{n}/head:refs/pull/{n}/head"
_TRANSIENT_HINTS = re.compile(
    r"timed out|timeout|connection|could not resolve|network|reset by peer|unavailable|\b5\d\d\b", re.I
)


@dataclass(frozen=True)
class GitAuth:
    """HTTPS token or SSH key; None of it is ever logged (Secret)."""

    username: str = "git"
    token: Secret | None = None
    ssh_key: Path | None = None
    ssh_pubkey: Path | None = None
    ssh_passphrase: Secret | None = None

    def callbacks(self) -> pygit2.RemoteCallbacks:
        credentials: pygit2.UserPass | pygit2.Keypair | None = None
        if self.ssh_key is not None:
            pub = str(self.ssh_pubkey or self.ssh_key.with_suffix(".pub"))
            phrase = self.ssh_passphrase.reveal() if self.ssh_passphrase else ""
            credentials = pygit2.Keypair(self.username, pub, str(self.ssh_key), phrase)
        elif self.token is not None:
            credentials = pygit2.UserPass(self.username, self.token.reveal())
        return pygit2.RemoteCallbacks(credentials=credentials)


@dataclass(frozen=True)
class DirEntry:
    name: str
    kind: str  # "blob" | "tree" | "commit" (submodule)


def _translate(exc: Exception, what: str) -> Exception:
    text = str(exc)
    if _TRANSIENT_HINTS.search(text):
        return Transient(f"git {what}: {text}")
    return Permanent(f"git {what}: {text}")


def remote_heads(url: str, auth: GitAuth | None = None) -> dict[str, str]:
    """`git ls-remote` without a working tree: ref name -> commit id (the poll fallback)."""
    try:
        # libgit2 needs a repository to hang a remote on; an empty scratch one is enough.
        with tempfile.TemporaryDirectory(prefix="ls-remote-") as tmp:
            scratch = pygit2.init_repository(tmp, bare=True)
            remote = scratch.remotes.create_anonymous(url)
            heads = remote.list_heads(callbacks=(auth or GitAuth()).callbacks())
            return {h.name: str(h.oid) for h in heads if h.name and h.name.startswith("refs/")}
    except pygit2.GitError as exc:
        raise _translate(exc, f"ls-remote {url}") from None


class GitRepo:
    """A bare cache of one remote repository under `cache_dir`."""

    def __init__(self, url: str, cache_dir: Path, auth: GitAuth | None = None) -> None:
        self.url = url
        self.auth = auth or GitAuth()
        self.path = cache_dir / "repo.git"
        self._lock = threading.RLock()  # libgit2 objects are not shared across threads safely
        if (self.path / "HEAD").exists():
            self._repo = pygit2.Repository(str(self.path))
        else:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._repo = pygit2.init_repository(str(self.path), bare=True)

    def fetch(self, refspecs: list[str] | None = None) -> None:
        with self._lock:
            try:
                remote = self._repo.remotes.create_anonymous(self.url)
                remote.fetch(refspecs or [HEADS_REFSPEC], callbacks=self.auth.callbacks())
            except pygit2.GitError as exc:
                raise _translate(exc, f"fetch {self.url}") from None

    def ensure_commit(self, commit: str, pr_number: int | None = None) -> None:
        """Fetch until `commit` is present (branch heads first, then the forge's PR head ref)."""
        if self.has_commit(commit):
            return
        self.fetch()
        if not self.has_commit(commit) and pr_number is not None:
            self.fetch([PULL_REFSPEC.format(n=pr_number)])
        if not self.has_commit(commit):
            raise Permanent(f"git: commit {commit} not found in {self.url}")

    def has_commit(self, commit: str) -> bool:
        with self._lock:
            try:
                return isinstance(self._repo.get(commit), pygit2.Commit)
            except (ValueError, pygit2.GitError):
                return False

    def resolve(self, ref: str) -> str:
        """Branch name, full ref name or commit id -> commit id (from the cache; fetch first)."""
        with self._lock:
            for name in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
                if name in self._repo.references:
                    return str(self._repo.references[name].peel(pygit2.Commit).id)
            if self.has_commit(ref):
                return str(self._commit(ref).id)
        raise Permanent(f"git: ref {ref!r} not found in {self.url}")

    def _commit(self, commit: str) -> pygit2.Commit:
        obj = self._repo.get(commit)
        if not isinstance(obj, pygit2.Commit):
            raise Permanent(f"git: {commit} is not a commit in {self.url}")
        return obj

    def _tree_entry(self, commit: str, path: str) -> pygit2.Object | None:
        with self._lock:
            node: pygit2.Object = self._commit(commit).tree
            for part in [p for p in path.strip("/").split("/") if p]:
                if not isinstance(node, pygit2.Tree) or part not in node:
                    return None
                node = self._repo.get(node[part].id) or node[part]
            return node

    def read_file(self, commit: str, path: str) -> bytes:
        blob = self._tree_entry(commit, path)
        if not isinstance(blob, pygit2.Blob):
            raise Permanent(f"git: {path} not found at {commit[:12]}")
        return bytes(blob.data)

    def list_dir(self, commit: str, path: str = "") -> list[DirEntry]:
        tree = self._tree_entry(commit, path)
        if not isinstance(tree, pygit2.Tree):
            return []
        return sorted((DirEntry(e.name or "", e.type_str) for e in tree), key=lambda e: e.name)

    def blob_id(self, commit: str, path: str) -> str | None:
        """Object id of a file (cheap change detection: equal ids = equal bytes), None if absent."""
        blob = self._tree_entry(commit, path)
        return str(blob.id) if isinstance(blob, pygit2.Blob) else None

    def changed_paths(self, old: str | None, new: str) -> set[str]:
        """Every path added, modified, removed or renamed between two commits (old None = everything)."""
        with self._lock:
            new_tree = self._commit(new).tree
            if old is None or not self.has_commit(old):
                diff = new_tree.diff_to_tree(swap=True)  # from the empty tree: every path is new
            else:
                diff = self._commit(old).tree.diff_to_tree(new_tree)
            paths: set[str] = set()
            for delta in diff.deltas:
                paths.update(p for p in (delta.old_file.path, delta.new_file.path) if p)
            return paths

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is already contained in `descendant` (an older commit of the same line)."""
        with self._lock:
            if ancestor == descendant:
                return True
            if not (self.has_commit(ancestor) and self.has_commit(descendant)):
                return False
            return bool(self._repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor)))

    def merge_base(self, a: str, b: str) -> str | None:
        with self._lock:
            base = self._repo.merge_base(self._commit(a).id, self._commit(b).id)
            return str(base) if base else None

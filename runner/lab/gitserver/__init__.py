"""The lab's git server: a bare repository whose post-receive hook sends a signed push webhook.

The hook is a real executable `hooks/post-receive` (run by `sys.executable`), so a real `git push`
(git CLI) triggers it exactly as a forge would. Pushing with pygit2 needs no git CLI, but libgit2
never runs hooks on a local push, so `push()` then runs the hook itself the way git does: in the bare
repository with `GIT_DIR` set and one `<old> <new> <ref>` line per updated ref on stdin.
The webhook mimics Gitea (default) or GitHub: same headers, HMAC-SHA256 signature and payload shape.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pygit2

from runner.lab.gitserver.hook import HOOK_CONFIG, HOOK_LOG, ZERO, Flavor, redeliver

SIGNATURE = pygit2.Signature("Lab Operator", "operator@lab.invalid")


@dataclass
class LabGitServer:
    root: Path
    full_name: str = "lab/home"
    branch: str = "main"

    @property
    def bare(self) -> Path:
        return self.root / (self.full_name.replace("/", "-") + ".git")

    @property
    def url(self) -> str:
        return str(self.bare)

    def create(self) -> LabGitServer:
        if not (self.bare / "HEAD").exists():
            pygit2.init_repository(str(self.bare), bare=True, initial_head=self.branch)
        hook = self.bare / "hooks" / "post-receive"
        hook.parent.mkdir(parents=True, exist_ok=True)
        package_root = Path(__file__).resolve().parents[2]
        hook.write_text(
            f"#!{sys.executable}\n"
            "# Lab post-receive hook: sends a signed push webhook for every updated ref.\n"
            "import sys\n"
            f"sys.path.insert(0, {str(package_root)!r})\n"
            "from runner.lab.gitserver.hook import post_receive_main\n"
            "sys.exit(post_receive_main())\n"
        )
        hook.chmod(0o755)
        return self

    def configure_webhook(self, url: str, secret: str, flavor: Flavor = "gitea", forge_url: str | None = None) -> None:
        """Push webhooks to `url`; with `forge_url`, a push of any other branch also opens or updates its PR there."""
        config: dict[str, str | None] = {"url": url, "secret": secret, "flavor": flavor, "branch": self.branch}
        config |= {"full_name": self.full_name, "clone_url": self.url, "forge_url": forge_url}
        (self.bare / HOOK_CONFIG).write_text(json.dumps(config))

    def deliveries(self) -> list[str]:
        log = self.bare / HOOK_LOG
        return log.read_text().splitlines() if log.exists() else []

    def redeliver(self, delivery: str) -> tuple[str, str]:
        """Redeliver a past push delivery (the forge's "Redeliver" button); returns (delivery id sent, reply)."""
        return redeliver(self.bare, delivery)

    # --- putting commits in ----------------------------------------------------------------------

    def seed(self, source: Path, message: str = "seed from lab") -> str:
        """Commit the contents of `source` as the branch's new tree (directly in the bare repo), then fire the hook."""
        repo = pygit2.Repository(str(self.bare))
        ref = f"refs/heads/{self.branch}"
        old = str(repo.references[ref].target) if ref in repo.references else ZERO
        tree = _tree_from_dir(repo, source)
        parents = [] if old == ZERO else [pygit2.Oid(hex=old)]
        new = str(repo.create_commit(ref, SIGNATURE, SIGNATURE, message, tree, parents))
        self.run_hook([(old, new, ref)])
        return new

    def clone(self, dest: Path) -> Path:
        """A working copy for an operator (or a test) to edit and push back."""
        pygit2.clone_repository(self.url, str(dest), checkout_branch=self.branch)
        return dest

    def push(self, workdir: Path, branch: str | None = None) -> str:
        """Push a working copy's branch with pygit2 (no git CLI needed) and run the hook as git would."""
        branch = branch or self.branch
        ref = f"refs/heads/{branch}"
        bare = pygit2.Repository(str(self.bare))
        old = str(bare.references[ref].target) if ref in bare.references else ZERO
        work = pygit2.Repository(str(workdir))
        work.remotes["origin"].push([f"+{ref}:{ref}"])
        new = str(work.references[ref].target)
        if new != old:
            self.run_hook([(old, new, ref)])
        return new

    def git_push(self, workdir: Path, branch: str | None = None) -> str:
        """Push with the real git CLI (git itself runs the hook); needs `git` on PATH."""
        git = shutil.which("git")
        if git is None:
            raise RuntimeError("git CLI not found on PATH; use push() instead")
        branch = branch or self.branch
        subprocess.run([git, "push", "--quiet", "origin", f"{branch}:{branch}"], cwd=workdir, check=True)
        return str(pygit2.Repository(str(workdir)).references[f"refs/heads/{branch}"].target)

    def has_commit(self, full_name: str, sha: str) -> bool:
        """Whether the repository holds commit `sha` (what a forge checks before recording a status)."""
        if full_name.lower() != self.full_name.lower():
            return False
        try:
            return isinstance(pygit2.Repository(str(self.bare)).get(sha), pygit2.Commit)
        except ValueError:  # not a hex object id
            return False

    def merge(self, head: str, base: str, message: str) -> str:
        """Merge commit `head` into branch `base` as a forge's merge button does: fast-forward when `base` has
        not moved, else a merge commit (refused with ValueError on a conflict); the push hook then runs."""
        repo = pygit2.Repository(str(self.bare))
        ref = f"refs/heads/{base}"
        old = repo.references[ref].target
        theirs = pygit2.Oid(hex=head)
        if repo.descendant_of(theirs, old) or theirs == old:
            new = theirs
        else:
            index = repo.merge_commits(old, theirs)
            if index.conflicts is not None:
                raise ValueError(f"merging {head[:12]} into {base} conflicts; rebase the branch and push again")
            tree = index.write_tree(repo)
            new = repo.create_commit(None, SIGNATURE, SIGNATURE, message, tree, [old, theirs])
        repo.references[ref].set_target(new)
        self.run_hook([(str(old), str(new), ref)])
        return str(new)

    def run_hook(self, updates: list[tuple[str, str, str]]) -> None:
        hook = self.bare / "hooks" / "post-receive"
        if not (self.bare / HOOK_CONFIG).exists():
            return  # the hook would do nothing; skip starting an interpreter
        stdin = "".join(f"{old} {new} {ref}\n" for old, new, ref in updates)
        env = {**os.environ, "GIT_DIR": str(self.bare)}
        subprocess.run([str(hook)], input=stdin, text=True, cwd=self.bare, env=env, check=True, timeout=60)


def commit_files(workdir: Path, files: dict[str, str | bytes | None], message: str, branch: str = "main") -> str:
    """Write (or delete, value None) files in a working copy and commit them on `branch`."""
    repo = pygit2.Repository(str(workdir))
    ref = f"refs/heads/{branch}"
    if ref not in repo.references:
        repo.create_branch(branch, repo.head.peel(pygit2.Commit))
    if repo.head.name != ref:
        repo.checkout(ref)
    for rel, content in files.items():
        path = workdir / rel
        if content is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    return str(repo.create_commit("HEAD", SIGNATURE, SIGNATURE, message, tree, [repo.head.target]))


def _tree_from_dir(repo: pygit2.Repository, directory: Path) -> pygit2.Oid:
    builder = repo.TreeBuilder()
    for entry in sorted(directory.iterdir()):
        if entry.name == ".git":
            continue
        if entry.is_dir():
            builder.insert(entry.name, _tree_from_dir(repo, entry), pygit2.GIT_FILEMODE_TREE)
        else:
            mode = pygit2.GIT_FILEMODE_BLOB_EXECUTABLE if os.access(entry, os.X_OK) else pygit2.GIT_FILEMODE_BLOB
            builder.insert(entry.name, repo.create_blob(entry.read_bytes()), mode)
    return builder.write()


__all__ = ["Flavor", "LabGitServer", "commit_files"]

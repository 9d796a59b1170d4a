"""What `runner lab` prints about pull requests while it runs: opened, updated, merged, each plan
comment as the runner writes or edits it, and each commit status (read from the forge twin)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from runner.lab.forge import ForgeState

LAB_FILE = "lab.json"


class PullWatcher:
    def __init__(self, state: ForgeState, forge_url: str) -> None:
        self.state, self.forge_url = state, forge_url
        self._pulls: dict[int, tuple[str, str]] = {}  # number -> (sha, state) last shown
        self._comments: dict[int, int] = {}  # comment id -> edits last shown
        self._statuses: set[int] = set()

    def changes(self) -> list[str]:
        lines: list[str] = []
        for pull in sorted(self.state.pulls.by_number.values(), key=lambda p: p.number):
            shown = (pull.sha, "merged" if pull.merged else pull.state)
            if self._pulls.get(pull.number) != shown:
                what = "opened" if pull.number not in self._pulls else shown[1]
                if what == "open":
                    what = f"updated to {pull.sha[:12]}"
                url = f"{self.forge_url}/{pull.repo}/pulls/{pull.number}"
                lines.append(f"PR #{pull.number} ({pull.head} → {pull.base}) {what}: {url}")
                self._pulls[pull.number] = shown
            for comment in self.state.comments_on(pull.repo, pull.number):
                if self._comments.get(comment.id) != comment.edits:
                    verb = "edited" if comment.id in self._comments else "wrote"
                    lines.append(f"PR #{pull.number}: {comment.user} {verb} the plan comment:")
                    lines.extend(f"  │ {line}" for line in comment.body.splitlines() if not line.startswith("<!--"))
                    self._comments[comment.id] = comment.edits
            for status in self.state.statuses_for(pull.repo, pull.sha):
                if status.id not in self._statuses:
                    self._statuses.add(status.id)
                    lines.append(f"PR #{pull.number}: status {status.context} {status.state}: {status.description}")
        return lines


def merge(workdir: Path, number: int) -> dict[str, object]:
    """Ask a running lab's forge twin to merge pull request `number` (what a forge's merge button does)."""
    about_file = workdir / LAB_FILE
    if not about_file.is_file():
        raise FileNotFoundError(f"{about_file}: no running lab here (start one with: runner lab --workdir {workdir})")
    about = json.loads(about_file.read_text())
    request = urllib.request.Request(f"{about['forge']}/_lab/pulls/{about['repo']}/{number}/merge", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            reply: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        message = json.loads(exc.read() or b"{}").get("message", exc.reason)
        raise LookupError(f"PR #{number}: {message}") from None
    except OSError as exc:
        raise ConnectionError(f"the lab in {workdir} does not answer ({exc}); is it still running?") from None
    return reply

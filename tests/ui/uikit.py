"""Helpers of the UI tests: load the scenario into a real journal and snapshot store, and read pages as HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

from runner.engine.reconcile.clusterstate import ClusterStateStore
from runner.engine.service.journal import Journal
from runner.engine.service.queue import RunRequest
from tests.polling import poll_until

DATA = Path(__file__).parent / "data"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # the browser tests' screenshots (not in git)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
T = TypeVar("T")
# The keys of a run in data/runs.json that are Journal.start_run's arguments; the others say how it went.


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def populate(journal: Journal, store: ClusterStateStore) -> list[int]:
    """Insert the runs of data/runs.json (in file order) and the snapshots; returns the run ids in that order."""
    ids = []
    for spec in load("runs.json"):
        run_id = journal.start_run(
            RunRequest(
                spec["cluster"], spec["commit"], spec["ref"], spec["trigger"], spec["mode"], "lab/home", spec["pr"]
            )
        )
        plan_json = (DATA / spec["plan"]).read_text() if spec.get("plan") else None
        if spec.get("steps_from_plan") and plan_json:
            for step in json.loads(plan_json)["steps"]:
                journal.start_step(run_id, step["id"], step["kind"])
                journal.finish_step(run_id, step["id"], spec["steps_from_plan"], "done")
        for step_id, kind, status, message in spec.get("steps", []):
            journal.start_step(run_id, step_id, kind)
            if status != "running":
                journal.finish_step(run_id, step_id, status, message)
        for level, line in spec["logs"]:
            journal.log(run_id, line, level)
        if spec["result"] is not None:
            journal.finish_run(
                run_id,
                result=spec["result"],
                summary=spec["summary"],
                error=spec.get("error"),
                plan_json=plan_json,
            )
        ids.append(run_id)
    store.set_snapshot("home", load("snapshot_home.json"))
    store.set_snapshot("edge", load("snapshot_edge.json"))
    return ids


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class Page(HTMLParser):
    """A parsed page: every element with its attributes and the text inside it (nested text included)."""

    VOID = frozenset({"meta", "link", "input", "br", "img", "hr", "source"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self._gap()
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def _gap(self) -> None:
        # Element boundaries separate words, as a browser's rendering would (squash() folds the extra spaces).
        for element in self._open:
            element.text += " "

    def handle_endtag(self, tag: str) -> None:
        self._gap()
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def one(self, tag: str, **attrs: str) -> Element:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def texts(self, tag: str, **attrs: str) -> list[str]:
        return [squash(e.text) for e in self.all(tag, **attrs)]

    def badges(self) -> list[str]:
        return [squash(e.text) for e in self.elements if "badge" in e.attrs.get("class", "").split()]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def wait_until(predicate: Callable[[], T | None], what: str, timeout: float = 120.0) -> T:
    """Poll until `predicate` returns something (a whole lab bootstrap may be what is waited for)."""
    return poll_until(predicate, what, timeout=timeout, interval=0.05)

"""`runner watch`: re-validate and re-plan a local working copy whenever its cluster files are saved.

Editors save in bursts (write, rename, chmod, a backup file): the `Debouncer` turns every burst into one
re-plan once the files have been quiet for `delay` seconds. Re-plans run one at a time on the debouncer's
thread, so a slow plan is never overlapped by the next one; saves made meanwhile trigger one more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from runner.core.derive import derive
from runner.core.errors import RunnerError, SpecInvalid
from runner.core.planner import plan as make_plan
from runner.core.state import Observed
from runner.core.steps import Plan
from runner.engine.reconcile.load import flux_release_of, load_cluster
from runner.engine.reconcile.source import DirSource

Planner = Callable[[Path, str], Plan]  # (repository root, cluster name) -> plan
CLUSTER_FILE_SUFFIXES = (".yaml", ".yml")
# What a save looks like to inotify; opening or reading a file is not a change.
CHANGE_EVENTS = frozenset({"created", "modified", "moved", "deleted", "closed"})


def offline_planner(flux_version: str | None = None) -> Planner:
    """Plan against an empty observed state, like `runner plan --offline`: no secrets, no API calls."""

    def plan_offline(root: Path, name: str) -> Plan:
        loaded = load_cluster(DirSource(root), name, decrypt=None)
        version = flux_version or flux_release_of(loaded.cluster)
        return make_plan(derive(loaded.cluster, flux_version=version), Observed())

    return plan_offline


@dataclass(frozen=True)
class Replan:
    """One round of validate + plan: the plan, or the problems that prevented it."""

    number: int  # 1 is the plan at start, then one per burst of saves
    changed: tuple[str, ...]  # files (relative to the repository root) whose saves triggered it
    plan: Plan | None
    problems: tuple[str, ...]  # `file:line:col: field: message` lines, or the error, when there is no plan


def plan_once(root: Path, name: str, planner: Planner) -> tuple[Plan | None, tuple[str, ...]]:
    try:
        return planner(root, name), ()
    except SpecInvalid as exc:
        return None, tuple(str(p) for p in exc.problems)
    except RunnerError as exc:
        return None, (str(exc),)


class Debouncer:
    """Calls `action(paths)` once no `poke` came for `delay` seconds; pokes during the action start a new round."""

    def __init__(self, delay: float, action: Callable[[tuple[str, ...]], None]) -> None:
        self.delay = delay
        self._action = action
        self._cond = threading.Condition()
        self._pending: dict[str, None] = {}  # ordered set of changed paths
        self._last = 0.0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="watch-debounce", daemon=True)

    def poke(self, path: str) -> None:
        with self._cond:
            self._pending[path] = None
            self._last = time.monotonic()
            self._cond.notify()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _next_burst(self) -> tuple[str, ...] | None:
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            while not self._stopping and (quiet_left := self._last + self.delay - time.monotonic()) > 0:
                self._cond.wait(quiet_left)
            if self._stopping:
                return None
            paths = tuple(self._pending)
            self._pending.clear()
            return paths

    def _run(self) -> None:
        while (paths := self._next_burst()) is not None:
            self._action(paths)


class _ClusterFiles(FileSystemEventHandler):
    """Forwards saves of the cluster's YAML files (not editor swap or backup files) to the debouncer."""

    def __init__(self, cluster_dir: Path, root: Path, poke: Callable[[str], None]) -> None:
        self.cluster_dir = cluster_dir
        self.root = root
        self.poke = poke

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in CHANGE_EVENTS:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(raw if isinstance(raw, str) else raw.decode())
            if self.relevant(path):
                self.poke(path.relative_to(self.root).as_posix())

    def relevant(self, path: Path) -> bool:
        name = path.name
        return (
            path.parent == self.cluster_dir
            and name.endswith(CLUSTER_FILE_SUFFIXES)
            and not name.startswith((".", "#"))  # vim swap, emacs lock files
        )


class ClusterWatch:
    """Watches clusters/<name> under `root`; calls `on_replan` with the plan at start and after every burst."""

    def __init__(
        self,
        root: Path,
        name: str,
        planner: Planner,
        on_replan: Callable[[Replan], None],
        *,
        debounce: float = 0.3,
    ) -> None:
        self.root = root.resolve()
        self.name = name
        self.planner = planner
        self.on_replan = on_replan
        self.debouncer = Debouncer(debounce, self._replan)
        self._count = 0
        self._observer = Observer()
        handler = _ClusterFiles(self.root / "clusters" / name, self.root, self.debouncer.poke)
        # The clusters/ directory, recursively: it survives the cluster directory being replaced
        # (a checkout, an editor that rewrites the folder), which a watch on the folder itself would not.
        self._observer.schedule(handler, str(self.root / "clusters"), recursive=True)

    def start(self) -> None:
        """Watch first, then plan: a save during the first plan is not lost, it triggers the second."""
        self._observer.start()
        self._replan(())
        self.debouncer.start()

    def stop(self) -> None:
        self._observer.stop()
        self.debouncer.stop()
        self._observer.join()

    def __enter__(self) -> ClusterWatch:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _replan(self, changed: tuple[str, ...]) -> None:
        plan, problems = plan_once(self.root, self.name, self.planner)
        self._count += 1
        self.on_replan(Replan(self._count, changed, plan, problems))

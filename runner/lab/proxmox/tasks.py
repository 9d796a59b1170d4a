"""PVE worker tasks: UPIDs, logs, and completion after a delay.

A task's work runs when its time is due, on the next request that looks at the twin ("lazy tick"): the
observable behaviour equals a background worker finishing at that moment, without threads. The work may
raise `PveError`; its message becomes the task's exit status, exactly like `TASK ERROR: <msg>` in PVE.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.lab.proxmox.errors import PveError

Work = Callable[["Task"], None]


def encode_upid(node: str, pid: int, pstart: int, starttime: int, type_: str, id_: str, user: str) -> str:
    # PVE::UPID::encode
    return f"UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{type_}:{id_}:{user}:"


@dataclass
class Task:
    upid: str
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    user: str
    due: float  # monotonic time the work runs
    work: Work | None
    log: list[str] = field(default_factory=list)
    exitstatus: str | None = None  # None while running

    @property
    def running(self) -> bool:
        return self.exitstatus is None

    def status(self) -> dict[str, Any]:
        user, _, tokenid = self.user.partition("!")
        data: dict[str, Any] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": user,
            "status": "running" if self.running else "stopped",
        }
        if tokenid:
            data["tokenid"] = tokenid
        if not self.running:
            data["exitstatus"] = self.exitstatus
        return data


class TaskTable:
    def __init__(self, node: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._node = node
        self._clock = clock
        self._tasks: dict[str, Task] = {}
        self._pids = itertools.count(0x1F00)
        # While set, no task finishes: a test holds a run mid-flight (a browser sees it live) without timing.
        self.held = threading.Event()

    def start(self, type_: str, id_: str, user: str, delay: float, work: Work | None, first_line: str = "") -> Task:
        pid = next(self._pids)
        now = int(time.time())
        upid = encode_upid(self._node, pid, pid * 7 + 0x100000, now, type_, id_, user)
        task = Task(upid, self._node, pid, pid * 7 + 0x100000, now, type_, id_, user, self._clock() + delay, work)
        if first_line:
            task.log.append(first_line)
        self._tasks[upid] = task
        return task

    def get(self, upid: str) -> Task | None:
        return self._tasks.get(upid)

    def tick(self) -> None:
        """Finish every task whose time has come, oldest due first (work may depend on earlier tasks)."""
        if self.held.is_set():
            return
        now = self._clock()
        for task in sorted((t for t in self._tasks.values() if t.running and t.due <= now), key=lambda t: t.due):
            self.finish(task)

    def finish(self, task: Task) -> None:
        try:
            if task.work is not None:
                task.work(task)
        except PveError as exc:
            message = exc.message.rstrip("\n")
            task.log.append(message)
            task.exitstatus = message.splitlines()[0] if message else "unexpected status"
            task.log.append(f"TASK ERROR: {task.exitstatus}")
            return
        task.exitstatus = "OK"
        task.log.append("TASK OK")

    def running_for(self, id_: str) -> list[Task]:
        return [t for t in self._tasks.values() if t.running and t.id == id_]

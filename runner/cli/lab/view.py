"""The live terminal view of `runner lab`: phases, nodes, current steps, elapsed time."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runner.core.spec import Cluster
from runner.core.steps import Phase, Step

PHASE_TITLES = {
    Phase.INFRASTRUCTURE: "infrastructure",
    Phase.TALOS: "Talos",
    Phase.BOOTSTRAP: "bootstrap",
    Phase.KUBERNETES: "Flux hand-off",
}
MARKS = {"pending": "[dim]○[/]", "running": "[yellow]◐[/]", "done": "[green]●[/]", "failed": "[red]✗[/]"}
COLUMNS = ("node", "role", "ip", "VM", "Talos", "Kubernetes")
DROPPED_FIRST = ("ip", "role")  # on a narrow terminal: both are in cluster.yaml; the live state is not
PANEL = 4  # the panel's border and padding, left and right
# (VM state, Talos phase, Kubernetes state) of a node, by its VM id, address and name (LabWorld.node_view).
NodeState = Callable[[int, str, str], tuple[str, str, str]]


class LabView:
    """Collects run events (from any thread) and renders them with the world's state."""

    def __init__(self, cluster: Cluster, node_state: NodeState | None = None, width: Callable[[], int] = lambda: 80):
        self.cluster = cluster
        self.node_state = node_state
        self.width = width  # the terminal's, asked at each render: a window can be resized while the lab runs
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.phases: dict[Phase, str] = dict.fromkeys(PHASE_TITLES, "pending")
        self.counts: dict[Phase, list[int]] = {p: [0, 0] for p in PHASE_TITLES}  # done, total
        self.running: dict[str, Step] = {}
        self.recent: deque[str] = deque(maxlen=8)
        self.printed: list[str] = []  # finished-step lines, for non-terminal output

    # --- events (a Listener of the service's run function) ----------------------------------------
    def on_event(self, event: str, request: Any, payload: Any) -> None:
        with self.lock:
            if event == "plan":
                self.counts = {p: [0, 0] for p in PHASE_TITLES}
                for planned in payload.steps:
                    self.counts[planned.phase][1] += 1
            elif event == "step_started":
                step: Step = payload
                self.running[step.id] = step
                if self.phases[step.phase] == "pending":
                    self.phases[step.phase] = "running"
            elif event == "step_finished":
                step, status, message, seconds = payload
                self.running.pop(step.id, None)
                if status == "done":
                    self.counts[step.phase][0] += 1
                else:
                    self.phases[step.phase] = "failed"
                line = f"{'✓' if status == 'done' else '✗'} {step.id} ({seconds:.1f}s) {message}"
                self.recent.append(line)
                self.printed.append(line)
            elif event == "log":
                self.recent.append(f"  {payload}")
            elif event == "finished":
                for phase, (done, total) in self.counts.items():
                    if self.phases[phase] == "running" and done == total:
                        self.phases[phase] = "done"

    def mark_phases_done(self) -> None:
        with self.lock:
            for phase in self.phases:
                if self.phases[phase] != "failed":
                    self.phases[phase] = "done"

    # --- rendering ------------------------------------------------------------------------------
    def _phase_line(self) -> Text:
        parts = []
        for phase, title in PHASE_TITLES.items():
            done, total = self.counts[phase]
            status = self.phases[phase]
            if (
                status == "running"
                and total
                and done == total
                and not any(s.phase == phase for s in self.running.values())
            ):
                status = "done"
            parts.append(f"{MARKS[status]} {title} [dim]{done}/{total}[/]")
        return Text.from_markup(" → ".join(parts))  # the four phases fit one 80-column line

    def nodes_table(self, width: int) -> Table:
        """One line per node, never a cut name: columns the width cannot hold go, ip first, then role."""
        rows = []
        for node in self.cluster.nodes:
            vm, talos, kube = self.node_state(node.vmid, str(node.ip), node.name) if self.node_state else ("-",) * 3
            rows.append(dict(zip(COLUMNS, (node.name, node.role, str(node.ip), vm, talos, kube), strict=True)))
        columns = list(COLUMNS)
        widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
        for dropped in DROPPED_FIRST:
            if sum(widths[c] for c in columns) + 2 * (len(columns) - 1) <= width:
                break
            columns.remove(dropped)
        table = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, expand=False, header_style="bold")
        for column in columns:
            table.add_column(column, no_wrap=True, min_width=widths[column])
        for row in rows:
            table.add_row(*(row[c] for c in columns))
        return table

    def render(self) -> Panel:
        width = self.width()
        with self.lock:
            elapsed = time.monotonic() - self.started
            running = ", ".join(sorted(self.running)) or "-"
            body = Group(
                self._phase_line(),
                Text(""),
                self.nodes_table(width - PANEL),
                Text.from_markup(f"[bold]now:[/] {running}"),
                Text("\n".join(self.recent), style="dim"),
            )
        return Panel(body, title=f"runner lab: cluster {self.cluster.name}", subtitle=f"{elapsed:.1f}s")

"""Terminal rendering with rich; returns text so callers decide where it goes."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from runner.core.render.markdown import summary
from runner.core.steps import Plan


def plan_table(plan: Plan) -> Table:
    table = Table(title=f"Plan for cluster {plan.cluster}: {summary(plan)}", show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("phase")
    table.add_column("step")
    table.add_column("target")
    table.add_column("reason")
    for i, s in enumerate(plan.steps, 1):
        kind = f"[bold red]{s.kind.value}[/] (disruptive)" if s.disruptive else s.kind.value
        changes = "".join(f"\n  ~ {c}" for c in s.params.get("changes") or [])
        table.add_row(str(i), s.phase.value, kind, s.target, s.reason + changes)
    return table


def render_terminal(plan: Plan, width: int = 140, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None)
    console.print(plan_table(plan))
    for conflict in plan.conflicts:
        console.print(f"[bold red]conflict:[/] {conflict}", highlight=False)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    return buffer.getvalue()

"""Terminal rendering with rich; returns text so callers decide where it goes.

A wide terminal gets a table. A narrower one (an 80-column window, say) gets a compact list: one line per step
with its number, kind and whole target, the reason and changes indented below, so no target is ever cut short
and no row of a squeezed table wraps into a column of fragments.
"""

from __future__ import annotations

import io

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from runner.core.render.changes import change_label, change_lines, outline
from runner.core.render.markdown import summary
from runner.core.render.upgrade_order import upgrade_order
from runner.core.steps import Plan, Step

REASON_MIN = 30  # the table needs this much room for reasons, else the compact list reads better
INDENT = 6


def _changes(step: Step) -> str:
    lines = change_lines(step)
    return f"\n{change_label(step)}:" + "".join(f"\n  ~ {c}" for c in lines) if lines else ""


def _table_width(plan: Plan) -> int:
    """What the table needs to show every kind and target whole and leave REASON_MIN for the reasons."""
    kind = max(len(s.kind.value) + (len(" (disruptive)") if s.disruptive else 0) for s in plan.steps)
    target = max(len(s.target) for s in plan.steps)
    number, phase = len(str(len(plan.steps))), max(len(s.phase.value) for s in plan.steps)
    return number + phase + kind + target + REASON_MIN + 16  # 6 borders and 2 spaces of padding per column


def plan_table(plan: Plan) -> Table:
    table = Table(title=f"Plan for cluster {plan.cluster}: {summary(plan)}", show_lines=False, expand=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("phase", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("reason", min_width=REASON_MIN)
    for i, s in enumerate(plan.steps, 1):
        kind = f"[bold red]{s.kind.value}[/] (disruptive)" if s.disruptive else s.kind.value
        table.add_row(str(i), s.phase.value, kind, s.target, Text(s.reason + _changes(s)))
    return table


def plan_list(plan: Plan, width: int) -> list[RenderableType]:
    """The compact layout, in execution order; a phase heading wherever the phase changes."""
    out: list[RenderableType] = [Text.from_markup(f"[bold]Plan for cluster {plan.cluster}: {summary(plan)}[/]")]
    out.append(Text(outline(plan)))
    if plan.disruptive:
        out.append(Text.from_markup("[bold red]![/] marks a disruptive step (a reboot, a drain, a node going away)"))
    kind_width = max(len(s.kind.value) for s in plan.steps)
    phase = None
    for i, s in enumerate(plan.steps, 1):
        if s.phase != phase:
            phase = s.phase
            out.append(Text.from_markup(f"\n[bold]{phase.value}[/]"))
        mark = "[bold red]![/]" if s.disruptive else " "
        kind = f"[bold red]{s.kind.value}[/]" if s.disruptive else s.kind.value
        pad = " " * (kind_width - len(s.kind.value))
        head = f"{i:>3} {mark} {kind}{pad}  "
        if INDENT + kind_width + 2 + len(s.target) <= width:
            out.append(Text.from_markup(head) + Text(s.target))
        else:  # a target longer than the line: on its own line, folded rather than cut
            out += [
                Text.from_markup(head.rstrip()),
                Padding(Text(s.target, overflow="fold"), (0, 0, 0, INDENT), expand=False),
            ]
        out.append(Padding(Text(s.reason + _changes(s)), (0, 0, 0, INDENT), expand=False))
    return out


def render_terminal(plan: Plan, width: int = 140, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None)
    if not plan.steps or width >= _table_width(plan):
        console.print(plan_table(plan))
    else:
        for line in plan_list(plan, width):
            console.print(line, highlight=False)
    if order := upgrade_order(plan):
        console.print("upgrade order:", highlight=False)
        for line in order:
            console.print(f"  {line}", highlight=False, markup=False)
    for conflict in plan.conflicts:
        console.print(f"[bold red]conflict:[/] {conflict}", highlight=False)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())  # no padding to copy along

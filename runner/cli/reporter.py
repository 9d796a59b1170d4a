"""Step progress printed to the terminal, one line per finished step."""

from __future__ import annotations

from rich.console import Console

from runner.core.steps import Step


class ConsoleReporter:
    def __init__(self, console: Console) -> None:
        self.console = console

    def step_started(self, step: Step) -> None:
        self.console.print(f"[dim]→ {step.id}[/]: {step.reason}", highlight=False)

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        mark = {"done": "[green]✓[/]", "failed": "[red]✗[/]"}.get(status, "·")
        self.console.print(f"{mark} {step.id} [dim]({seconds:.1f}s)[/] {message}", highlight=False)

    def log(self, message: str) -> None:
        self.console.print(f"[dim]{message}[/]", highlight=False)

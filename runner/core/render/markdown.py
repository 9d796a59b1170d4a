"""Markdown for PR comments: a summary line, a table of steps in execution order, the changes each step makes
(labelled by what they change), conflicts and notes. A long plan folds under a one-line outline."""

from __future__ import annotations

from runner.core.render.changes import change_label, change_lines, outline, summary_of_count
from runner.core.render.upgrade_order import upgrade_order
from runner.core.steps import Plan

# Atlantis wraps a Terraform plan longer than 12 lines in <details> (server/events/markdown_renderer.go,
# maxUnwrappedLines); a step is our line.
FOLD_AFTER = 12


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(plan: Plan) -> str:
    if plan.empty and not plan.conflicts:
        return "No changes: the cluster matches the spec."
    text = summary_of_count(plan)
    if d := len(plan.disruptive):
        text += f", {d} disruptive"
    if plan.conflicts:
        text += f", {len(plan.conflicts)} conflict{'s' if len(plan.conflicts) != 1 else ''} (will not apply)"
    return text


def _steps(plan: Plan) -> list[str]:
    lines = ["| # | phase | step | target | reason | after |", "|---|---|---|---|---|---|"]
    for i, s in enumerate(plan.steps, 1):
        flag = " :warning: disruptive" if s.disruptive else ""
        after = ", ".join(f"`{d}`" for d in s.depends_on) or "-"
        lines.append(
            f"| {i} | {s.phase.value} | `{s.kind.value}`{flag} | `{s.target}` | {_escape(s.reason)} | {after} |"
        )
    lines.append("")
    changed = [s for s in plan.steps if change_lines(s)]
    if changed:
        lines += ["**Changes by target** (secret values shown as `***`)", ""]
        for step in changed:
            lines += [f"`{step.target}` {change_label(step)}", "```diff", *(f"~ {c}" for c in change_lines(step))]
            lines += ["```", ""]
    return lines


def render_markdown(plan: Plan, title: str | None = None) -> str:
    lines = [f"### {title or f'Plan for cluster `{plan.cluster}`'}", "", f"**{summary(plan)}**", ""]
    if plan.after_merge:
        lines += ["**Applies after merge** (this plan connected only to the protected branch's targets)", ""]
        lines += [f"- {_escape(c)}" for c in plan.after_merge] + [""]
    if plan.conflicts:
        lines += ["**Conflicts**", ""] + [f"- :no_entry: {_escape(c)}" for c in plan.conflicts] + [""]
    if order := upgrade_order(plan):
        lines += ["**Upgrade order** (every intermediate Talos/Kubernetes pair is in Talos's support matrix)", ""]
        lines += [_escape(line) for line in order] + [""]
    if plan.steps and len(plan.steps) > FOLD_AFTER:
        # GitHub and Gitea render markdown inside <details> only with blank lines around it.
        lines += [f"<details><summary>{_escape(outline(plan))}</summary>", "", *_steps(plan), "</details>", ""]
    elif plan.steps:
        lines += _steps(plan)
    if plan.notes:
        lines += ["**Notes**", ""] + [f"- {_escape(n)}" for n in plan.notes] + [""]
    return "\n".join(lines)

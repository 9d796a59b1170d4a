"""Markdown for PR comments: a summary line, a table of steps by phase, conflicts and notes."""

from __future__ import annotations

from runner.core.steps import Plan


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary(plan: Plan) -> str:
    if plan.empty and not plan.conflicts:
        return "No changes: the cluster matches the spec."
    n = len(plan.steps)
    d = len(plan.disruptive)
    text = f"{n} step{'s' if n != 1 else ''}"
    if d:
        text += f", {d} disruptive"
    if plan.conflicts:
        text += f", {len(plan.conflicts)} conflict{'s' if len(plan.conflicts) != 1 else ''} (will not apply)"
    return text


def render_markdown(plan: Plan, title: str | None = None) -> str:
    lines = [f"### {title or f'Plan for cluster `{plan.cluster}`'}", "", f"**{summary(plan)}**", ""]
    if plan.after_merge:
        lines += ["**Applies after merge** (this plan connected only to the protected branch's targets)", ""]
        lines += [f"- {_escape(c)}" for c in plan.after_merge] + [""]
    if plan.conflicts:
        lines += ["**Conflicts**", ""] + [f"- :no_entry: {_escape(c)}" for c in plan.conflicts] + [""]
    if plan.steps:
        lines += ["| # | phase | step | target | reason | after |", "|---|---|---|---|---|---|"]
        for i, s in enumerate(plan.steps, 1):
            flag = " :warning: disruptive" if s.disruptive else ""
            after = ", ".join(f"`{d}`" for d in s.depends_on) or "-"
            lines.append(
                f"| {i} | {s.phase.value} | `{s.kind.value}`{flag} | `{s.target}` | {_escape(s.reason)} | {after} |"
            )
        lines.append("")
    diffs = [s for s in plan.steps if s.params.get("changes")]
    if diffs:
        lines += ["**Machine config changes** (secret values shown as `***`)", ""]
        for step in diffs:
            lines += [f"`{step.target}`", "```diff", *(f"~ {c}" for c in step.params["changes"]), "```", ""]
    if plan.notes:
        lines += ["**Notes**", ""] + [f"- {_escape(n)}" for n in plan.notes] + [""]
    return "\n".join(lines)

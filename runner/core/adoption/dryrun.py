"""Talos's verdict on a config from `talosctl apply-config --dry-run`, read tolerantly.

machined answers "Dry run summary:\\n<mode details> (skipped in dry-run).\\n<diff>" where the mode details are
"Applied configuration with a reboot", "... without a reboot" or "Staged configuration to be applied after the
next reboot", and the diff is "Config diff:\\n\\n<unified diff>" or "No changes." (siderolabs/talos v1.11.2
internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go ApplyConfiguration, generateDiff). Anything
else (an older twin, a maintenance-mode node) is kept as said, with the reboot left unknown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DryRunVerdict:
    summary: str  # the mode line as Talos said it
    reboot: bool | None  # None: Talos did not say
    changes: bool | None  # None: no diff in the answer


def parse_dry_run(text: str) -> DryRunVerdict:
    lines = [line.strip() for line in text.splitlines()]
    summary = ""
    for i, line in enumerate(lines):
        if line.startswith("Dry run summary:"):
            rest = line.removeprefix("Dry run summary:").strip()
            summary = rest or next((x for x in lines[i + 1 :] if x), "")
            break
    lowered = summary.lower()
    reboot: bool | None = None
    if "without a reboot" in lowered:
        reboot = False
    elif "with a reboot" in lowered or "after the next reboot" in lowered:
        reboot = True
    changes: bool | None = None
    if any(line.startswith("No changes") for line in lines):
        changes = False
    elif "Config diff:" in lines:
        after = lines[lines.index("Config diff:") + 1 :]
        changes = any(x.startswith(("+", "-")) and not x.startswith(("+++", "---")) for x in after)
    return DryRunVerdict(
        summary.removesuffix(".").removesuffix(" (skipped in dry-run)") or text.strip()[:200], reboot, changes
    )

"""A small Dockerfile reader for the image tests: instructions, ARG defaults, stages (no docker needed)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    value: str


@dataclass
class Stage:
    image: str  # after ARG substitution
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [i.value for i in self.instructions if i.keyword == keyword]


def instructions(path: Path) -> list[Instruction]:
    """Logical instructions: comments dropped, backslash continuations joined, keywords upper-cased."""
    found: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, value = text.partition(" ")
        found.append(Instruction(start, keyword.upper(), value.strip()))
    assert not pending, f"{path}: the last instruction ends with a continuation"
    return found


def _substitute(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


def stages(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages); each stage's ARG defaults are kept in its instructions."""
    global_args: dict[str, str] = {}
    found: list[Stage] = []
    for inst in instructions(path):
        if inst.keyword == "FROM":
            words = inst.value.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(_substitute(words[0], global_args), name))
        elif not found:
            assert inst.keyword == "ARG", f"{path}:{inst.line}: only ARG may come before the first FROM"
            key, _, default = inst.value.partition("=")
            global_args[key] = default
        else:
            found[-1].instructions.append(inst)
    return global_args, found


def stage_args(stage: Stage) -> dict[str, str]:
    return dict(value.partition("=")[::2] for value in stage.values("ARG"))


def exec_form(value: str) -> list[str]:
    """ENTRYPOINT/CMD: the JSON exec form, or the shell words."""
    if value.startswith("["):
        import json

        parsed: list[str] = json.loads(value)
        return parsed
    return shlex.split(value)

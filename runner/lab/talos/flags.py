"""A small cobra/pflag-compatible command-line parser: the same flag syntax and the same error texts.

Why not argparse: talosctl is a Go/cobra program, and the driver (and the people reading its errors)
depend on cobra's behaviour: `--flag=value`, `--flag value`, `-n a,b`, bool flags that take no value,
flags before or after the sub-command, and errors like `unknown flag: --foo`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class UsageError(Exception):
    """A cobra usage error; the message is exactly what cobra returns."""


@dataclass(frozen=True)
class Flag:
    name: str
    kind: str  # bool | string | strings | array | duration | int | enum
    default: Any = None
    short: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


@dataclass
class Command:
    name: str
    flags: list[Flag] = field(default_factory=list)
    args: tuple[int, int | None] = (0, 0)  # min, max positional args (None = unbounded)
    children: dict[str, Command] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    runnable: bool = True

    def child(self, name: str) -> Command | None:
        return next((c for c in self.children.values() if name == c.name or name in c.aliases), None)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration (seconds as float)."""
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f'time: invalid duration "{text}"')
    return total


def _convert(flag: Flag, raw: str, current: Any) -> Any:
    try:
        if flag.kind == "bool":
            if raw.lower() not in ("1", "t", "true", "0", "f", "false"):
                raise ValueError(f'strconv.ParseBool: parsing "{raw}": invalid syntax')
            return raw.lower() in ("1", "t", "true")
        if flag.kind == "strings":
            return [*(current or []), *[s for s in raw.split(",") if s]]
        if flag.kind == "array":
            return [*(current or []), raw]
        if flag.kind == "duration":
            return parse_duration(raw)
        if flag.kind == "int":
            return int(raw)
        if flag.kind == "enum" and raw not in flag.choices:
            raise ValueError(f"possible options are: {', '.join(sorted(flag.choices))}")
        return raw
    except ValueError as e:
        message = str(e) if flag.kind != "int" else f'strconv.ParseInt: parsing "{raw}": invalid syntax'
        raise UsageError(f'invalid argument "{raw}" for "{flag.label}" flag: {message}') from e


@dataclass
class Parsed:
    path: list[str]
    command: Command
    values: dict[str, Any]
    args: list[str]
    explicit: set[str]


def _find(root: Command, argv: list[str], globals_: list[Flag]) -> tuple[list[str], Command, list[str]]:
    """Cobra's Find: walk non-flag words down the command tree, skipping flags and their values."""
    cmd, path, rest, i = root, [], [], 0
    positional_seen = False
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest.extend(argv[i:])
            break
        if token.startswith("-") and len(token) > 1:
            rest.append(token)
            flags = {f.name: f for f in [*globals_, *cmd.flags]}
            shorts = {f.short: f for f in flags.values() if f.short}
            flag = flags.get(token[2:]) if token.startswith("--") else shorts.get(token[1:2])
            attached = "=" in token if token.startswith("--") else len(token) > 2
            if flag is not None and flag.kind != "bool" and not attached and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        elif not positional_seen and (child := cmd.child(token)) is not None:
            cmd = child
            path.append(child.name)
        else:
            positional_seen = True
            rest.append(token)
        i += 1
    return path, cmd, rest


def parse(root: Command, argv: list[str], globals_: list[Flag]) -> Parsed:
    path, cmd, rest = _find(root, argv, globals_)
    flags = {f.name: f for f in [*globals_, *cmd.flags]}
    shorts = {f.short: f for f in flags.values() if f.short}
    values: dict[str, Any] = {f.name: f.default for f in flags.values()}
    explicit: set[str] = set()
    args: list[str] = []
    i = 0
    while i < len(rest):
        token = rest[i]
        i += 1
        if token == "--":
            args.extend(rest[i:])
            break
        if token.startswith("--"):
            name, eq, raw = token[2:].partition("=")
            flag = flags.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
            if not eq:
                if flag.kind == "bool":
                    raw = "true"
                elif i < len(rest):
                    raw, i = rest[i], i + 1
                else:
                    raise UsageError(f"flag needs an argument: --{name}")
            values[name] = _convert(flag, raw, values[name] if name in explicit else None)
            explicit.add(name)
        elif token.startswith("-") and len(token) > 1:
            j = 1
            while j < len(token):
                letter = token[j]
                flag = shorts.get(letter)
                if flag is None:
                    raise UsageError(f"unknown shorthand flag: '{letter}' in {token}")
                if flag.kind == "bool":
                    with_value = token[j + 1 : j + 2] == "="
                    values[flag.name] = _convert(flag, token[j + 2 :] if with_value else "true", None)
                    explicit.add(flag.name)
                    if with_value:
                        break
                    j += 1  # combined bool shorthands: -fi
                    continue
                raw = token[j + 1 :].removeprefix("=")
                if not raw:
                    if i >= len(rest):
                        raise UsageError(f"flag needs an argument: '{letter}' in {token}")
                    raw, i = rest[i], i + 1
                values[flag.name] = _convert(flag, raw, values[flag.name] if flag.name in explicit else None)
                explicit.add(flag.name)
                break
        else:
            args.append(token)
    if values.get("help"):
        return Parsed(path, cmd, values, args, explicit)
    _check_args(path, cmd, args)
    return Parsed(path, cmd, values, args, explicit)


def _check_args(path: list[str], cmd: Command, args: list[str]) -> None:
    low, high = cmd.args
    where = " ".join(["talosctl", *path])
    if not cmd.runnable or (high == 0 and args):
        if args:
            raise UsageError(f'unknown command "{args[0]}" for "{where}"')
        return
    if high is not None and low == high and len(args) != low:
        raise UsageError(f"accepts {low} arg(s), received {len(args)}")
    if low == 0 and high is not None and len(args) > high:
        raise UsageError(f"accepts at most {high} arg(s), received {len(args)}")
    if low and high is not None and not low <= len(args) <= high:
        raise UsageError(f"accepts between {low} and {high} arg(s), received {len(args)}")

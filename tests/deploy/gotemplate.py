"""The subset of Helm's Go templates the runner's chart uses, to render it in tests without helm.

Supported: `{{ pipeline }}` with `{{-`/`-}}` whitespace trimming; `if`/`else`/`end`; pipelines of field
references (`.Values.a.b`, `.Release.Name`, `.Chart.AppVersion`), string literals and the functions below,
where `x | f a` means `f a x` as in Go. A reference to a value that is not there is an error here (Helm
would print `<no value>`), so a typo in a template fails the tests. Anything else is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Callable
from typing import Any

import yaml

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)


def _indent(n: int, text: str) -> str:
    return "\n".join(" " * n + line for line in str(text).split("\n"))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "quote": lambda v: json.dumps("" if v is None else str(v), ensure_ascii=False),  # sprig: Go's %q
    "default": lambda d, v=None: v if v else d,
    "not": lambda v: not v,
    # sprig toYaml: sigs.k8s.io/yaml (keys sorted), trailing newline dropped
    "toYaml": lambda v: yaml.safe_dump(v, sort_keys=True, default_flow_style=False).rstrip("\n"),
    "indent": lambda n, v: _indent(int(n), v),
    "nindent": lambda n, v: "\n" + _indent(int(n), v),
    "sha256sum": lambda v: hashlib.sha256(str(v).encode()).hexdigest(),
}


class TemplateError(ValueError):
    pass


def _lookup(ref: str, context: dict[str, Any]) -> Any:
    value: Any = context
    for part in ref.strip(".").split("."):
        if not isinstance(value, dict) or part not in value:
            raise TemplateError(f"no value at {ref}")
        value = value[part]
    return value


def _word(word: str, context: dict[str, Any]) -> Any:
    if word.startswith("."):
        return _lookup(word, context)
    if word.startswith('"'):
        parsed: str = json.loads(word)
        return parsed
    if re.fullmatch(r"-?\d+", word):
        return int(word)
    raise TemplateError(f"cannot evaluate {word!r}")


def _command(words: list[str], context: dict[str, Any], piped: list[Any]) -> Any:
    head, *args = words
    if head in FUNCTIONS:
        return FUNCTIONS[head](*[_word(a, context) for a in args], *piped)
    if args or piped:
        raise TemplateError(f"{head!r} is not a function")
    return _word(head, context)


def evaluate(pipeline: str, context: dict[str, Any]) -> Any:
    value: list[Any] = []
    for command in pipeline.split("|"):
        words = shlex.split(command, posix=False)
        value = [_command(words, context, value)]
    return value[0]


def render(template: str, context: dict[str, Any]) -> str:
    """Render with Go's rules for `if` (empty values are false) and whitespace trimming."""
    pieces: list[tuple[str, str]] = []  # ("text", s) or ("action", s)
    position = 0
    for match in ACTION.finditer(template):
        text = template[position : match.start()]
        if match.group(1):
            text = text.rstrip(" \t\n")
        pieces.append(("text", text))
        pieces.append(("action", match.group(2)))
        position = match.end()
        if match.group(3):
            rest = template[position:]
            position += len(rest) - len(rest.lstrip(" \t\n"))
    pieces.append(("text", template[position:]))
    out: list[str] = []
    stack: list[bool] = []  # per open `if`: is this branch shown
    for kind, body in pieces:
        shown = all(stack)
        if kind == "text":
            if shown:
                out.append(body)
        elif body.startswith("if "):
            stack.append(bool(evaluate(body[3:], context)) if shown else False)
        elif body == "else":
            stack[-1] = not stack[-1] and all(stack[:-1])
        elif body == "end":
            stack.pop()
        elif shown:
            value = evaluate(body, context)
            out.append("" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
    if stack:
        raise TemplateError("an `if` without its `end`")
    return "".join(out)

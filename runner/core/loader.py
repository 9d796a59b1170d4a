"""Load cluster.yaml into the frozen models, keeping line numbers for every error.

Every problem (YAML syntax, wrong types, unknown keys, semantic conflicts) comes back at once as a
`Problem` with `file:line:col`, so an operator fixes a file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from runner.core.errors import Problem, SpecInvalid
from runner.core.input_limits import check_text
from runner.core.spec import Cluster

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """A parsed document plus the means to turn a field path into a line and column."""

    file: str
    root: Any

    def position(self, path: FieldPath) -> tuple[int | None, int | None]:
        """1-based line/col of the deepest node on `path` that exists in the document."""
        node: Any = self.root
        line, col = (1, 1) if node is not None else (None, None)
        for part in path:
            try:
                if isinstance(node, CommentedMap) and part in node:
                    ln, cl = node.lc.key(part)
                    line, col, node = ln + 1, cl + 1, node[part]
                elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                    ln, cl = node.lc.item(part)
                    line, col, node = ln + 1, cl + 1, node[part]
                else:
                    break
            except (KeyError, TypeError, AttributeError):
                break
        return line, col

    def problem(self, path: FieldPath, message: str, severity: str = "error") -> Problem:
        line, col = self.position(path)
        return Problem(self.file, line, col, format_path(path), message, severity)


def format_path(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_yaml(text: str, file: str) -> Located:
    """Parse one YAML document with line info; syntax errors become a SpecInvalid with the mark."""
    check_text(text, file)  # hostile input (huge, control characters, alias bombs, deep nesting) stops here
    yaml = YAML(typ="rt")
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        msg = f"invalid YAML: {exc.problem or exc.context}"
        raise SpecInvalid([Problem(file, line, col, "", msg)]) from None
    except YAMLError as exc:
        raise SpecInvalid([Problem(file, None, None, "", f"invalid YAML: {exc}")]) from None
    return Located(file, root)


def plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists (string keys)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def _field_names(model: type[BaseModel], path: FieldPath) -> list[str]:
    """YAML key names allowed at `path` (for "did you mean")."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        info = getattr(current, "model_fields", {}).get(_py_name(current, part))
        if info is None:
            return []
        current = _model_in(info.annotation)
    fields = getattr(current, "model_fields", {})
    return [info.alias or name for name, info in fields.items()]


def _py_name(model: Any, alias: str) -> str:
    for name, info in getattr(model, "model_fields", {}).items():
        if (info.alias or name) == alias:
            return str(name)
    return alias


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _message(err: Any, path: FieldPath) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1])
        choices = _field_names(Cluster, path[:-1])
        close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else (f" (allowed: {', '.join(choices)})" if choices else "")
        return f"unknown field '{key}'{hint}"
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"]).removeprefix("Value error, ")  # the field types' own messages read as they are
    if "input" in err and kind not in ("model_type", "dict_type"):
        value = err["input"]
        if isinstance(value, str | int | float | bool):
            return f"{value!r}: {msg}"
    return msg


def load_cluster(text: str, file: str) -> tuple[Cluster, Located]:
    """Parse and type-check a cluster.yaml; raises SpecInvalid listing every problem."""
    located = parse_yaml(text, file)
    if not isinstance(located.root, CommentedMap):
        raise SpecInvalid([Problem(file, 1, 1, "", "expected a mapping (a Cluster document)")])
    try:
        cluster = Cluster.model_validate(plain(located.root))
    except ValidationError as exc:
        errors = [(tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p)), e) for e in exc.errors()]
        problems = [
            located.problem(path, _message(err, path))
            for path, err in errors
            # A list whose items failed also reports being "too short" once they are dropped: noise.
            if not (
                err["type"] == "too_short" and any(len(o) > len(path) and o[: len(path)] == path for o, _ in errors)
            )
        ]
        raise SpecInvalid(sorted(problems, key=lambda p: (p.line or 0, p.col or 0))) from None
    return cluster, located

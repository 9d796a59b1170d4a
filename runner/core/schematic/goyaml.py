"""A byte-exact port of the Go YAML encoder's output for the trees Talos tools marshal.

The Image Factory identifies a schematic by the sha256 of `yaml.Marshal(schematic)` (go-yaml, v3 defaults:
4-space indent, non-compact sequences, unlimited line width, unicode on). To compute the same id without
asking the factory, the exact bytes must match, so this module ports the emitter's decisions rather than
using a Python YAML dumper: scalar style selection (representer -> desolver -> emitter analysis), block
layout and indentation rules, literal block hints. Source: github.com/yaml/go-yaml `internal/libyaml`
(representer.go, desolver.go, resolver.go, emitter.go), v4.0.0-rc.6; the v3.0.1 encoder gives the same
bytes except that it double-quotes YAML 1.1 booleans (`yes`, `on`, ...) where v4 single-quotes them.

Trees are dicts (ordered, emitted in insertion order like struct fields), lists, str, int, bool and None.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from runner.core.schematic.goscalar import (
    ScalarAnalysis,
    analyze_scalar,
    double_quoted,
    is_line_break,
    representer_style,
)

BEST_INDENT = 4
SHORT_SCALAR = 64  # scalars up to this length have their style cached
_BREAK_SPLIT = re.compile("([\r\n\x85\u2028\u2029])")  # keeps each break as its own piece
Tree = dict[str, Any] | list[Any] | str | int | bool | None


class _Emitter:
    """Just the emitter state the block-style paths read: column, whitespace and indention flags."""

    __slots__ = ("column", "indention", "out", "whitespace")

    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True

    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def line_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def write_indent(self, indent: int) -> None:
        indent = max(indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.line_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = True

    def indicator(self, text: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    # --- scalars -------------------------------------------------------------------------------------

    def plain(self, value: str) -> None:
        if value:
            if not self.whitespace:
                self.out.append(" ")
                self.column += 1
            self.out.append(value)
            self.column += len(value)
            self.whitespace = False
        self.indention = False

    def scalar(self, value: str, style: str, indent: int) -> None:
        if style == "plain":
            self.plain(value)
        elif style == "single":
            self._single_quoted(value, indent)
        elif style == "double":
            self.indicator('"', True, False, False)
            self.put(double_quoted(value))
            self.indicator('"', False, False, False)
            self.whitespace = False
            self.indention = False
        else:
            self._literal(value, indent)

    def _single_quoted(self, value: str, indent: int) -> None:
        self.indicator("'", True, False, False)
        breaks = False
        for ch in value:
            if ch == " ":
                self.put(ch)  # no folding: the factory marshals with an unlimited line width
            elif is_line_break(ch):
                if not breaks and ch == "\n":
                    self.line_break()
                self._raw_break(ch)
                breaks = True
            else:
                if breaks:
                    self.write_indent(indent)
                self.put("''" if ch == "'" else ch)
                self.indention = False
                breaks = False
        self.indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def _raw_break(self, ch: str) -> None:
        if ch == "\n":
            self.line_break()
        else:
            self.out.append(ch)
            self.column = 0
            self.indention = True

    def _literal(self, value: str, indent: int) -> None:
        self.indicator("|", True, False, False)
        hints = ""
        if value.startswith(" "):
            hints += str(BEST_INDENT)
        if not value or not is_line_break(value[-1]):
            hints += "-"
        elif len(value) == 1 or is_line_break(value[-2]):
            hints += "+"
        if hints:
            self.indicator(hints, False, False, False)
        self.line_break()
        self.whitespace = True
        # Whole runs between line breaks at once. Every run follows a break (or the header's), where the
        # emitter stands at column 0 with `whitespace` set, so writeIndent only pads: the same bytes and
        # final state as writing the characters one by one.
        pad = " " * max(indent, 0)
        for piece in _BREAK_SPLIT.split(value):
            if not piece:
                continue
            if is_line_break(piece):
                self.out.append(piece)
                self.column = 0
                self.indention = True
            else:
                self.out.append(pad)
                self.out.append(piece)
                self.column = len(pad) + len(piece)
                self.indention = False


@lru_cache(maxsize=2048)
def _short_style(value: str, simple_key: bool) -> str:
    # Pure in its arguments; the same short keys and values recur in every node's documents.
    return _select_style(value, analyze_scalar(value), simple_key)


def _style_of(value: str, simple_key: bool) -> str:
    if len(value) <= SHORT_SCALAR:
        return _short_style(value, simple_key)
    return _select_style(value, analyze_scalar(value), simple_key)


def _select_style(value: str, analysis: ScalarAnalysis, simple_key: bool) -> str:
    """emitter.selectScalarStyle, starting from the style the representer and desolver chose."""
    style = representer_style(value)
    if simple_key and analysis.multiline:
        style = "double"
    if style == "plain" and (not analysis.block_plain_allowed or (not value and simple_key)):
        style = "single"
    if style == "single" and not analysis.single_quoted_allowed:
        style = "double"
    if style == "literal" and (not analysis.block_allowed or simple_key):
        style = "double"
    return style


def _increase(indent: int, in_sequence_item: bool, flow: bool = False) -> int:
    """emitter.increaseIndentCompact with compact sequences off."""
    if indent < 0:
        return BEST_INDENT if flow else 0
    if in_sequence_item:
        return indent + 2
    return BEST_INDENT * ((indent + BEST_INDENT) // BEST_INDENT)


def _scalar_text(value: str | int | bool | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _emit(em: _Emitter, node: Tree, indent: int, in_sequence_item: bool, simple_key: bool = False) -> None:
    if isinstance(node, str):  # the common case first
        style = _style_of(node, simple_key)
        if style == "plain":
            em.plain(node)
        else:
            em.scalar(node, style, _increase(indent, in_sequence_item, flow=True))
        return
    if isinstance(node, dict | list) and not node:  # go-yaml writes an empty collection in flow style
        start, end = ("{", "}") if isinstance(node, dict) else ("[", "]")
        em.indicator(start, True, True, False)
        em.indicator(end, False, False, False)
        return
    if isinstance(node, dict):
        inner = _increase(indent, in_sequence_item)
        for key, value in node.items():
            em.write_indent(inner)
            _emit(em, key, inner, False, simple_key=True)
            em.indicator(":", False, False, False)
            _emit(em, value, inner, False)
        return
    if isinstance(node, list):
        inner = _increase(indent, in_sequence_item)
        for item in node:
            em.write_indent(inner)
            em.indicator("-", True, False, True)
            _emit(em, item, inner, True)
        return
    em.plain(_scalar_text(node))


def dump(tree: dict[str, Any]) -> str:
    """`yaml.Marshal` of a struct-like tree, byte for byte."""
    em = _Emitter()
    _emit(em, tree, -1, False)
    em.write_indent(0)  # document end: terminate the last line
    return "".join(em.out)

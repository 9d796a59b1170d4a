"""Bounds on a spec file before it is built into objects: size, characters, nesting, aliases, numbers.

A cluster.yaml may come from any branch or pull request, so it is untrusted input. YAML can describe far
more than it spells out: an alias repeats a whole subtree, so ten lines of anchors and aliases (the
"billion laughs" file) stand for 10^9 values, and deep nesting exhausts the parser's recursion. Both are
measured on the parser's event stream, which never expands anything, so a hostile file is refused before
any of its values exists. Every problem names the file and, where there is one, the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)

from runner.core.errors import Problem, SpecInvalid

MAX_SPEC_BYTES = 1024 * 1024  # a 500-node cluster.yaml is about 60 KiB
MAX_DEPTH = 32  # the spec itself nests 4 levels deep
MAX_VALUES = 100_000  # keys and values after expanding every alias; a 500-node spec has about 10,000
MAX_NUMBER_CHARS = 40  # the widest number the spec takes (a VMID, bytes of a disk) has 20 digits

# YAML 1.2 (5.1 "Character Set") allows tab, LF, CR, NEL and the printable ranges; everything else is refused.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Flow brackets outside comments and quoted scalars: how deep `[[[...` nests, counted before the YAML scanner
# sees it (the scanner keeps every open bracket as a possible key, so deep nesting costs it quadratic time).
_FLOW_TOKEN = re.compile(
    r"""[\[\]{}]|(?:^|(?<=\s))\#[^\n]*|(?:^|(?<=[\s\[{,:]))(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*')""", re.M
)
# A plain scalar YAML 1.2's core schema reads as an integer or float (underscores as ruamel accepts them).
_NUMBER = re.compile(r"[-+]?(0[xob])?[0-9a-fA-F_.]+([eE][-+]?[0-9_]+)?")


def line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def check_size(size: int, file: str) -> None:
    if size > MAX_SPEC_BYTES:
        raise SpecInvalid(
            [Problem(file, None, None, "", f"is {size} bytes; a spec file may be at most {MAX_SPEC_BYTES} bytes")]
        )


def decode_spec(data: bytes, file: str) -> str:
    """The text of a spec file: size checked before decoding, and a decoding error located."""
    check_size(len(data), file)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line, col = line_col(before, len(before))
        why = f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        raise SpecInvalid([Problem(file, line, col, "", why)]) from None


def check_characters(text: str, file: str) -> None:
    found = _FORBIDDEN.search(text)
    if found is not None:
        line, col = line_col(text, found.start())
        code = f"U+{ord(found.group()):04X}"
        raise SpecInvalid([Problem(file, line, col, "", f"control character {code} is not allowed in YAML")])


def check_flow_depth(text: str, file: str) -> None:
    depth = 0
    for token in _FLOW_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                _refuse(file, line_col(text, token.start())[0], f"nested more than {MAX_DEPTH} levels deep")
        elif bracket in "]}":
            depth = max(depth - 1, 0)


def check_structure(text: str, file: str) -> None:
    """Walk the event stream once: nesting depth, alias expansion and number width, without building values."""
    check_flow_depth(text, file)
    try:
        _walk(YAML(typ="rt").parse(text), file)
    except YAMLError:
        return  # a syntax error: the loader reports it with its position


def _refuse(file: str, line: int | None, message: str) -> NoReturn:
    raise SpecInvalid([Problem(file, line, None, "", message)])


def _walk(events: Iterator[Any], file: str) -> None:
    sizes: dict[str, int] = {}  # anchor -> values in its subtree, aliases expanded
    open_anchors: list[str | None] = []
    counts: list[int] = [0]  # values so far in each open collection (the outermost is the stream)
    for event in events:
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, CollectionStartEvent):
            if len(open_anchors) >= MAX_DEPTH:
                _refuse(file, line, f"nested more than {MAX_DEPTH} levels deep")
            open_anchors.append(event.anchor)
            counts.append(1)
        elif isinstance(event, CollectionEndEvent):
            anchor, size = open_anchors.pop(), counts.pop()
            if anchor is not None:
                sizes[anchor] = size
            counts[-1] += size
        elif isinstance(event, ScalarEvent):
            if not event.style and len(event.value) > MAX_NUMBER_CHARS and _NUMBER.fullmatch(event.value):
                _refuse(file, line, f"a number of {len(event.value)} characters is out of range")
            if event.anchor is not None:
                sizes[event.anchor] = 1
            counts[-1] += 1
        elif isinstance(event, AliasEvent):
            if event.anchor in open_anchors:
                _refuse(file, line, f"alias *{event.anchor} refers to a value that contains it")
            counts[-1] += sizes.get(event.anchor, 1)  # an unknown anchor is the loader's error to report
        if sum(counts) > MAX_VALUES:
            _refuse(file, line, f"more than {MAX_VALUES} values once aliases are expanded")


def check_text(text: str, file: str) -> None:
    """Everything about a spec's text that must hold before it is parsed into values."""
    check_size(len(text), file)
    check_size(len(text.encode("utf-8", "surrogatepass")), file)
    check_characters(text, file)
    check_structure(text, file)

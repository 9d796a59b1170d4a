"""How go-yaml decides what a string scalar looks like: the resolver, the representer's style and the
emitter's analysis (ported from github.com/yaml/go-yaml internal/libyaml resolver.go, representer.go,
desolver.go and emitter.go `analyzeScalar`, v4.0.0-rc.6). Also used to read plain scalars the way the
factory's decoder does (`resolve`).
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass

_LINE_BREAKS = frozenset("\r\n\x85\u2028\u2029")
_BLANK_OR_ZERO = frozenset(" \t\0") | _LINE_BREAKS
# unicode.IsSpace in Go: White_Space property.
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}
_RESOLVE_MAP = {
    **dict.fromkeys(("true", "True", "TRUE", "false", "False", "FALSE"), "bool"),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), "null"),
    **dict.fromkeys((".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), "float"),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF", "-0", "-0.0"), "float"),
    "<<": "merge",
}
_OLD_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF")
)
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d{1,9})?(?:Z|[-+]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d{1,9})?))?"
)
_ESCAPES = {0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f", 0x0D: "r", 0x1B: "e"}
_ESCAPES |= {0x22: '"', 0x5C: "\\", 0x85: "N", 0xA0: "_", 0x2028: "L", 0x2029: "P"}


def is_line_break(ch: str) -> bool:
    return ch in _LINE_BREAKS


def is_printable(ch: str) -> bool:
    c = ord(ch)
    return c == 0x0A or 0x20 <= c <= 0x7E or 0xA0 <= c <= 0xD7FF or (0xE000 <= c <= 0xFFFD and c != 0xFEFF)


def _go_int(text: str) -> int | None:
    """strconv.ParseInt/ParseUint with base 0, as the resolver calls them (64-bit range)."""
    if not _GO_INT.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXoObB":
        value = int(digits, 8)
    else:
        value = int(digits, 0) if len(digits) > 1 else int(digits)
    value *= sign
    return value if -(2**63) <= value < 2**64 else None


def _timestamp(text: str) -> bool:
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        return False
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    clock = [int(g) for g in (m[4] or m[7], m[5] or m[8], m[6] or m[9]) if g is not None]
    return not clock or (clock[0] < 24 and clock[1] < 60 and clock[2] < 60)


def resolve(text: str) -> tuple[str, object]:
    """The tag (str, int, float, bool, null, timestamp, merge) and value a plain scalar resolves to."""
    if text in _RESOLVE_MAP:
        tag = _RESOLVE_MAP[text]
        value: object = {"bool": text.lower() == "true", "null": None, "merge": text}.get(tag, text)
        return tag, value
    first = text[0]
    if first == ".":
        return ("float", float(text)) if _DOT_FLOAT.fullmatch(text) else ("str", text)
    if first not in "+-0123456789":
        return "str", text
    if _timestamp(text):
        return "timestamp", text
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return "int", number
    if _YAML_FLOAT.fullmatch(plain) and math.isfinite(float(plain)):
        return "float", float(plain)
    return "str", text


def _literal_worthy(text: str) -> bool:
    return "\n" in text and len(text.encode()) >= 2 and any(ch not in _GO_SPACE for ch in text)


def representer_style(text: str) -> str:
    """Style after the representer and desolver: plain, single, double or literal."""
    if "\n" in text:
        return "literal" if _literal_worthy(text) else "double"
    if text in _OLD_BOOLS or text == "<<" or (text[:1] in "+-0123456789" and ":" in text and _BASE60.fullmatch(text)):
        return "single"
    return "plain" if resolve(text)[0] == "str" else "double"


@dataclass(frozen=True)
class ScalarAnalysis:
    multiline: bool
    block_plain_allowed: bool
    single_quoted_allowed: bool
    block_allowed: bool


# The per-character flags of emitter.analyzeScalar as regular expressions: the same answers as walking the
# string one character at a time, at C speed (derive marshals a long META document for every node).
_NOT_PRINTABLE = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd]")  # tab counted apart
_BREAK_CLASS = "\r\n\x85\u2028\u2029"
_ANY_BREAK = re.compile(f"[{_BREAK_CLASS}]")
_BREAK_THEN_SPACE = re.compile(f"[{_BREAK_CLASS}] ")
_SPACE_THEN_BREAK = re.compile(f" [{_BREAK_CLASS}]")
_COLON_BEFORE_WS = re.compile(r":(?=[ \t]|\Z)")
_HASH_AFTER_WS = re.compile(f"[ \t\0{_BREAK_CLASS}]#")
_FLOW_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


def analyze_scalar(text: str) -> ScalarAnalysis:
    """emitter.analyzeScalar (block context, unicode output on)."""
    if not text:
        return ScalarAnalysis(False, True, True, False)
    first, last = text[0], text[-1]
    block_ind = (
        text.startswith(("---", "..."))
        or first in _FLOW_INDICATORS
        or (first in "?:-" and (len(text) == 1 or text[1] in " \t"))
        or _COLON_BEFORE_WS.search(text, 1) is not None
        or _HASH_AFTER_WS.search(text) is not None
    )
    line_breaks = _ANY_BREAK.search(text) is not None
    tabs = "\t" in text
    special = _NOT_PRINTABLE.search(text) is not None
    leading_space, trailing_space = first == " ", last == " "
    leading_break, trailing_break = first in _LINE_BREAKS, last in _LINE_BREAKS
    break_space = _BREAK_THEN_SPACE.search(text) is not None
    space_break = _SPACE_THEN_BREAK.search(text) is not None
    plain = not (leading_space or leading_break or trailing_space or trailing_break or break_space)
    plain = plain and not (space_break or tabs or special or line_breaks or block_ind)
    single = not (break_space or space_break or tabs or special)
    block = not (trailing_space or space_break or special)
    return ScalarAnalysis(line_breaks, plain, single, block)


def double_quoted(text: str) -> str:
    """The body of a double-quoted scalar (emitter.writeDoubleQuotedScalar, no folding)."""
    starts_with_bom = text.startswith("\ufeff")  # the Go emitter checks the BOM at offset 0 for every char
    out = []
    for ch in text:
        c = ord(ch)
        if starts_with_bom or not is_printable(ch) or is_line_break(ch) or ch in '"\\':
            if c in _ESCAPES:
                out.append("\\" + _ESCAPES[c])
            elif c <= 0xFF:
                out.append(f"\\x{c:02X}")
            elif c <= 0xFFFF:
                out.append(f"\\u{c:04X}")
            else:
                out.append(f"\\U{c:08X}")
        else:
            out.append(ch)
    return "".join(out)

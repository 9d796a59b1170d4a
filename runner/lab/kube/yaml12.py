"""A fast YAML loader for the twin's kustomize build: libyaml's parser with YAML 1.2 core-schema scalars.

kustomize-controller reads manifests with go-yaml v3, where `yes`/`on` stay strings and `012` is decimal, as in YAML
1.2; the pure-Python YAML 1.2 parser takes seconds over the Gateway API CRDs (~800 KB), long enough to time out the
API request that triggers the build. PyYAML's C parser is ten times faster but resolves scalars by YAML 1.1, so its
bool, int and float resolvers are replaced by YAML 1.2's core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution);
null, timestamps and merge keys stay as its safe loader has them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml._yaml import CParser

BOOL, INT, FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
YAMLError = yaml.YAMLError


class _Resolver12(yaml.resolver.Resolver):
    pass


# PyYAML keeps the table on the class (add_implicit_resolver copies it on first write): start from the safe
# loader's, without its YAML 1.1 bool/int/float rules.
_Resolver12.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (BOOL, INT, FLOAT)]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


_Resolver12.add_implicit_resolver(BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver12.add_implicit_resolver(INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
_Resolver12.add_implicit_resolver(
    FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class _Constructor12(yaml.constructor.SafeConstructor):
    pass


def _construct_int(constructor: yaml.constructor.SafeConstructor, node: Any) -> int:
    value = str(constructor.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


_Constructor12.add_constructor(INT, _construct_int)  # type: ignore[type-var]


class Loader12(CParser, _Constructor12, _Resolver12):
    def __init__(self, stream: Any) -> None:
        CParser.__init__(self, stream)
        _Constructor12.__init__(self)
        _Resolver12.__init__(self)


def load_all(text: bytes) -> list[Any]:
    """Every document of `text` (as yaml.safe_load_all does, with YAML 1.2 scalars)."""
    loader = Loader12(text)
    try:
        out = []
        while loader.check_data():  # type: ignore[no-untyped-call]
            out.append(loader.get_data())
        return out
    finally:
        loader.dispose()

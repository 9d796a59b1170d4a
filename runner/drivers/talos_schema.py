"""Validation of machine-config documents against the vendored Talos v1.11 JSON schema.

The schema ships inside the package (runner/vendored/talos, see its README for source and sha256;
the Talos twin reads the same copy) and is read through importlib.resources, so validation works from a
wheel and offline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from runner.core.errors import Permanent
from runner.core.secret import Redactor, reveal_tree
from runner.core.talos.documents import secret_strings

SCHEMA_PACKAGE = "runner.vendored"
SCHEMA_FILE = "talos/config.schema.json"
SCHEMA_SHA256 = "9791769e639e5c211e725825dfd5522524b6fab29a3ca7c43f47295c29f3bf4f"


@cache
def config_schema() -> dict[str, Any]:
    text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(config_schema(), format_checker=FormatChecker())


def schema_errors(document: Mapping[str, Any]) -> list[str]:
    """Every schema violation of one document as `path: message` (empty when valid).

    The root schema is a `oneOf` over document kinds; its message names no field, so each document
    is also checked against the definition of its own kind to say exactly what is wrong.
    """
    plain = reveal_tree(document)
    errors = list(_validator().iter_errors(plain))
    if not errors:
        return []
    definition = _definition_for(plain)
    if definition is not None:
        kind_schema = {"$ref": f"#/$defs/{definition}", "$defs": config_schema()["$defs"]}
        detailed = list(Draft202012Validator(kind_schema, format_checker=FormatChecker()).iter_errors(plain))
        errors = detailed or errors
    # Messages may quote the offending value; never let that be a secret.
    redact = Redactor(secret_strings([document]))
    return sorted(redact(f"{'.'.join(str(p) for p in e.absolute_path) or '<document>'}: {e.message}") for e in errors)


def _definition_for(document: Mapping[str, Any]) -> str | None:
    if "kind" not in document:
        return "v1alpha1.Config"
    for ref in config_schema()["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        kinds = config_schema()["$defs"][name].get("properties", {}).get("kind", {}).get("enum", [])
        if document.get("kind") in kinds:
            return str(name)
    return None


def validate_documents(documents: Sequence[Mapping[str, Any]], source: str = "machine config") -> None:
    """Raise Permanent naming the document and field of every violation; secrets never appear."""
    problems = [
        f"{source} document {index + 1}: {problem}"
        for index, document in enumerate(documents)
        for problem in schema_errors(document)
    ]
    if problems:
        raise Permanent("\n".join(problems))
